/**
 * The aggregation job reads partial aggregates and rollups, not the readings of its
 * windows: whatever it stores must equal the indicators computed from scratch over
 * the raw readings (indicatorsFromReadings, the definitions of indicators.md), after
 * a first load, after new, late and old readings, and after an upgrade from a
 * database without partials. Counts, windows and every other value exactly; the CGM
 * mean, GMI and CV to a relative 1e-12.
 */
import { describe, expect, it } from 'vitest';
import { indicatorsFromReadings } from '../../src/aggregation/patient-indicators.ts';
import type { Indicator } from '../../src/domain/indicators/index.ts';
import { localDate } from '../../src/domain/indicators/local-day.ts';
import { markRecentPatientsForRefresh, type PatientReading } from '../../src/store/aggregation.repository.ts';
import { useTestDatabase } from '../fixture.ts';
import { drainAggregation, type TestReadingInput, writeReadings } from '../helpers/readings.ts';
import { mulberry32 } from '../../simulators/models/random.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const t = useTestDatabase();

type Input = TestReadingInput;

const write = (deviceId: string, inputs: Input[], now: number) => writeReadings(t.db, deviceId, inputs, now);

const drain = (now: number) => drainAggregation(t.db, now);

async function readingsOf(patientId: string): Promise<PatientReading[]> {
  const { rows } = await t.query(
    `SELECT reading_id, device_id, type, (extract(epoch FROM measured_at) * 1000)::int8 AS at_ms, value, systolic, diastolic
     FROM readings WHERE patient_id = $1 ORDER BY measured_at, reading_id`,
    [patientId],
  );
  return rows.map((r) => ({
    id: r.reading_id,
    deviceId: r.device_id,
    type: r.type,
    at: Number(r.at_ms),
    value: r.value,
    systolic: r.systolic,
    diastolic: r.diastolic,
  }));
}

const ROUNDED = new Set(['cgm_mean', 'gmi', 'glucose_cv']);

/** The stored indicators of the patient equal those computed from all their readings at `to`. */
async function expectExact(patientId: string, timeZone: string, to: number): Promise<Indicator[]> {
  const expected = indicatorsFromReadings(await readingsOf(patientId), timeZone, to);
  const { rows } = await t.query(
    `SELECT key, value, unit, from_at, to_at, n, sufficient FROM patient_indicators WHERE patient_id = $1`,
    [patientId],
  );
  const stored = new Map(rows.map((r) => [r.key as string, r]));
  expect([...stored.keys()].sort()).toEqual(expected.map((i) => i.key).sort());
  for (const e of expected) {
    const s = stored.get(e.key);
    const where = `${patientId} ${e.key}`;
    expect(
      { unit: s.unit, from: (s.from_at as Date).getTime(), to: (s.to_at as Date).getTime(), n: s.n, ok: s.sufficient },
      where,
    ).toEqual({ unit: e.unit, from: e.from, to: e.to, n: e.n, ok: e.sufficient });
    if (e.value === null || !ROUNDED.has(e.key)) expect(s.value, where).toBe(e.value);
    else expect(Math.abs(s.value - e.value) / Math.abs(e.value), where).toBeLessThan(1e-12);
  }
  return expected;
}

/** 15 days of CGM on two sensors (one replaced midway), readings every 5 minutes with jitter and gaps. */
function cgmSeries(random: () => number, now: number): { deviceId: string; inputs: Input[] }[] {
  const series = [
    { deviceId: 'cgm-a', from: now - 15 * DAY, to: now - 6 * DAY },
    { deviceId: 'cgm-b', from: now - 6 * DAY - 2 * HOUR, to: now - 2 * MIN },
  ];
  return series.map(({ deviceId, from, to }) => {
    const inputs: Input[] = [];
    let at = from + Math.floor(random() * 60_000);
    let i = 0;
    while (at < to) {
      inputs.push({ id: `g${i++}`, type: 'cgm_glucose', at, value: Math.round(30 + random() * 400), unit: 'mg/dL' });
      at += random() < 0.97 ? 5 * MIN + Math.floor((random() - 0.5) * 10_000) : Math.floor(random() * 4 * HOUR);
    }
    return { deviceId, inputs };
  });
}

describe('the hourly refresh', () => {
  it('marks the patients with a reading in the last 30 days, and only them', async () => {
    const now = Date.now();
    for (const [patientId, daysAgo] of [
      ['p-refresh-recent', 3],
      ['p-refresh-old', 40],
    ] as const) {
      await t.addPatient(patientId);
      await t.provisionDevice(`bp-${patientId}`, patientId, new Date(now - 60 * DAY));
      const at = now - daysAgo * DAY;
      await write(
        `bp-${patientId}`,
        [{ id: 'b1', type: 'blood_pressure', at, systolic: 120, diastolic: 80, unit: 'mm[Hg]' }],
        now,
      );
    }
    await drain(now);
    await t.query(`DELETE FROM indicators_dirty`);
    await markRecentPatientsForRefresh(t.db, 30);
    const { rows } = await t.query(
      `SELECT patient_id FROM indicators_dirty WHERE patient_id LIKE 'p-refresh-%' ORDER BY patient_id`,
    );
    expect(rows.map((r) => r.patient_id)).toEqual(['p-refresh-recent']);
  });
});

describe('indicators from partial aggregates', () => {
  for (const timeZone of ['Europe/Paris', 'Asia/Kolkata']) {
    it(`equal a from-scratch computation after new, late and old readings (${timeZone})`, async () => {
      const patientId = `p-part-${timeZone.replace('/', '-')}`;
      const now = Date.now();
      await t.addPatient(patientId, { timeZone });
      for (const d of ['cgm-a', 'cgm-b', 'cuff', 'scale', 'ox'].map((k) => `${k}-${patientId}`)) {
        await t.provisionDevice(d, patientId, new Date(now - 60 * DAY));
      }
      const random = mulberry32(timeZone.length);
      for (const { deviceId, inputs } of cgmSeries(random, now)) await write(`${deviceId}-${patientId}`, inputs, now);
      const bp: Input[] = [];
      const weight: Input[] = [];
      for (let d = 0; d < 20; d++) {
        for (const h of [7, 19]) {
          const at = now - d * DAY - h * HOUR;
          bp.push({
            id: `b${d}-${h}`,
            type: 'blood_pressure',
            at,
            systolic: 120 + d,
            diastolic: 80 + h,
            unit: 'mm[Hg]',
          });
        }
        weight.push({ id: `w${d}`, type: 'body_weight', at: now - d * DAY - 6 * HOUR, value: 70 + d / 10, unit: 'kg' });
      }
      await write(`cuff-${patientId}`, bp, now);
      await write(`scale-${patientId}`, weight, now);
      await write(
        `ox-${patientId}`,
        [0, 3, 9, 23, 30].map((h) => ({ id: `o${h}`, type: 'spo2', at: now - h * HOUR, value: 88 + h / 3, unit: '%' })),
        now,
      );
      await drain(now);
      await expectExact(patientId, timeZone, now);

      // A new reading, one ahead of the clock, a late one 10 days back (inside the CGM window) and one in an
      // old day (adherence only).
      const later = now + 3 * MIN;
      await write(
        `cgm-b-${patientId}`,
        [
          { id: 'new-1', type: 'cgm_glucose', at: now + 2 * MIN, value: 45, unit: 'mg/dL' },
          // Ahead of the job's clock (accepted up to 5 minutes): counted by no window yet.
          { id: 'ahead-1', type: 'cgm_glucose', at: later + 2 * MIN, value: 300, unit: 'mg/dL' },
        ],
        later,
      );
      await write(
        `cgm-a-${patientId}`,
        [
          { id: 'late-10d', type: 'cgm_glucose', at: now - 10 * DAY + 7_777, value: 251, unit: 'mg/dL' },
          { id: 'old-20d', type: 'cgm_glucose', at: now - 20 * DAY, value: 180, unit: 'mg/dL' },
        ],
        later,
      );
      await drain(later);
      const after = await expectExact(patientId, timeZone, later);
      expect(after.find((i) => i.key === 'cgm_mean')?.n).toBeGreaterThan(1500);

      // The hourly refresh, an hour later: the window moved, nothing new arrived.
      const refresh = later + HOUR + 12_345;
      await t.query(
        `INSERT INTO indicators_dirty (patient_id) VALUES ($1) ON CONFLICT (patient_id) DO UPDATE SET marked_at = now()`,
        [patientId],
      );
      await drain(refresh);
      await expectExact(patientId, timeZone, refresh);
    });
  }

  for (const timeZone of ['America/Santiago', 'Asia/Kolkata']) {
    it(`are exact after an upgrade, when old days have no partials, while those days heal a few per run (${timeZone})`, async () => {
      const patientId = `p-upgrade-${timeZone.replace('/', '-')}`;
      const now = Date.now();
      await t.addPatient(patientId, { timeZone });
      for (const d of ['cgm-a', 'cgm-b'])
        await t.provisionDevice(`${d}-${patientId}`, patientId, new Date(now - 60 * DAY));
      for (const { deviceId, inputs } of cgmSeries(mulberry32(99), now))
        await write(`${deviceId}-${patientId}`, inputs, now);
      await drain(now);
      // As a database migrated from a version without partials: rollups, no partials, rows not flagged.
      await t.query(`DELETE FROM cgm_hourly_partials WHERE patient_id = $1`, [patientId]);
      await t.query(`UPDATE rollups_daily SET with_partials = NULL WHERE patient_id = $1`, [patientId]);

      // Each run is exact; each heals a couple of days (newest first) and reads the others as readings.
      // The unflagged days of the CGM window as the job sees it at `at`: from the patient's local
      // day of at − 14 d (the window moves past a local midnight while the runs go on).
      const unflagged = async (at: number) => {
        const { rows } = await t.query(
          `SELECT count(*)::int AS n FROM rollups_daily
         WHERE patient_id = $1 AND type = 'cgm_glucose' AND with_partials IS NULL AND day >= $2::date`,
          [patientId, localDate(at - 14 * DAY, timeZone)],
        );
        return rows[0].n as number;
      };
      let before = await unflagged(now);
      expect(before).toBeGreaterThanOrEqual(14);
      for (let run = 1; before > 0; run++) {
        const later = now + run * 5 * MIN;
        await t.query(`INSERT INTO indicators_dirty (patient_id) VALUES ($1) ON CONFLICT DO NOTHING`, [patientId]);
        await drain(later);
        await expectExact(patientId, timeZone, later);
        const after = await unflagged(later);
        expect(after).toBeLessThan(before);
        before = after;
      }
      const { rows: partials } = await t.query(
        `SELECT sum(count)::int AS n FROM cgm_hourly_partials WHERE patient_id = $1 AND hour_start > now() - interval '13 days'`,
        [patientId],
      );
      expect(partials[0].n).toBeGreaterThan(1500);
    });
  }
});
