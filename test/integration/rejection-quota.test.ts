import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { reprocessRejections } from '../../src/actions/reprocess.ts';
import { insertRejections } from '../../src/store/rejections.repository.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { useTestService } from '../fixture.ts';
import { collectRejections, type Rejected, waitFor } from '../helpers/device.ts';

// README, "Security", "Rejection storage quota": 4 junk messages of 1,000 bytes fit, the 5th does not.
const QUOTA = 4000;
const JUNK_SIZE = 1000;

const t = useTestService({ env: { VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY: String(QUOTA) }, adminToken: true });

interface Device {
  readonly id: string;
  readonly client: MqttClient;
  readonly received: Rejected[];
  readonly pubacks: number[];
}

async function connectNewDevice(id: string): Promise<Device> {
  const secret = await t.provisionDevice(id, `patient-${id}`);
  const client = await t.connectDevice(id, secret);
  const pubacks: number[] = [];
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) pubacks.push(packet.messageId);
  });
  const received = await collectRejections(client, id);
  return { id, client, received, pubacks };
}

/** Distinct invalid JSON of exactly `size` bytes. */
function junk(n: number, size = JUNK_SIZE): Buffer {
  const head = `not json ${n} `;
  return Buffer.from(head + '#'.repeat(size - head.length));
}

/** Publishes junk at QoS 1 and checks its PUBACK and its rejection message arrived. */
async function publishJunk(device: Device, n: number): Promise<void> {
  const before = device.received.length;
  const packet = await device.client.publishAsync(`v1/devices/${device.id}/readings`, junk(n), { qos: 1 });
  const at = device.pubacks.indexOf(packet?.messageId as number);
  expect(at, `PUBACK for junk ${n}`).toBeGreaterThanOrEqual(0);
  device.pubacks.splice(at, 1);
  await waitFor(() => device.received.length > before, `rejection message for junk ${n}`);
  expect(device.received[before]).toMatchObject({ id: null, reason: 'invalid_json' });
}

interface Row {
  id: string;
  raw: Buffer | null;
  raw_size: number | null;
  raw_sha256: Buffer | null;
  raw_dropped: string | null;
  received_at: Date;
}

async function rows(deviceId: string): Promise<Row[]> {
  const { rows } = await t.query<Row>(
    'SELECT id, raw, raw_size, raw_sha256, raw_dropped, received_at FROM rejections WHERE device_id = $1 ORDER BY id',
    [deviceId],
  );
  return rows;
}

async function droppedMetrics(): Promise<{ count: number; bytes: number }> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    count: read('vitalink_rejections_raw_dropped_total'),
    bytes: read('vitalink_rejections_raw_dropped_bytes_total'),
  };
}

describe('the per-device quota on stored rejection bytes', () => {
  it('answers every message as before, keeps raw bytes up to the quota, then records size and hash only', async () => {
    const metricsBefore = await droppedMetrics();
    const flood = await connectNewDevice('quota-flood');
    const other = await connectNewDevice('quota-other');
    for (let n = 0; n < 10; n++) await publishJunk(flood, n);
    for (let n = 0; n < 3; n++) await publishJunk(other, 100 + n);

    const flooded = await rows(flood.id);
    expect(flooded).toHaveLength(10);
    expect(flooded.slice(0, 4).map((r) => r.raw?.length)).toEqual([1000, 1000, 1000, 1000]);
    expect(flooded.slice(0, 4).every((r) => r.raw_dropped === null)).toBe(true);
    for (const [i, r] of flooded.slice(4).entries()) {
      expect(r.raw).toBeNull();
      expect(r.raw_dropped).toBe('quota');
      expect(r.raw_size).toBe(JUNK_SIZE);
      expect(r.raw_sha256?.toString('hex')).toBe(
        (await import('node:crypto'))
          .createHash('sha256')
          .update(junk(4 + i))
          .digest('hex'),
      );
    }
    // Another device's quota is its own.
    const others = await rows(other.id);
    expect(others.map((r) => r.raw?.length)).toEqual([1000, 1000, 1000]);
    const { rows: counters } = await t.query<{ device_id: string; raw_bytes: string }>(
      'SELECT device_id, raw_bytes FROM rejection_raw_quota ORDER BY device_id',
    );
    expect(counters).toEqual([
      { device_id: 'quota-flood', raw_bytes: '10000' },
      { device_id: 'quota-other', raw_bytes: '3000' },
    ]);

    const metricsAfter = await droppedMetrics();
    expect(metricsAfter.count - metricsBefore.count).toBe(6);
    expect(metricsAfter.bytes - metricsBefore.bytes).toBe(6 * JUNK_SIZE);

    // Operators see which were not kept, and why.
    const res = await t.api.get(`/api/v1/rejections?device=${flood.id}&limit=100`, { token: t.adminToken });
    expect(res.status).toBe(200);
    const items = res.body.items as { raw: { kept: boolean; size: number; notKeptBecause: string | null } }[];
    expect(items.filter((i) => !i.raw.kept)).toHaveLength(6);
    expect(items.filter((i) => i.raw.kept)).toHaveLength(4);
    for (const i of items) {
      expect(i.raw.size).toBe(JUNK_SIZE);
      expect(i.raw.notKeptBecause).toBe(i.raw.kept ? null : 'quota');
    }

    // Reprocessing cannot replay what was not kept, and says so; the rows stay open.
    const report = await reprocessRejections(
      t.db,
      new Partitions(t.db),
      { deviceId: flood.id },
      90 * 86_400_000,
      () => new Date(),
    );
    expect(report.counts).toEqual({ stored: 0, duplicate: 0, still_rejected: 4, rejected: 0, not_replayable: 6 });
    const notReplayable = report.items.filter((i) => i.outcome === 'not_replayable').map((i) => i.rejectionId);
    expect(notReplayable).toEqual(flooded.slice(4).map((r) => r.id));
    const { rows: open } = await t.query<{ n: string }>(
      'SELECT count(*) AS n FROM rejections WHERE device_id = $1 AND outcome IS NULL',
      [flood.id],
    );
    expect(open[0].n).toBe('10');

    // Identical junk resent is recorded once and not charged again.
    await publishJunk(flood, 0);
    expect(await rows(flood.id)).toHaveLength(10);
    const { rows: again } = await t.query<{ raw_bytes: string }>(
      "SELECT raw_bytes FROM rejection_raw_quota WHERE device_id = 'quota-flood'",
    );
    expect(again[0].raw_bytes).toBe('10000');
    await flood.client.endAsync();
    await other.client.endAsync();
  });

  it('starts counting again on the next UTC day', async () => {
    const deviceId = 'quota-days';
    await t.provisionDevice(deviceId, 'patient-quota-days');
    const options = { rejectionRawBytesPerDeviceDay: QUOTA };
    const day1 = Date.parse('2026-12-06T23:59:00Z');
    const day2 = Date.parse('2026-12-07T00:00:30Z');
    const message = (n: number, receivedAt: number) => ({
      deviceId,
      receivedAt,
      readings: [],
      rejections: [{ readingId: null, reason: 'invalid_json' as const, detail: 'not JSON', raw: junk(n, 3000) }],
    });
    const first = await writeBatch(t.db, new Partitions(t.db), [message(1, day1), message(2, day1)], options);
    expect(first.map((o) => o.rawDropped)).toEqual([undefined, { count: 1, bytes: 3000 }]);
    const second = await writeBatch(t.db, new Partitions(t.db), [message(3, day2)], options);
    expect(second[0].rawDropped).toBeUndefined();
    const kept = (await rows(deviceId)).map((r) => r.raw !== null);
    expect(kept).toEqual([true, false, true]);
  });

  it('counts batches of several writers one after the other: the database is the arbiter', async () => {
    const deviceId = 'quota-racers';
    await t.provisionDevice(deviceId, 'patient-quota-racers');
    const now = Date.now();
    // Eight transactions at once, each with 1,000 distinct bytes: exactly four fit.
    const writers = Array.from({ length: 8 }, (_, n) =>
      t.db.transaction().execute((trx) =>
        insertRejections(
          trx,
          [
            {
              deviceId,
              receivedAt: now,
              rejection: { readingId: null, reason: 'invalid_json', detail: 'not JSON', raw: junk(200 + n) },
            },
          ],
          QUOTA,
        ),
      ),
    );
    const results = await Promise.all(writers);
    expect(results.filter((r) => r.rawDropped.length === 0)).toHaveLength(4);
    const stored = await rows(deviceId);
    expect(stored).toHaveLength(8);
    expect(stored.filter((r) => r.raw !== null)).toHaveLength(4);
  });
});
