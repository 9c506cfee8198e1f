import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { decodeReading } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/logger.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { useTestService } from '../fixture.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type Reading, waitFor } from '../helpers/device.ts';
import { provisionDevice } from '../helpers/provision.ts';

const DAY = 86_400_000;
const t = useTestService({
  env: {
    VITALINK_AGGREGATION_INTERVAL_MS: '100',
    // Old enough for the DST days of this year's spring.
    VITALINK_READING_MAX_AGE_DAYS: '400',
  },
});

async function device(id: string, patientId: string, tz = 'Europe/Paris'): Promise<MqttClient> {
  await t.query(`INSERT INTO patients (id, time_zone) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [patientId, tz]);
  const secret = await t.provisionDevice(id, patientId, new Date(Date.now() - 400 * DAY));
  return t.connectDevice(id, secret);
}

const publish = (client: MqttClient, deviceId: string, readings: Reading[]) => t.publish(client, deviceId, readings);
const settled = () => t.settled();

async function daily(patientId: string, type: string, component = 'value') {
  const { rows } = await t.query(
    `SELECT day, count, min, max, mean, sd, sum FROM rollups_daily
     WHERE patient_id = $1 AND type = $2 AND component = $3 ORDER BY day`,
    [patientId, type, component],
  );
  return rows;
}

async function indicator(patientId: string, key: string) {
  const { rows } = await t.query(
    `SELECT value, n, sufficient, unit, from_at, to_at FROM patient_indicators WHERE patient_id = $1 AND key = $2`,
    [patientId, key],
  );
  return rows[0];
}

describe('aggregation from dirty days', () => {
  it('turns published readings into daily rollups and indicators, and a late reading updates them', async () => {
    const client = await device('cuff-agg-1', 'p-agg-1');
    const now = Date.now();
    // Three days ago and yesterday (well inside a patient-local day in Paris: midday).
    const d3 = new Date(now - 3 * DAY);
    const d1 = new Date(now - DAY);
    // Hours in UTC; 08:00 to 18:00 UTC is the same calendar day in Paris.
    const at = (d: Date, h: number) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, 0, 0);
    const bp = (id: string, t: number, systolic: number, diastolic: number): Reading => ({
      id,
      type: 'blood_pressure',
      at: t,
      systolic,
      diastolic,
      unit: 'mm[Hg]',
    });
    await publish(client, 'cuff-agg-1', [bp('a1', at(d3, 8), 130, 80), bp('a2', at(d3, 18), 140, 90)]);
    await publish(client, 'cuff-agg-1', [bp('b1', at(d1, 8), 150, 95)]);
    await settled();

    const sys = await daily('p-agg-1', 'blood_pressure', 'systolic');
    expect(sys.map((r) => [r.count, r.min, r.max, r.mean])).toEqual([
      [2, 130, 140, 135],
      [1, 150, 150, 150],
    ]);
    expect(sys[0].sd).toBeCloseTo(Math.sqrt(50), 10); // sample SD of 130, 140
    expect(sys[1].sd).toBeNull();
    expect((await indicator('p-agg-1', 'bp_mean_systolic')).value).toBeCloseTo((130 + 140 + 150) / 3, 10);
    expect(await indicator('p-agg-1', 'bp_mean_systolic')).toMatchObject({ n: 3, sufficient: false });

    // A late reading for the older day: that day's rollup and the 7-day indicators follow.
    await publish(client, 'cuff-agg-1', [bp('late-1', at(d3, 12), 160, 100)]);
    await settled();
    const after = await daily('p-agg-1', 'blood_pressure', 'systolic');
    expect(after.map((r) => [r.count, r.min, r.max, r.mean])).toEqual([
      [3, 130, 160, (130 + 140 + 160) / 3],
      [1, 150, 150, 150],
    ]);
    expect((await indicator('p-agg-1', 'bp_mean_systolic')).value).toBeCloseTo((130 + 140 + 160 + 150) / 4, 10);
    expect((await indicator('p-agg-1', 'bp_mean_diastolic')).value).toBeCloseTo((80 + 90 + 100 + 95) / 4, 10);
    expect(await indicator('p-agg-1', 'bp_mean_systolic')).toMatchObject({ n: 4 });
  });

  it('updates the 14-day CGM indicators when a late reading arrives', async () => {
    const client = await device('cgm-agg-1', 'p-agg-cgm');
    const now = Date.now();
    const start = now - 2 * DAY;
    const readings: Reading[] = [];
    for (let i = 0; i < 288; i++) {
      readings.push({ id: `c${i}`, type: 'cgm_glucose', at: start + i * 300_000, value: 100, unit: 'mg/dL' });
    }
    for (let k = 0; k < readings.length; k += 500) await publish(client, 'cgm-agg-1', readings.slice(k, k + 500));
    await settled();
    expect(await indicator('p-agg-cgm', 'tir_70_180')).toMatchObject({ value: 100, n: 288 });
    expect((await indicator('p-agg-cgm', 'cgm_mean')).value).toBeCloseTo(100, 10);

    // Ten days ago, a low: it falls in the 14-day window.
    await publish(client, 'cgm-agg-1', [
      { id: 'late-low', type: 'cgm_glucose', at: now - 10 * DAY, value: 2.5, unit: 'mmol/L' },
    ]);
    await settled();
    const tbr = await indicator('p-agg-cgm', 'tbr_54');
    expect(tbr.n).toBe(289);
    expect(tbr.value).toBeCloseTo(100 / 289, 10);
    expect((await indicator('p-agg-cgm', 'cgm_mean')).value).toBeCloseTo((288 * 100 + 2.5 * 18.0156) / 289, 8);
  });

  it('puts readings in the right patient-local day and hour on the DST days of Europe/Paris', async () => {
    const client = await device('scale-dst-1', 'p-dst');
    // Europe/Paris changes clock on the last Sunday of March (a 23-hour day: 02:00 → 03:00)
    // and of October (a 25-hour day: 03:00 → 02:00). The most recent past ones are used.
    const lastSunday = (y: number, month: number) => {
      const d = new Date(Date.UTC(y, month + 1, 0));
      d.setUTCDate(d.getUTCDate() - d.getUTCDay());
      return d.toISOString().slice(0, 10);
    };
    const mostRecent = (month: number) => {
      const y = new Date().getUTCFullYear();
      const thisYear = lastSunday(y, month);
      return Date.parse(`${thisYear}T12:00:00Z`) < Date.now() - DAY ? thisYear : lastSunday(y - 1, month);
    };
    const shift = (day: string, days: number) =>
      new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
    const spring = mostRecent(2);
    const autumn = mostRecent(9);
    const w = (id: string, at: string, value: number): Reading => ({ id, type: 'heart_rate', at, value, unit: '/min' });
    const inRange = (iso: string) => Date.parse(iso) > Date.now() - 399 * DAY && Date.parse(iso) < Date.now();
    const readings = [
      w('s0', `${shift(spring, -1)}T23:59:00+01:00`, 60), // day before
      w('s1', `${spring}T00:00:00+01:00`, 61), // first minute of the short day
      w('s2', `${spring}T01:59:00+01:00`, 62),
      w('s3', `${spring}T03:00:00+02:00`, 63), // right after the jump
      w('s4', `${spring}T23:59:00+02:00`, 64), // last minute of the short day
      w('s5', `${shift(spring, 1)}T00:00:00+02:00`, 65), // next day
      w('a1', `${autumn}T02:30:00+02:00`, 70), // 02:30 the first time
      w('a2', `${autumn}T02:30:00+01:00`, 71), // 02:30 again, an hour later
      w('a3', `${autumn}T23:59:00+01:00`, 72),
      w('a4', `${shift(autumn, -1)}T23:59:00+02:00`, 73), // day before
    ].filter((r) => inRange(r.at as string));
    expect(readings.length).toBe(10); // both days are within the last 400 days
    await publish(client, 'scale-dst-1', readings);
    await settled();
    const days = Object.fromEntries((await daily('p-dst', 'heart_rate')).map((r) => [r.day, r]));
    {
      expect(days[spring]).toMatchObject({ count: 4, min: 61, max: 64 });
      expect(days[shift(spring, -1)]).toMatchObject({ count: 1 });
      expect(days[shift(spring, 1)]).toMatchObject({ count: 1 });
    }
    expect(days[autumn]).toMatchObject({ count: 3, min: 70, max: 72 });
    expect(days[shift(autumn, -1)]).toMatchObject({ count: 1, min: 73 });
    // The repeated hour 02:00 is two hours, not one.
    const { rows } = await t.query(
      `SELECT hour_start, count FROM rollups_hourly WHERE patient_id = 'p-dst' AND type = 'heart_rate'
       AND hour_start >= $1 AND hour_start < $2 ORDER BY hour_start`,
      [`${autumn}T00:00:00+02:00`, `${autumn}T04:00:00+01:00`],
    );
    expect(rows.map((r) => [(r.hour_start as Date).toISOString(), r.count])).toEqual([
      [`${autumn}T00:00:00.000Z`, 1],
      [`${autumn}T01:00:00.000Z`, 1],
    ]);
  });

  it('two job runners in parallel produce the same result as one, counting nothing twice', async () => {
    const dbs = [await createTestDatabase(), await createTestDatabase()];
    try {
      const now = Date.now();
      const PATIENTS = 4;
      const DAYS = 10;
      for (const db of dbs) {
        const partitions = new Partitions(db.db);
        for (let p = 0; p < PATIENTS; p++) {
          await provisionDevice(db.db, `hr-par-${p}`, `p-par-${p}`);
          // One message per day, so that each commit leaves one dirty day.
          for (let d = 0; d < DAYS; d++) {
            const readings = [];
            for (let k = 0; k < 10; k++) {
              const decoded = decodeReading(
                { id: `r${d}-${k}`, type: 'heart_rate', at: now - d * DAY - k * 60_000, value: 60 + k, unit: '/min' },
                { now, maxAgeMs: 90 * DAY, maxFutureMs: 300_000 },
              );
              if (!decoded.ok) throw new Error('test reading rejected');
              readings.push(decoded.reading);
            }
            await writeBatch(db.db, partitions, [
              {
                deviceId: `hr-par-${p}`,
                receivedAt: now,
                readings,
                rejections: [],
              },
            ]);
          }
        }
      }
      const log = createLogger('silent');
      const runner = (db: TestDatabase) =>
        new Aggregator({ db: db.db, log, intervalMs: 10, batchSize: 1, refreshEveryMs: 3_600_000, now: () => now });
      const drain = async (r: Aggregator) => {
        let marks = 0;
        for (;;) {
          const result = await r.runOnce();
          if (result.marks === 0 && result.patients === 0) return marks;
          marks += result.marks;
        }
      };
      // Two runners race on the first database; one runner alone does the second.
      const [a, b] = await Promise.all([drain(runner(dbs[0])), drain(runner(dbs[0]))]);
      const alone = await drain(runner(dbs[1]));
      const { rows: marks } = await dbs[1].query(`SELECT count(*)::int AS n FROM rollups_daily`);
      expect(marks[0].n).toBeGreaterThanOrEqual(PATIENTS * DAYS);
      expect(a + b).toBe(alone); // every mark taken exactly once
      expect(alone).toBeGreaterThanOrEqual(PATIENTS * DAYS);
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThan(0);

      const snapshot = async (db: TestDatabase) => ({
        daily: (
          await db.query(
            `SELECT patient_id, day, count, min, max, mean, sd, sum FROM rollups_daily ORDER BY patient_id, day, component`,
          )
        ).rows,
        hourly: (
          await db.query(
            `SELECT patient_id, hour_start, count, mean FROM rollups_hourly ORDER BY patient_id, hour_start`,
          )
        ).rows,
        indicators: (
          await db.query(
            `SELECT patient_id, key, value, n, sufficient FROM patient_indicators ORDER BY patient_id, key`,
          )
        ).rows,
      });
      const raced = await snapshot(dbs[0]);
      expect(raced).toEqual(await snapshot(dbs[1]));
      expect(raced.daily.reduce((n, r) => n + r.count, 0)).toBe(PATIENTS * DAYS * 10);
      expect(raced.daily.reduce((n, r) => n + r.sum, 0)).toBe(PATIENTS * DAYS * 645);
    } finally {
      for (const db of dbs) await db.drop();
    }
  });

  it('reflects an acknowledged reading in the indicators within seconds under load', async () => {
    const client = await device('ox-fresh-1', 'p-fresh');
    const others = await Promise.all([0, 1, 2].map((i) => device(`ox-load-${i}`, `p-load-${i}`)));
    let running = true;
    const load = others.map(async (c, i) => {
      let n = 0;
      while (running) {
        await publish(
          c,
          `ox-load-${i}`,
          Array.from({ length: 20 }, () => ({
            id: `l${++n}`,
            type: 'spo2',
            at: Date.now() - 1000,
            value: 95,
            unit: '%',
          })),
        );
      }
    });
    try {
      await publish(client, 'ox-fresh-1', [{ id: 'f1', type: 'spo2', at: Date.now(), value: 88, unit: '%' }]);
      const acked = Date.now();
      await waitFor(
        async () => (await indicator('p-fresh', 'spo2_min'))?.value === 88,
        'the indicator to reflect the reading',
        15_000,
      );
      expect(Date.now() - acked).toBeGreaterThanOrEqual(0);
      // Operators see the aggregation lag, the last run and run durations.
      const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/^vitalink_aggregation_lag_seconds \d/m);
      expect(Number(/^vitalink_aggregation_last_run_timestamp_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(
        Date.now() / 1000 - 60,
      );
      expect(Number(/^vitalink_aggregation_run_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      running = false;
      await Promise.all(load);
    }
  });
});
