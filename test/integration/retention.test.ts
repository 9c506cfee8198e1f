import { describe, expect, it } from 'vitest';
import { applyRetention } from '../../src/actions/retention.ts';
import { reprocessRejections } from '../../src/actions/reprocess.ts';
import { DAY_MS, type RetentionSettings, utcMonthStart } from '../../src/domain/retention.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { partitionMonth, Partitions } from '../../src/store/partitions.ts';
import { releaseRetentionLock, tryRetentionLock } from '../../src/store/retention.repository.ts';
import { useTestDatabase } from '../fixture.ts';
import { heartRate } from '../helpers/device.ts';

const t = useTestDatabase();

/** The test's clock: retention runs are given this `now`. */
const NOW = Date.parse('2026-12-15T12:00:00Z');
const settings = (s: Partial<RetentionSettings> = {}): RetentionSettings => ({
  readingsDays: 200,
  rejectionsDays: 180,
  auditDays: 3650,
  readingMaxAgeMs: 90 * DAY_MS,
  ...s,
});

/** Stores a reading measured at `at` as ingestion would have when it arrived (its clock then was `at`). */
async function store(deviceId: string, readingId: string, at: string): Promise<void> {
  const ms = Date.parse(at);
  const payload = Buffer.from(JSON.stringify(heartRate(readingId, 72, ms)));
  const decoded = decodeMessage(payload, { now: ms, maxAgeMs: 90 * DAY_MS, maxFutureMs: 300_000 });
  expect(decoded.rejections).toEqual([]);
  const [outcome] = await writeBatch(t.db, new Partitions(t.db), [{ deviceId, receivedAt: ms, ...decoded }]);
  expect(outcome.stored).toBe(1);
}

async function partitions(): Promise<string[]> {
  const { rows } = await t.query(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'readings'::regclass ORDER BY 1`,
  );
  return rows.map((r) => r.relname);
}

async function ids(table: string, column: string, where = 'true'): Promise<string[]> {
  const { rows } = await t.query(`SELECT ${column} AS v FROM ${table} WHERE ${where} ORDER BY 1`);
  return rows.map((r) => String(r.v));
}

/** Everything retention may touch, to compare before and after a dry run. */
async function snapshot() {
  return {
    partitions: await partitions(),
    readings: await ids('readings', 'reading_id'),
    keys: await ids('reading_keys', 'reading_id'),
    daily: await ids('rollups_daily', "patient_id || ' ' || day"),
    hourly: await ids('rollups_hourly', "patient_id || ' ' || hour_start"),
    rejections: (await t.query('SELECT count(*)::int AS n FROM rejections')).rows[0].n,
    audit: (await t.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n,
    pruned: await ids('reading_keys_pruned', 'month'),
  };
}

async function addRollups(patientId: string, days: string[], hours: string[]): Promise<void> {
  for (const day of days) {
    await t.query(
      `INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at)
       VALUES ($1, 'heart_rate', 'value', $2, 1, 72, 72, 72, NULL, 72, now(), now())`,
      [patientId, day],
    );
  }
  for (const hour of hours) {
    await t.query(
      `INSERT INTO rollups_hourly (patient_id, type, component, hour_start, count, min, max, mean, sd, sum, first_at, last_at)
       VALUES ($1, 'heart_rate', 'value', $2, 1, 72, 72, 72, NULL, 72, now(), now())`,
      [patientId, hour],
    );
  }
}

describe('retention of readings, their rollups and their duplicate keys', () => {
  it('dry run changes nothing; a run drops whole old UTC months with their rollups and removes keys by the window only', async () => {
    await t.addPatient('ret-paris', { timeZone: 'Europe/Paris' });
    await t.addPatient('ret-la', { timeZone: 'America/Los_Angeles' });
    await t.addPatient('ret-kolkata', { timeZone: 'Asia/Kolkata' });
    await t.provisionDevice('ret-d1', 'ret-paris', new Date('2025-01-01T00:00:00Z'));
    // now − 200 days = 2026-05-29: months ending by 2026-05-01 go (March, April).
    await store('ret-d1', 'r-march', '2026-03-10T08:00:00Z');
    await store('ret-d1', 'r-april-utc', '2026-04-30T23:30:00Z'); // 1 May, 01:30 in Paris: still April's partition
    await store('ret-d1', 'r-may', '2026-05-01T00:30:00Z'); // kept, but its key goes: May ends before now − 97 days
    await store('ret-d1', 'r-september', '2026-09-20T10:00:00Z'); // its month is not wholly before 2026-09-09: key kept
    await store('ret-d1', 'r-december', '2026-12-10T10:00:00Z');
    // Paris' 30 April ends at 22:00Z: before the cutoff. Los Angeles' ends on 1 May at 07:00Z: kept.
    await addRollups(
      'ret-paris',
      ['2026-04-29', '2026-04-30', '2026-05-01'],
      ['2026-04-30T23:00:00Z', '2026-05-01T00:00:00Z'],
    );
    await addRollups('ret-la', ['2026-04-29', '2026-04-30'], []);
    // Kolkata's hours start at :30 UTC: the one from 23:30Z ends after the cutoff.
    await addRollups('ret-kolkata', [], ['2026-04-30T22:30:00Z', '2026-04-30T23:30:00Z']);

    const before = await snapshot();
    expect(before.partitions).toEqual(
      expect.arrayContaining(['readings_2026_03', 'readings_2026_04', 'readings_2026_05', 'readings_2026_09']),
    );

    const dry = await applyRetention(t.db, settings(), { dryRun: true, now: NOW });
    expect(await snapshot()).toEqual(before);
    expect(dry).toMatchObject({
      dryRun: true,
      skipped: false,
      readings: {
        keepDays: 200,
        before: '2026-05-01T00:00:00.000Z',
        partitions: expect.arrayContaining(['readings_2026_03', 'readings_2026_04']),
        rows: 2,
        rollupsDaily: 3, // Paris 29 and 30 April, Los Angeles 29 April
        rollupsHourly: 2, // Paris 23:00Z, Kolkata 22:30Z
      },
      readingKeys: { before: new Date(NOW - 97 * DAY_MS).toISOString(), rows: 3 },
    });
    expect(dry.readingKeys.months).toEqual(expect.arrayContaining(['2026-03', '2026-04', '2026-05']));
    expect(dry.readingKeys.months).not.toContain('2026-09');

    const run = await applyRetention(t.db, settings(), { dryRun: false, now: NOW });
    expect({ ...run, dryRun: true }).toEqual(dry);

    const after = await snapshot();
    expect(after.partitions).not.toContain('readings_2026_03');
    expect(after.partitions).not.toContain('readings_2026_04');
    expect(after.partitions).toEqual(
      expect.arrayContaining(['readings_2026_05', 'readings_2026_09', 'readings_2026_12']),
    );
    expect(after.readings).toEqual(['r-december', 'r-may', 'r-september']);
    expect(after.keys).toEqual(['r-december', 'r-september']);
    expect(after.daily).toEqual(['ret-la 2026-04-30', 'ret-paris 2026-05-01']);
    expect(after.hourly.map((h) => h.split(' ')[0])).toEqual(['ret-kolkata', 'ret-paris']);
    expect(after.pruned.length).toBe(dry.readingKeys.months.length);

    const again = await applyRetention(t.db, settings(), { dryRun: false, now: NOW });
    expect(again.readings.partitions).toEqual([]);
    expect(again.readingKeys).toMatchObject({ months: [], rows: 0 });
    expect(again.readings.rollupsDaily + again.readings.rollupsHourly).toBe(0);
  });

  it('keeps readings forever by default, and still bounds the keys by the window', async () => {
    await t.provisionDevice('ret-d2', 'ret-forever', new Date('2025-01-01T00:00:00Z'));
    await store('ret-d2', 'f-2025', '2025-11-05T08:00:00Z');
    const report = await applyRetention(t.db, settings({ readingsDays: null }), { dryRun: false, now: NOW });
    expect(report.readings).toMatchObject({ keepDays: null, before: null, partitions: [], rows: 0 });
    expect(report.readingKeys.months).toContain('2025-11');
    expect(await partitions()).toContain('readings_2025_11');
    expect(await ids('readings', 'reading_id', `device_id = 'ret-d2'`)).toEqual(['f-2025']);
    expect(await ids('reading_keys', 'reading_id', `device_id = 'ret-d2'`)).toEqual([]);
  });

  it('reprocessing cannot store a reading older than the keys horizon a second time', async () => {
    await t.provisionDevice('ret-d3', 'ret-reprocess', new Date('2025-01-01T00:00:00Z'));
    const at = Date.now() - 120 * DAY_MS;
    const iso = new Date(at).toISOString();
    await store('ret-d3', 'x-1', iso);
    // The same id with other content, received the next day: a conflict, kept open.
    const payload = Buffer.from(JSON.stringify(heartRate('x-1', 99, at)));
    const decoded = decodeMessage(payload, { now: at + DAY_MS, maxAgeMs: 90 * DAY_MS, maxFutureMs: 300_000 });
    const [conflict] = await writeBatch(t.db, new Partitions(t.db), [
      { deviceId: 'ret-d3', receivedAt: at + DAY_MS, ...decoded },
    ]);
    expect(conflict.rejections.map((r) => r.reason)).toEqual(['conflict']);

    await applyRetention(t.db, settings({ readingsDays: null }), { dryRun: false, now: Date.now() });
    expect(await ids('reading_keys', 'reading_id', `device_id = 'ret-d3'`)).toEqual([]);

    const report = await reprocessRejections(
      t.db,
      new Partitions(t.db),
      { deviceId: 'ret-d3' },
      90 * DAY_MS,
      () => new Date(),
    );
    // The conflict is closed for a too_old rejection (which the same pass then finds still too old).
    expect(report.items[0]).toMatchObject({ previousReason: 'conflict', outcome: 'rejected', reasons: ['too_old'] });
    expect(report.counts.stored).toBe(0);
    const { rows: details } = await t.query(
      `SELECT detail FROM rejections WHERE device_id = 'ret-d3' AND reason = 'too_old'`,
    );
    expect(details[0].detail).toMatch(/recognises duplicates/);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM readings WHERE device_id = 'ret-d3'`);
    expect(rows[0].n).toBe(1);
  });
});

describe('a partition left detached', () => {
  it('by a run that could not drop it is dropped by the next one, keys first', async () => {
    await t.provisionDevice('ret-d4', 'ret-detached', new Date('2025-01-01T00:00:00Z'));
    await store('ret-d4', 'd-1', '2025-02-10T08:00:00Z');
    await t.query('ALTER TABLE readings DETACH PARTITION readings_2025_02');
    const report = await applyRetention(t.db, settings(), { dryRun: false, now: NOW });
    expect(report.readings.partitions).toContain('readings_2025_02');
    expect(report.readingKeys.months).toContain('2025-02');
    expect((await t.query(`SELECT to_regclass('readings_2025_02') IS NULL AS gone`)).rows[0].gone).toBe(true);
    expect(await ids('reading_keys', 'reading_id', `device_id = 'ret-d4'`)).toEqual([]);
  });
});

describe('retention of rejections and of the audit log', () => {
  it('deletes what is older than its cutoff, in batches, and keeps the rest', async () => {
    const old = new Date(NOW - 181 * DAY_MS);
    const recent = new Date(NOW - 179 * DAY_MS);
    // More than one batch (5000 rows) of old ones.
    await t.query(
      `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
       SELECT 'rj-dev', 'rj-' || g, 'out_of_range', 'x', '\\x00', md5(g::text), CASE WHEN g <= 5003 THEN $1 ELSE $2 END::timestamptz
       FROM generate_series(1, 5005) g`,
      [old, recent],
    );
    await t.query(
      `INSERT INTO audit_log (at, role, patient_id, action)
       SELECT CASE WHEN g <= 5001 THEN $1 ELSE $2 END::timestamptz, 'clinician', 'p', 'readings'
       FROM generate_series(1, 5004) g`,
      [new Date(NOW - 3651 * DAY_MS), new Date(NOW - 3649 * DAY_MS)],
    );
    const dry = await applyRetention(t.db, settings(), { dryRun: true, now: NOW });
    expect(dry.rejections).toEqual({ keepDays: 180, before: new Date(NOW - 180 * DAY_MS).toISOString(), rows: 5003 });
    expect(dry.auditLog).toEqual({ keepDays: 3650, before: new Date(NOW - 3650 * DAY_MS).toISOString(), rows: 5001 });
    expect((await t.query(`SELECT count(*)::int AS n FROM rejections WHERE device_id = 'rj-dev'`)).rows[0].n).toBe(
      5005,
    );

    const run = await applyRetention(t.db, settings(), { dryRun: false, now: NOW });
    expect(run.rejections.rows).toBe(5003);
    expect(run.auditLog.rows).toBe(5001);
    expect(await ids('rejections', 'reading_id', `device_id = 'rj-dev'`)).toEqual(['rj-5004', 'rj-5005']);
    expect((await t.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBe(3);

    const forever = await applyRetention(t.db, settings({ rejectionsDays: null, auditDays: null }), {
      dryRun: false,
      now: NOW + 1000 * DAY_MS,
    });
    expect(forever.rejections).toEqual({ keepDays: null, before: null, rows: 0 });
    expect(forever.auditLog).toEqual({ keepDays: null, before: null, rows: 0 });
    expect((await t.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBe(3);
  });
});

describe('one run at a time', () => {
  it('a run that finds the advisory lock taken does nothing and says so', async () => {
    await t.query(
      `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
       VALUES ('lk-dev', 'lk-1', 'out_of_range', 'x', '\\x00', 'lk', $1)`,
      [new Date(NOW - 400 * DAY_MS)],
    );
    await t.db.connection().execute(async (conn) => {
      expect(await tryRetentionLock(conn)).toBe(true);
      try {
        const report = await applyRetention(t.db, settings(), { dryRun: false, now: NOW });
        expect(report.skipped).toBe(true);
        expect(report.rejections.rows).toBe(0);
        expect(await ids('rejections', 'reading_id', `device_id = 'lk-dev'`)).toEqual(['lk-1']);
      } finally {
        await releaseRetentionLock(conn);
      }
    });
    const report = await applyRetention(t.db, settings(), { dryRun: false, now: NOW });
    expect(report.skipped).toBe(false);
    expect(await ids('rejections', 'reading_id', `device_id = 'lk-dev'`)).toEqual([]);
  });
});

describe('partition counts', () => {
  it('stay bounded when the service creates months ahead and retention drops old ones, month after month', async () => {
    const maxAgeMs = 90 * DAY_MS;
    const p = new Partitions(t.db);
    // The simulated clock ends before the real one: the database creates partitions up to a
    // year ahead of its own clock and drops none of a month that ended less than 97 days
    // ago by it (README, "Security", "Database roles").
    const start = Date.now() - (24 * 30.5 + 62 + 97) * DAY_MS;
    for (let month = 0; month < 24; month++) {
      const now = start + month * 30.5 * DAY_MS;
      // What PartitionMaintenance does every six hours (its range is pinned in test/unit/store).
      await p.ensureRange(now - maxAgeMs, now + 62 * DAY_MS);
      await applyRetention(t.db, settings({ readingsDays: 97 }), { dryRun: false, now });
      // Partitions of months after the simulated window are the other tests' (real time).
      const names = (await partitions()).filter((n) => partitionMonth(n)! <= now + 62 * DAY_MS);
      // From the month of now − 97 days to the month of now + 62 days: 159 days touch at most 7 months.
      expect(names.length).toBeLessThanOrEqual(7);
      const oldestKept = utcMonthStart(now - 97 * DAY_MS);
      expect(names.map((n) => partitionMonth(n)!).filter((m) => m < oldestKept)).toEqual([]);
    }
  });
});

describe('CGM partial aggregates', () => {
  async function addPartials(patientId: string, hours: string[]): Promise<void> {
    for (const [table, column] of [
      ['cgm_hourly_partials', 'hour_start'],
      ['cgm_daily_partials', 'day_start'],
    ]) {
      for (const at of hours) {
        const start = column === 'day_start' ? `${at.slice(0, 10)}T00:00:00Z` : at;
        await t.query(
          `INSERT INTO ${table} (patient_id, ${column}, device_id, count, sum, m2, min, max, below_54, below_70,
             in_70_180, above_180, above_250, first_ms, last_ms, gap_values, gap_counts)
           VALUES ($1, $2, 'cgm-1', 1, 100, 0, 100, 100, 0, 0, 1, 0, 0, 0, 0, '{}', '{}')
           ON CONFLICT DO NOTHING`,
          [patientId, start],
        );
      }
    }
  }
  const rows = async (table: string, column: string) =>
    ids(table, `patient_id || ' ' || to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')`);

  it('are kept for the 14-day window and three days more, whatever the readings retention, patient by patient', async () => {
    // NOW is 2026-12-15T12:00Z: partials ending by 2026-11-28T12:00Z go.
    for (const id of ['ret-cgm-a', 'ret-cgm-b']) {
      await t.addPatient(id);
      await addPartials(id, [
        '2026-11-27T10:00:00Z',
        '2026-11-28T11:00:00Z',
        '2026-11-28T12:00:00Z',
        '2026-12-14T08:00:00Z',
      ]);
    }
    const dry = await applyRetention(t.db, settings({ readingsDays: null }), { dryRun: true, now: NOW });
    expect(dry.cgmPartials).toEqual({ before: '2026-11-28T12:00:00.000Z', daily: 2, hourly: 4 });
    expect(await rows('cgm_hourly_partials', 'hour_start')).toHaveLength(8);

    const run = await applyRetention(t.db, settings({ readingsDays: null }), { dryRun: false, now: NOW });
    expect(run.cgmPartials).toEqual({ before: '2026-11-28T12:00:00.000Z', daily: 2, hourly: 4 });
    expect(await rows('cgm_hourly_partials', 'hour_start')).toEqual(
      ['ret-cgm-a', 'ret-cgm-b'].flatMap((id) => [`${id} 2026-11-28T12`, `${id} 2026-12-14T08`]),
    );
    // The day that holds the cutoff is kept: the window may still need its hours.
    expect(await rows('cgm_daily_partials', 'day_start')).toEqual(
      ['ret-cgm-a', 'ret-cgm-b'].flatMap((id) => [`${id} 2026-11-28T00`, `${id} 2026-12-14T00`]),
    );
  });
});
