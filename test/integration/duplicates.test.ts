import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { collectRejections, heartRate, type Rejected, waitFor } from '../helpers/device.ts';

const MINUTE = 60_000;

const t = useTestService();

interface Connection {
  readonly deviceId: string;
  readonly client: MqttClient;
  /** Messages received on v1/devices/{id}/rejections. */
  readonly received: Rejected[];
  /** Message ids of the PUBACKs received and not yet checked by publish(). */
  readonly pubacks: number[];
}

/** A new MQTT connection for the device, subscribed to its rejections topic. */
async function connect(deviceId: string, secret: string): Promise<Connection> {
  const client = await t.connectDevice(deviceId, secret);
  const pubacks: number[] = [];
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) pubacks.push(packet.messageId);
  });
  const received = await collectRejections(client, deviceId);
  return { deviceId, client, received, pubacks };
}

/** Publishes at QoS 1 on the device's readings topic and checks that its PUBACK arrived. */
async function publish(connection: Connection, message: unknown): Promise<void> {
  const topic = `v1/devices/${connection.deviceId}/readings`;
  const packet = await connection.client.publishAsync(topic, JSON.stringify(message), { qos: 1 });
  const messageId = packet?.messageId;
  expect(messageId).toBeTypeOf('number');
  const at = connection.pubacks.indexOf(messageId as number);
  expect(at, `PUBACK for message ${messageId}`).toBeGreaterThanOrEqual(0);
  connection.pubacks.splice(at, 1);
}

async function metric(name: string): Promise<number> {
  const res = await fetch(`${t.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(await res.text());
  expect(m, `${name} in /metrics`).not.toBeNull();
  return Number(m?.[1]);
}

async function readingsOf(deviceId: string, readingId: string) {
  const { rows } = await t.query(
    'SELECT patient_id, value, measured_at FROM readings WHERE device_id = $1 AND reading_id = $2',
    [deviceId, readingId],
  );
  return rows;
}

async function rejectionsOf(deviceId: string) {
  const { rows } = await t.query<{ reading_id: string | null; reason: string; detail: string; raw: Buffer }>(
    'SELECT reading_id, reason, detail, raw FROM rejections WHERE device_id = $1 ORDER BY id',
    [deviceId],
  );
  return rows;
}

/** The same instant written in RFC 3339 with the given UTC offset, e.g. +05:30. */
function rfc3339WithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * MINUTE).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A whole second, a few minutes ago: every spelling of it is exact. */
function recentSecond(minutesAgo: number): number {
  return Math.floor((Date.now() - minutesAgo * MINUTE) / 1000) * 1000;
}

describe('duplicates and conflicts', () => {
  it('acknowledges a reading resent after a reconnect and stores it once', async () => {
    const secret = await t.provisionDevice('dup-resend');
    const reading = heartRate('r-1', 72, recentSecond(3));
    const duplicatesBefore = await metric('vitalink_readings_duplicate_total');
    const storedBefore = await metric('vitalink_readings_stored_total');

    const first = await connect('dup-resend', secret);
    await publish(first, reading);
    await first.client.endAsync();
    expect(first.client.connected).toBe(false);

    const second = await connect('dup-resend', secret);
    await publish(second, reading);

    const rows = await readingsOf('dup-resend', 'r-1');
    expect(rows).toHaveLength(1);
    expect(rows[0].value).toBe(72);
    expect(await rejectionsOf('dup-resend')).toEqual([]);
    expect(await metric('vitalink_readings_duplicate_total')).toBe(duplicatesBefore + 1);
    expect(await metric('vitalink_readings_stored_total')).toBe(storedBefore + 1);
    expect(second.received).toEqual([]);
  });

  it('stores once a reading published several times without waiting for its PUBACK', async () => {
    const secret = await t.provisionDevice('dup-burst');
    const device = await connect('dup-burst', secret);
    const message = { readings: [heartRate('p-1', 80, recentSecond(5)), heartRate('p-2', 81, recentSecond(5))] };
    const duplicatesBefore = await metric('vitalink_readings_duplicate_total');

    await Promise.all([publish(device, message), publish(device, message), publish(device, message)]);

    expect(await readingsOf('dup-burst', 'p-1')).toHaveLength(1);
    expect(await readingsOf('dup-burst', 'p-2')).toHaveLength(1);
    expect(await rejectionsOf('dup-burst')).toEqual([]);
    expect(await metric('vitalink_readings_duplicate_total')).toBe(duplicatesBefore + 4);
  });

  it('treats the same id and instant written in another offset, or in epoch ms, as a duplicate', async () => {
    const secret = await t.provisionDevice('dup-offset');
    const device = await connect('dup-offset', secret);
    const at = recentSecond(10);
    const duplicatesBefore = await metric('vitalink_readings_duplicate_total');

    await publish(device, heartRate('o-1', 66, new Date(at).toISOString()));
    await publish(device, heartRate('o-1', 66, rfc3339WithOffset(at, 5 * 60 + 30)));
    await publish(device, heartRate('o-1', 66, rfc3339WithOffset(at, -3 * 60)));
    await publish(device, heartRate('o-1', 66, at));

    const rows = await readingsOf('dup-offset', 'o-1');
    expect(rows).toHaveLength(1);
    expect((rows[0].measured_at as Date).getTime()).toBe(at);
    expect(await rejectionsOf('dup-offset')).toEqual([]);
    expect(await metric('vitalink_readings_duplicate_total')).toBe(duplicatesBefore + 3);
    expect(device.received).toEqual([]);
  });

  it('keeps the first of two readings with the same id and different values, and rejects the second as conflict', async () => {
    const secret = await t.provisionDevice('dup-conflict');
    const device = await connect('dup-conflict', secret);
    const at = recentSecond(4);
    const conflicting = heartRate('c-1', 91, at);
    const duplicatesBefore = await metric('vitalink_readings_duplicate_total');

    await publish(device, heartRate('c-1', 90, at));
    await publish(device, conflicting);

    const rows = await readingsOf('dup-conflict', 'c-1');
    expect(rows).toHaveLength(1);
    expect(rows[0].value).toBe(90);
    const rejections = await rejectionsOf('dup-conflict');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ reading_id: 'c-1', reason: 'conflict' });
    expect(rejections[0].raw.toString('utf8')).toBe(JSON.stringify(conflicting));
    expect(rejections[0].detail.length).toBeGreaterThan(0);
    const messages = await waitFor(() => device.received.length > 0 && device.received, 'the conflict message');
    expect(messages).toEqual([{ id: 'c-1', reason: 'conflict', detail: rejections[0].detail }]);
    expect(await metric('vitalink_readings_duplicate_total')).toBe(duplicatesBefore);
  });

  it('stores one row for the same reading twice in one batch', async () => {
    const secret = await t.provisionDevice('dup-batch-same');
    const device = await connect('dup-batch-same', secret);
    const reading = heartRate('b-1', 75, recentSecond(2));
    const duplicatesBefore = await metric('vitalink_readings_duplicate_total');

    await publish(device, { readings: [reading, heartRate('b-2', 76, recentSecond(2)), reading] });

    expect(await readingsOf('dup-batch-same', 'b-1')).toHaveLength(1);
    expect(await readingsOf('dup-batch-same', 'b-2')).toHaveLength(1);
    expect(await rejectionsOf('dup-batch-same')).toEqual([]);
    expect(await metric('vitalink_readings_duplicate_total')).toBe(duplicatesBefore + 1);
    expect(device.received).toEqual([]);
  });

  it('stores the first and rejects the second of one id with two contents in one batch', async () => {
    const secret = await t.provisionDevice('dup-batch-diff');
    const device = await connect('dup-batch-diff', secret);
    const at = recentSecond(2);
    const second = heartRate('d-1', 101, at);

    await publish(device, { readings: [heartRate('d-1', 100, at), second] });

    const rows = await readingsOf('dup-batch-diff', 'd-1');
    expect(rows).toHaveLength(1);
    expect(rows[0].value).toBe(100);
    const rejections = await rejectionsOf('dup-batch-diff');
    expect(rejections.map((r) => [r.reading_id, r.reason])).toEqual([['d-1', 'conflict']]);
    expect(rejections[0].raw.toString('utf8')).toBe(JSON.stringify(second));
    const messages = await waitFor(() => device.received.length > 0 && device.received, 'the conflict message');
    expect(messages).toEqual([{ id: 'd-1', reason: 'conflict', detail: rejections[0].detail }]);
  });

  it('keeps the reading ids of two devices independent', async () => {
    const secretA = await t.provisionDevice('dup-dev-a', 'patient-a');
    const secretB = await t.provisionDevice('dup-dev-b', 'patient-b');
    const a = await connect('dup-dev-a', secretA);
    const b = await connect('dup-dev-b', secretB);
    const at = recentSecond(1);

    await publish(a, heartRate('shared-1', 61, at));
    await publish(b, heartRate('shared-1', 62, at));

    const { rows } = await t.query(
      `SELECT device_id, patient_id, value FROM readings WHERE reading_id = 'shared-1' ORDER BY device_id`,
    );
    expect(rows).toEqual([
      { device_id: 'dup-dev-a', patient_id: 'patient-a', value: 61 },
      { device_id: 'dup-dev-b', patient_id: 'patient-b', value: 62 },
    ]);
    expect(await rejectionsOf('dup-dev-a')).toEqual([]);
    expect(await rejectionsOf('dup-dev-b')).toEqual([]);
  });
});
