/**
 * Dirty marks by the hour: the write path records the hours a commit touched, and the
 * job recomputes those hours and derives their days from the hourly rows, except
 * where that would not be exact (days whose offset changes, CGM days without
 * partials, marks without hours), where it recomputes the whole day from its readings.
 * Whatever path it takes, the rollups and CGM partials must equal a recomputation
 * of every day from its readings: counts, extremes, times and flags exactly, means,
 * sums, standard deviations and squared deviations to a relative 1e-12.
 */
import { describe, expect, it } from 'vitest';
import { takeWork } from '../../src/store/aggregation.repository.ts';
import { useTestDatabase } from '../fixture.ts';
import { drainAggregation, type TestReadingInput, writeReadings } from '../helpers/readings.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const t = useTestDatabase();

type Input = TestReadingInput;

const write = (deviceId: string, inputs: Input[], now: number) => writeReadings(t.db, deviceId, inputs, now);

const drain = (now: number) => drainAggregation(t.db, now);

const TABLES = {
  rollups_daily: 'type, component, day',
  rollups_hourly: 'type, component, hour_start',
  cgm_hourly_partials: 'hour_start, device_id',
  cgm_daily_partials: 'day_start, device_id',
} as const;
/** Columns computed with floating-point sums in a different order by the two paths. */
const ROUNDED = new Set(['mean', 'sd', 'sum', 'm2']);

type Rows = Record<string, Record<string, unknown>[]>;

async function dump(patientId: string): Promise<Rows> {
  const out: Rows = {};
  for (const [table, order] of Object.entries(TABLES)) {
    const { rows } = await t.query(`SELECT * FROM ${table} WHERE patient_id = $1 ORDER BY ${order}`, [patientId]);
    out[table] = rows;
  }
  return out;
}

function expectSame(actual: Rows, expected: Rows): void {
  for (const table of Object.keys(TABLES)) {
    const a = actual[table];
    const e = expected[table];
    expect(a.length, `${table}: rows`).toBe(e.length);
    for (let i = 0; i < e.length; i++) {
      for (const [column, ev] of Object.entries(e[i])) {
        if (column === 'computed_at') continue; // when the row was written
        const av = a[i][column];
        const where = `${table} row ${i} ${column}`;
        if (ROUNDED.has(column) && typeof ev === 'number' && typeof av === 'number') {
          expect(Math.abs(av - ev), where).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ev)));
        } else {
          expect(av, where).toEqual(ev);
        }
      }
    }
  }
}

/**
 * What the job stored for the patient equals every day of theirs recomputed whole
 * from its readings (marks without hours, as queued before the hours were recorded).
 */
async function expectEqualToWholeDays(patientId: string, now: number): Promise<void> {
  const incremental = await dump(patientId);
  for (const table of Object.keys(TABLES)) await t.query(`DELETE FROM ${table} WHERE patient_id = $1`, [patientId]);
  await t.query(
    `INSERT INTO aggregation_dirty (patient_id, type, day)
     SELECT DISTINCT r.patient_id, r.type, (r.measured_at AT TIME ZONE p.time_zone)::date
     FROM readings r JOIN patients p ON p.id = r.patient_id WHERE r.patient_id = $1`,
    [patientId],
  );
  await drain(now);
  const whole = await dump(patientId);
  expect(whole.rollups_daily.length).toBeGreaterThan(0);
  expectSame(incremental, whole);
}

/** Readings every 5 minutes in [from, to), values from a fixed pattern. */
function cgm(prefix: string, from: number, to: number): Input[] {
  const out: Input[] = [];
  for (let at = from, i = 0; at < to; at += 5 * MIN, i++) {
    out.push({ id: `${prefix}${i}`, type: 'cgm_glucose', at, value: 40 + ((i * 37) % 300), unit: 'mg/dL' });
  }
  return out;
}

async function patientWith(patientId: string, timeZone: string, devices: string[], since: number): Promise<void> {
  await t.addPatient(patientId, { timeZone });
  for (const d of devices) await t.provisionDevice(`${d}-${patientId}`, patientId, new Date(since));
}

async function hourlyRow(patientId: string, hourStart: number): Promise<{ count: number; max: number } | undefined> {
  const { rows } = await t.query(
    `SELECT count, max FROM rollups_hourly WHERE patient_id = $1 AND type = 'cgm_glucose' AND hour_start = $2`,
    [patientId, new Date(hourStart)],
  );
  return rows[0];
}

describe('dirty marks by the hour (write path)', () => {
  it('records, per reading, the later of the starts of its UTC hour and its local hour, and merges later commits', async () => {
    const p = 'p-hours-marks';
    const now = Date.UTC(2026, 10, 10, 12);
    await patientWith(p, 'Asia/Kolkata', ['cgm'], now - 30 * DAY);
    // Kolkata is UTC+5:30: the local hour 10:00–11:00 is 04:30–05:30 UTC and meets the UTC hours 4 and 5.
    await write(
      `cgm-${p}`,
      [
        { id: 'a', type: 'cgm_glucose', at: Date.UTC(2026, 10, 10, 4, 40), value: 100, unit: 'mg/dL' },
        { id: 'b', type: 'cgm_glucose', at: Date.UTC(2026, 10, 10, 5, 10), value: 100, unit: 'mg/dL' },
        { id: 'c', type: 'cgm_glucose', at: Date.UTC(2026, 10, 10, 4, 20), value: 100, unit: 'mg/dL' },
      ],
      now,
    );
    await write(
      `cgm-${p}`,
      [{ id: 'd', type: 'cgm_glucose', at: Date.UTC(2026, 10, 10, 8, 50), value: 100, unit: 'mg/dL' }],
      now,
    );
    const work = await t.db.transaction().execute((trx) => takeWork(trx, 10));
    const mark = work.marks.find((m) => m.patientId === p);
    expect(mark?.day).toBe('2026-11-10');
    expect(mark?.hours).toEqual([
      Date.UTC(2026, 10, 10, 4, 0), // 04:20 UTC: UTC hour 4:00, local hour from 3:30
      Date.UTC(2026, 10, 10, 4, 30), // 04:40 UTC: UTC hour 4:00, local hour from 4:30
      Date.UTC(2026, 10, 10, 5, 0), // 05:10 UTC: UTC hour 5:00, local hour from 4:30
      Date.UTC(2026, 10, 10, 8, 30), // the second commit's: 08:50 UTC
    ]);
  });

  it('keeps a mark queued without hours a whole-day mark, and one bumped by a writer that sets no hours', async () => {
    const p = 'p-hours-old-marks';
    const now = Date.UTC(2026, 10, 10, 12);
    await patientWith(p, 'Europe/Paris', ['cgm'], now - 30 * DAY);
    // Queued before the upgrade: no hours.
    await t.query(`INSERT INTO aggregation_dirty (patient_id, type, day) VALUES ($1, 'cgm_glucose', '2026-11-09')`, [
      p,
    ]);
    await write(
      `cgm-${p}`,
      [
        { id: 'a', type: 'cgm_glucose', at: Date.UTC(2026, 10, 9, 10), value: 100, unit: 'mg/dL' },
        { id: 'b', type: 'cgm_glucose', at: Date.UTC(2026, 10, 10, 10), value: 100, unit: 'mg/dL' },
      ],
      now,
    );
    // An older writer (one that knows only the version) touches the day of 10 November.
    await t.query(`UPDATE aggregation_dirty SET version = version + 1 WHERE patient_id = $1 AND day = '2026-11-10'`, [
      p,
    ]);
    await write(
      `cgm-${p}`,
      [{ id: 'c', type: 'cgm_glucose', at: Date.UTC(2026, 10, 10, 11), value: 100, unit: 'mg/dL' }],
      now,
    );
    const work = await t.db.transaction().execute((trx) => takeWork(trx, 10));
    const marks = work.marks.filter((m) => m.patientId === p).map((m) => ({ day: m.day, hours: m.hours }));
    expect(marks).toEqual([
      { day: '2026-11-09', hours: null },
      { day: '2026-11-10', hours: null },
    ]);
  });
});

describe('recomputing by the hour', () => {
  it('recomputes the marked hours only, and the day from its hourly rows', async () => {
    const p = 'p-hours-probe';
    const now = Date.UTC(2026, 10, 10, 20);
    await patientWith(p, 'Europe/Paris', ['cgm'], now - 30 * DAY);
    const dayStart = Date.UTC(2026, 10, 9, 23); // 10 November, Paris (UTC+1)
    await write(`cgm-${p}`, cgm('g', dayStart, dayStart + 18 * HOUR), now);
    await drain(now);
    // Another hour's row made wrong on purpose: recomputed only if the job rereads the whole day.
    const probe = dayStart + 2 * HOUR;
    await t.query(
      `UPDATE rollups_hourly SET count = count + 100 WHERE patient_id = $1 AND type = 'cgm_glucose' AND hour_start = $2`,
      [p, new Date(probe)],
    );
    await write(
      `cgm-${p}`,
      [{ id: 'new', type: 'cgm_glucose', at: dayStart + 10 * HOUR + 2 * MIN, value: 400, unit: 'mg/dL' }],
      now,
    );
    await drain(now);
    expect((await hourlyRow(p, probe))?.count).toBe(112);
    expect(await hourlyRow(p, dayStart + 10 * HOUR)).toEqual({ count: 13, max: 400 });
    const { rows } = await t.query(
      `SELECT count, max FROM rollups_daily WHERE patient_id = $1 AND type = 'cgm_glucose' AND day = '2026-11-10'`,
      [p],
    );
    // 18 hours of 12 readings, one more, and the 100 of the probe: the day is the sum of its hours.
    expect(rows[0]).toEqual({ count: 18 * 12 + 1 + 100, max: 400 });
  });

  it('recomputes whole from its readings a day whose offset changes, a CGM day without partials, and a mark without hours', async () => {
    const p = 'p-hours-whole';
    const now = Date.UTC(2026, 9, 26, 20);
    await patientWith(p, 'Europe/Paris', ['cgm'], now - 30 * DAY);
    // 25 October 2026, Paris: 25 hours (UTC+2 until 01:00 UTC, then UTC+1). 20 October: 24 hours.
    const dst = Date.UTC(2026, 9, 24, 22);
    const plain = Date.UTC(2026, 9, 19, 22);
    await write(`cgm-${p}`, [...cgm('d', dst, dst + 10 * HOUR), ...cgm('p', plain, plain + 10 * HOUR)], now);
    await drain(now);
    const probes = [dst + 5 * HOUR, plain + 5 * HOUR];
    const spoil = async () => {
      for (const probe of probes) {
        await t.query(
          `UPDATE rollups_hourly SET count = count + 100 WHERE patient_id = $1 AND type = 'cgm_glucose' AND hour_start = $2`,
          [p, new Date(probe)],
        );
      }
    };
    await spoil();
    await write(
      `cgm-${p}`,
      [
        { id: 'n1', type: 'cgm_glucose', at: dst + 9 * HOUR + 2 * MIN, value: 100, unit: 'mg/dL' },
        { id: 'n2', type: 'cgm_glucose', at: plain + 9 * HOUR + 2 * MIN, value: 100, unit: 'mg/dL' },
      ],
      now,
    );
    await drain(now);
    expect((await hourlyRow(p, probes[0]))?.count, 'DST day: whole').toBe(12);
    expect((await hourlyRow(p, probes[1]))?.count, '24-hour day: by the hour').toBe(112);

    // A day without partials (as written before partials existed): whole.
    await t.query(`UPDATE rollups_daily SET with_partials = NULL WHERE patient_id = $1 AND day = '2026-10-20'`, [p]);
    await write(
      `cgm-${p}`,
      [{ id: 'n3', type: 'cgm_glucose', at: plain + 9 * HOUR + 3 * MIN, value: 100, unit: 'mg/dL' }],
      now,
    );
    await drain(now);
    expect((await hourlyRow(p, probes[1]))?.count, 'day without partials: whole').toBe(12);

    // A mark queued without hours: whole.
    await spoil();
    await t.query(`INSERT INTO aggregation_dirty (patient_id, type, day) VALUES ($1, 'cgm_glucose', '2026-10-20')`, [
      p,
    ]);
    await drain(now);
    expect((await hourlyRow(p, probes[1]))?.count, 'mark without hours: whole').toBe(12);
  });

  it('equals whole days after a late reading into an old hour, and readings in several hours of a day', async () => {
    const p = 'p-hours-late';
    const now = Date.UTC(2026, 10, 10, 20, 7);
    await patientWith(p, 'Europe/Paris', ['cgm', 'cuff', 'steps'], now - 30 * DAY);
    await write(`cgm-${p}`, cgm('g', now - 6 * DAY, now - 2 * MIN), now);
    await write(
      `cuff-${p}`,
      [0, 1, 2, 3].map((d) => ({
        id: `b${d}`,
        type: 'blood_pressure',
        at: now - d * DAY - 3 * HOUR,
        systolic: 120 + d * 3.7,
        diastolic: 80 + d,
        unit: 'mm[Hg]',
      })),
      now,
    );
    await drain(now);
    await expectEqualToWholeDays(p, now);
    // Late: a CGM reading 5 days back, 3 minutes off the sensor's grid; two readings in two hours of one day,
    // one commit; then another hour of that day in another commit; a second blood pressure in an old day.
    await write(
      `cgm-${p}`,
      [
        { id: 'late', type: 'cgm_glucose', at: now - 5 * DAY + 3 * MIN, value: 251.5, unit: 'mg/dL' },
        { id: 'x1', type: 'cgm_glucose', at: now - DAY - 7 * HOUR + 1_000, value: 53, unit: 'mg/dL' },
        { id: 'x2', type: 'cgm_glucose', at: now - DAY - 2 * HOUR + 2_000, value: 181, unit: 'mg/dL' },
      ],
      now,
    );
    await write(
      `cgm-${p}`,
      [{ id: 'x3', type: 'cgm_glucose', at: now - DAY - 4 * HOUR + 3_000, value: 69.5, unit: 'mg/dL' }],
      now,
    );
    await write(
      `cuff-${p}`,
      [
        {
          id: 'b-late',
          type: 'blood_pressure',
          at: now - 2 * DAY - 9 * HOUR,
          systolic: 151,
          diastolic: 99,
          unit: 'mm[Hg]',
        },
      ],
      now,
    );
    await drain(now);
    await expectEqualToWholeDays(p, now);
  });

  it('equals whole days across a DST change (Europe/Paris and Australia/Adelaide)', async () => {
    for (const [timeZone, now] of [
      ['Europe/Paris', Date.UTC(2026, 9, 26, 20)], // 25 October 2026: 25 hours
      ['Australia/Adelaide', Date.UTC(2026, 9, 5, 6)], // 4 October 2026: 23 hours, UTC+9:30 → +10:30
    ] as const) {
      const p = `p-hours-dst-${timeZone.replace('/', '-')}`;
      await patientWith(p, timeZone, ['cgm'], now - 30 * DAY);
      await write(`cgm-${p}`, cgm('g', now - 4 * DAY + 17 * MIN, now - 2 * MIN), now);
      await drain(now);
      // New readings every 40 minutes through the three days around the change, one commit each.
      for (let at = now - 3 * DAY + 1_500, i = 0; at < now - DAY; at += 40 * MIN, i++) {
        await write(`cgm-${p}`, [{ id: `n${i}`, type: 'cgm_glucose', at, value: 60 + i, unit: 'mg/dL' }], now);
        if (i % 9 === 0) await drain(now);
      }
      await drain(now);
      await expectEqualToWholeDays(p, now);
    }
  });

  it('equals whole days where local days begin in the middle of a UTC hour (Asia/Kolkata, Asia/Kathmandu)', async () => {
    for (const [timeZone, midnight] of [
      ['Asia/Kolkata', Date.UTC(2026, 10, 8, 18, 30)], // local midnight of 9 November: 18:30 UTC
      ['Asia/Kathmandu', Date.UTC(2026, 10, 8, 18, 15)], // 18:15 UTC
    ] as const) {
      const p = `p-hours-edge-${timeZone.replace('/', '-')}`;
      const now = midnight + 2 * DAY;
      await patientWith(p, timeZone, ['cgm', 'cgm2'], now - 30 * DAY);
      await write(`cgm-${p}`, cgm('g', midnight - 2 * DAY + 1_000, now - 2 * MIN), now);
      await drain(now);
      // Both sides of the local midnight, in the one UTC hour 18:00–19:00 that the two days share, from a
      // second sensor (a device of its own in the partials).
      await write(
        `cgm2-${p}`,
        [
          { id: 'before', type: 'cgm_glucose', at: midnight - 7 * MIN, value: 50, unit: 'mg/dL' },
          { id: 'after', type: 'cgm_glucose', at: midnight + 6 * MIN, value: 260, unit: 'mg/dL' },
        ],
        now,
      );
      await drain(now);
      await write(
        `cgm2-${p}`,
        [{ id: 'after-2', type: 'cgm_glucose', at: midnight + 11 * MIN, value: 70, unit: 'mg/dL' }],
        now,
      );
      await drain(now);
      await expectEqualToWholeDays(p, now);
    }
  });
});
