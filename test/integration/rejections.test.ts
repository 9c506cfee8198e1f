import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { addPatient, assignDevice } from '../../src/actions/provisioning.ts';
import { reprocessRejections } from '../../src/actions/reprocess.ts';
import { REJECTION_REASONS } from '../../src/domain/rejection-reasons.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { useTestService } from '../fixture.ts';
import { collectRejections, heartRate, type Rejected, waitFor } from '../helpers/device.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MAX_AGE_MS = 90 * DAY;

const t = useTestService();

interface Device {
  readonly id: string;
  readonly client: MqttClient;
  /** Messages received on v1/devices/{id}/rejections. */
  readonly received: Rejected[];
  /** Message ids of the PUBACKs received and not yet checked by publish(). */
  readonly pubacks: number[];
  readonly topic: string;
}

/** A provisioned, connected device subscribed to its rejections topic. */
async function connectNewDevice(id: string, assignedFrom?: Date): Promise<Device> {
  const secret = await t.provisionDevice(id, `patient-${id}`, assignedFrom);
  const client = await t.connectDevice(id, secret);
  const pubacks: number[] = [];
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) pubacks.push(packet.messageId);
  });
  const received = await collectRejections(client, id);
  return { id, client, received, pubacks, topic: `v1/devices/${id}/readings` };
}

/** Publishes at QoS 1 on the device's readings topic and checks that its PUBACK arrived. */
async function publish(device: Device, payload: string | Buffer): Promise<void> {
  const packet = await device.client.publishAsync(device.topic, payload, { qos: 1 });
  const messageId = packet?.messageId;
  expect(messageId).toBeTypeOf('number');
  const at = device.pubacks.indexOf(messageId as number);
  expect(at, `PUBACK for message ${messageId}`).toBeGreaterThanOrEqual(0);
  device.pubacks.splice(at, 1);
}

async function rejectedMetrics(): Promise<Record<string, number>> {
  const res = await fetch(`${t.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^vitalink_readings_rejected_total\{reason="([a-z_]+)"\} (\d+)$/gm)) {
    counts[m[1]] = Number(m[2]);
  }
  return counts;
}

interface RejectionRow {
  id: string;
  device_id: string;
  reading_id: string | null;
  reason: string;
  detail: string;
  raw: Buffer;
  outcome: string | null;
  reprocessed_at: Date | null;
}

async function rejectionRows(deviceId: string): Promise<RejectionRow[]> {
  const { rows } = await t.query<RejectionRow>(
    'SELECT id, device_id, reading_id, reason, detail, raw, outcome, reprocessed_at FROM rejections WHERE device_id = $1 ORDER BY id',
    [deviceId],
  );
  return rows;
}

async function storedReadings(deviceId: string, readingId: string) {
  const { rows } = await t.query(
    'SELECT patient_id, value, measured_at FROM readings WHERE device_id = $1 AND reading_id = $2',
    [deviceId, readingId],
  );
  return rows;
}

/** Waits for the rejection messages of a device to reach `count`. */
function rejectionMessages(device: Device, count: number): Promise<Rejected[]> {
  return waitFor(
    () => device.received.length >= count && device.received.slice(),
    `${count} rejection message(s) on v1/devices/${device.id}/rejections`,
  );
}

/** The connection still works: a valid reading published on it afterwards is stored. */
async function expectStillConnected(device: Device, readingId: string): Promise<void> {
  expect(device.client.connected).toBe(true);
  // Measured now: after the start of every assignment made in this file.
  await publish(device, JSON.stringify(heartRate(readingId, 64, Date.now())));
  expect(await storedReadings(device.id, readingId)).toHaveLength(1);
}

/** Tally of the rejections this file caused, to compare with /metrics at the end. */
const expectedRejected: Record<string, number> = Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0]));

/**
 * Publishes one message expected to be rejected for `reason`, and checks everything
 * the protocol promises: the PUBACK, one rejection row, the message on the
 * rejections topic, the metric, and that the connection stays up.
 */
async function expectRejected(
  device: Device,
  payload: string | Buffer,
  expected: { readingId: string | null; reason: string; raw: Buffer; detail?: RegExp },
): Promise<void> {
  const metricsBefore = await rejectedMetrics();
  const messagesBefore = device.received.length;

  await publish(device, payload);
  expectedRejected[expected.reason]++;

  const rows = await rejectionRows(device.id);
  expect(rows).toHaveLength(1);
  const row = rows[0];
  expect(row).toMatchObject({
    device_id: device.id,
    reading_id: expected.readingId,
    reason: expected.reason,
    outcome: null,
  });
  expect(row.detail.length).toBeGreaterThan(0);
  if (expected.detail) expect(row.detail).toMatch(expected.detail);
  expect(Buffer.compare(row.raw, expected.raw)).toBe(0);

  const messages = await rejectionMessages(device, messagesBefore + 1);
  expect(messages).toHaveLength(messagesBefore + 1);
  const message = messages[messagesBefore];
  expect(Object.keys(message).sort()).toEqual(['detail', 'id', 'reason']);
  expect(message).toEqual({ id: expected.readingId, reason: expected.reason, detail: row.detail });

  const metricsAfter = await rejectedMetrics();
  expect(metricsAfter[expected.reason]).toBe(metricsBefore[expected.reason] + 1);

  await expectStillConnected(device, `${device.id}-after`);
}

/** The JSON the service keeps for a rejected reading object. */
function readingJson(reading: unknown): Buffer {
  return Buffer.from(JSON.stringify(reading), 'utf8');
}

describe('rejections: each reason of the protocol is acknowledged, recorded and reported', () => {
  it('invalid_json: a message that is not JSON (raw keeps the exact bytes)', async () => {
    const device = await connectNewDevice('rej-json');
    const payload = Buffer.from('{"id": "j-1", "type": "heart_rate", ', 'utf8');
    await expectRejected(device, payload, { readingId: null, reason: 'invalid_json', raw: payload });
  });

  it('invalid_json: a message that is not UTF-8', async () => {
    const device = await connectNewDevice('rej-utf8');
    const payload = Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await expectRejected(device, payload, { readingId: null, reason: 'invalid_json', raw: payload });
  });

  it('invalid_shape: a JSON array, and {"readings": []} (raw keeps the exact bytes)', async () => {
    const device = await connectNewDevice('rej-shape');
    const payload = Buffer.from('{ "readings" : [ ] }\n', 'utf8');
    await expectRejected(device, payload, { readingId: null, reason: 'invalid_shape', raw: payload });

    const array = Buffer.from(`[${JSON.stringify(heartRate('s-1'))}]`, 'utf8');
    await publish(device, array);
    expectedRejected.invalid_shape++;
    const rows = await rejectionRows(device.id);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ reading_id: null, reason: 'invalid_shape' });
    expect(Buffer.compare(rows[1].raw, array)).toBe(0);
    const messages = await rejectionMessages(device, 2);
    expect(messages[1]).toEqual({ id: null, reason: 'invalid_shape', detail: rows[1].detail });
  });

  it('invalid_reading: a required field is missing', async () => {
    const device = await connectNewDevice('rej-reading');
    const reading = { id: 'ir-1', type: 'heart_rate', value: 72, unit: '/min' };
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'ir-1',
      reason: 'invalid_reading',
      raw: readingJson(reading),
      detail: /\bat\b/,
    });
  });

  it('unknown_type: a type that is not in the table', async () => {
    const device = await connectNewDevice('rej-type');
    const reading = { id: 'ut-1', type: 'blood_ketone', at: Date.now() - MINUTE, value: 1.2, unit: 'mmol/L' };
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'ut-1',
      reason: 'unknown_type',
      raw: readingJson(reading),
      detail: /blood_ketone/,
    });
  });

  it('unit: a unit that is not accepted for the type', async () => {
    const device = await connectNewDevice('rej-unit');
    const reading = { id: 'un-1', type: 'heart_rate', at: Date.now() - MINUTE, value: 72, unit: 'kg' };
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'un-1',
      reason: 'unit',
      raw: readingJson(reading),
      detail: /"kg" is not accepted for heart_rate/,
    });
  });

  it('out_of_range: a value outside the plausible range after conversion', async () => {
    const device = await connectNewDevice('rej-range');
    // 60 kPa is 450 mm[Hg] systolic: plausible in neither unit once converted.
    const reading = {
      id: 'or-1',
      type: 'blood_pressure',
      at: Date.now() - MINUTE,
      systolic: 60,
      diastolic: 10,
      unit: 'kPa',
    };
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'or-1',
      reason: 'out_of_range',
      raw: readingJson(reading),
    });
  });

  it('future: measured more than 5 minutes after the service clock', async () => {
    const device = await connectNewDevice('rej-future');
    const reading = heartRate('fu-1', 72, new Date(Date.now() + 10 * MINUTE).toISOString());
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'fu-1',
      reason: 'future',
      raw: readingJson(reading),
    });
  });

  it('too_old: measured more than 90 days ago', async () => {
    const device = await connectNewDevice('rej-old');
    const reading = heartRate('to-1', 72, Date.now() - 91 * DAY);
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'to-1',
      reason: 'too_old',
      raw: readingJson(reading),
    });
  });

  it('unassigned: measured before the device was assigned to anyone', async () => {
    const device = await connectNewDevice('rej-unassigned', new Date());
    const reading = heartRate('ua-1', 72, Date.now() - HOUR);
    await expectRejected(device, JSON.stringify(reading), {
      readingId: 'ua-1',
      reason: 'unassigned',
      raw: readingJson(reading),
    });
    expect(await storedReadings(device.id, 'ua-1')).toHaveLength(0);
  });

  it('conflict: the same id as a stored reading with different content keeps the first', async () => {
    const device = await connectNewDevice('rej-conflict');
    const at = Date.now() - 2 * MINUTE;
    await publish(device, JSON.stringify(heartRate('cf-1', 70, at)));
    const second = heartRate('cf-1', 71, at);
    await expectRejected(device, JSON.stringify(second), {
      readingId: 'cf-1',
      reason: 'conflict',
      raw: readingJson(second),
    });
    const kept = await storedReadings(device.id, 'cf-1');
    expect(kept).toHaveLength(1);
    expect(kept[0].value).toBe(70);
  });
});

describe('rejections in a batch and on resend', () => {
  it('stores the valid readings of a mixed batch and rejects the others, one by one', async () => {
    const device = await connectNewDevice('rej-batch');
    const at = Date.now() - 5 * MINUTE;
    const good1 = heartRate('mb-1', 71, at);
    const badUnit = { id: 'mb-2', type: 'spo2', at, value: 97, unit: 'percent' };
    const good2 = { id: 'mb-3', type: 'spo2', at, value: 97, unit: '%' };
    const badRange = heartRate('mb-4', 500, at);
    const badType = { id: 'mb-5', type: 'mood', at, value: 3, unit: '1' };
    const notObject = 42;
    const metricsBefore = await rejectedMetrics();

    await publish(device, JSON.stringify({ readings: [good1, badUnit, good2, badRange, badType, notObject] }));
    expectedRejected.unit++;
    expectedRejected.out_of_range++;
    expectedRejected.unknown_type++;
    expectedRejected.invalid_reading++;

    const { rows: stored } = await t.query(
      'SELECT reading_id, type, value FROM readings WHERE device_id = $1 ORDER BY reading_id',
      [device.id],
    );
    expect(stored).toEqual([
      { reading_id: 'mb-1', type: 'heart_rate', value: 71 },
      { reading_id: 'mb-3', type: 'spo2', value: 97 },
    ]);

    const rows = await rejectionRows(device.id);
    expect(rows.map((r) => [r.reading_id, r.reason])).toEqual([
      ['mb-2', 'unit'],
      ['mb-4', 'out_of_range'],
      ['mb-5', 'unknown_type'],
      [null, 'invalid_reading'],
    ]);
    expect(rows.map((r) => r.raw.toString('utf8'))).toEqual([
      JSON.stringify(badUnit),
      JSON.stringify(badRange),
      JSON.stringify(badType),
      '42',
    ]);
    for (const r of rows) expect(r.detail.length).toBeGreaterThan(0);

    const messages = await rejectionMessages(device, 4);
    expect(messages).toHaveLength(4);
    expect(messages).toEqual(rows.map((r) => ({ id: r.reading_id, reason: r.reason, detail: r.detail })));

    const metricsAfter = await rejectedMetrics();
    for (const reason of ['unit', 'out_of_range', 'unknown_type', 'invalid_reading']) {
      expect(metricsAfter[reason]).toBe(metricsBefore[reason] + 1);
    }
    await expectStillConnected(device, 'mb-after');
  });

  it('records one open rejection for a resent invalid message, and reports it each time', async () => {
    const device = await connectNewDevice('rej-resend');
    const reading = { id: 'rs-1', type: 'heart_rate', at: Date.now() - MINUTE, value: 72, unit: 'beats' };
    const payload = JSON.stringify(reading);
    const notJson = Buffer.from('not json at all', 'utf8');
    for (let i = 0; i < 2; i++) {
      // No PUBACK taken into account: the device sends the same bytes again.
      await publish(device, payload);
      await publish(device, notJson);
      expectedRejected.unit++;
      expectedRejected.invalid_json++;
    }

    const rows = await rejectionRows(device.id);
    expect(rows.map((r) => [r.reading_id, r.reason, r.outcome])).toEqual([
      ['rs-1', 'unit', null],
      [null, 'invalid_json', null],
    ]);
    expect(rows[0].raw.toString('utf8')).toBe(payload);
    expect(Buffer.compare(rows[1].raw, notJson)).toBe(0);

    const messages = await rejectionMessages(device, 4);
    expect(messages.map((m) => [m.id, m.reason])).toEqual([
      ['rs-1', 'unit'],
      [null, 'invalid_json'],
      ['rs-1', 'unit'],
      [null, 'invalid_json'],
    ]);
    await expectStillConnected(device, 'rs-after');
  });

  it('records one open rejection for the same invalid message sent several times without waiting', async () => {
    const device = await connectNewDevice('rej-burst');
    const reading = { id: 'bu-1', type: 'spo2', at: Date.now() - MINUTE, value: 140, unit: '%' };
    const payload = JSON.stringify(reading);
    await Promise.all([publish(device, payload), publish(device, payload), publish(device, payload)]);
    expectedRejected.out_of_range += 3;

    const rows = await rejectionRows(device.id);
    expect(rows.map((r) => [r.reading_id, r.reason, r.outcome])).toEqual([['bu-1', 'out_of_range', null]]);
    const messages = await rejectionMessages(device, 3);
    expect(messages.map((m) => [m.id, m.reason])).toEqual([
      ['bu-1', 'out_of_range'],
      ['bu-1', 'out_of_range'],
      ['bu-1', 'out_of_range'],
    ]);
    await expectStillConnected(device, 'bu-after');
  });

  it('counts every rejection in /metrics by reason', async () => {
    const metrics = await rejectedMetrics();
    expect(Object.keys(metrics).sort()).toEqual([...REJECTION_REASONS].sort());
    expect(metrics).toEqual(expectedRejected);
    for (const reason of REJECTION_REASONS) expect(metrics[reason]).toBeGreaterThan(0);
  });
});

describe('reprocessing rejections', () => {
  it('stores an unassigned reading once its assignment is recorded, and leaves the still invalid open', async () => {
    const assignedFrom = new Date();
    const device = await connectNewDevice('rej-reprocess', assignedFrom);
    const measured = Date.now() - HOUR;
    await publish(device, JSON.stringify(heartRate('rp-1', 81, measured)));
    const badUnit = { id: 'rp-2', type: 'heart_rate', at: measured, value: 81, unit: 'Hz' };
    await publish(device, JSON.stringify(badUnit));
    const before = await rejectionRows(device.id);
    expect(before.map((r) => [r.reading_id, r.reason, r.outcome])).toEqual([
      ['rp-1', 'unassigned', null],
      ['rp-2', 'unit', null],
    ]);

    // Assignments never overlap: the earlier one ends where the current one starts.
    await addPatient(t.db, { id: 'patient-earlier' });
    await assignDevice(t.db, {
      deviceId: device.id,
      patientId: 'patient-earlier',
      from: new Date(measured - HOUR),
      to: assignedFrom,
    });

    const partitions = new Partitions(t.db);
    const first = await reprocessRejections(t.db, partitions, { deviceId: device.id }, MAX_AGE_MS, () => new Date());
    expect(first.counts).toEqual({ stored: 1, duplicate: 0, still_rejected: 1, rejected: 0, not_replayable: 0 });
    expect(first.items.map((i) => [i.readingId, i.previousReason, i.outcome])).toEqual([
      ['rp-1', 'unassigned', 'stored'],
      ['rp-2', 'unit', 'still_rejected'],
    ]);

    const stored = await storedReadings(device.id, 'rp-1');
    expect(stored).toHaveLength(1);
    expect(stored[0].patient_id).toBe('patient-earlier');
    expect(stored[0].value).toBe(81);
    expect((stored[0].measured_at as Date).getTime()).toBe(measured);

    const after = await rejectionRows(device.id);
    expect(after.map((r) => [r.reading_id, r.reason, r.outcome])).toEqual([
      ['rp-1', 'unassigned', 'stored'],
      ['rp-2', 'unit', null],
    ]);
    expect(after[0].reprocessed_at).toBeInstanceOf(Date);
    expect(after[1].reprocessed_at).toBeInstanceOf(Date);

    const second = await reprocessRejections(t.db, partitions, { deviceId: device.id }, MAX_AGE_MS, () => new Date());
    expect(second.counts).toEqual({ stored: 0, duplicate: 0, still_rejected: 1, rejected: 0, not_replayable: 0 });
    expect(second.items.map((i) => i.readingId)).toEqual(['rp-2']);
    const again = await rejectionRows(device.id);
    expect(again[0]).toEqual(after[0]);
    expect(again[1]).toMatchObject({ reason: 'unit', outcome: null });
    expect(await storedReadings(device.id, 'rp-1')).toHaveLength(1);
  });
});
