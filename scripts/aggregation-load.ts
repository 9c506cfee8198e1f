/**
 * What the aggregation job costs per patient, on a scratch database: `--patients`
 * patients with `--days` days of 5-minute CGM readings plus a daily blood pressure
 * and a daily weight, written as the write path writes them (reading_keys, readings
 * and dirty marks, in bulk SQL), then the job's own runs (Aggregator.runOnce, the
 * service's batch of 200 patients) until nothing is left, for:
 *   settle   the backlog of all those days for every patient (a bulk import)
 *   newCgm   one new CGM reading per patient, written through writeBatch
 *   refresh  the hourly refresh of every patient active in 30 days
 *   late     one CGM reading 10 days back per patient
 * With `--heart-rate`, every patient also wears a watch sending heart rate every
 * minute (the last two days), whose 24-hour indicators are read from readings.
 * For each it prints wall ms per patient (each run is one transaction, so this is the
 * transaction time: database and the job's own computing), and from
 * pg_stat_database the pages (shared buffers hit + read) and rows (returned +
 * fetched) the job's connections touched, per patient. Output: one JSON object.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/aggregation-load.ts --patients 100 --days 31
 */
import { resolveKeyRing } from '../src/actions/secret-keys.ts';
import { readSecretKeys } from '../src/config.ts';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { addDevice, addPatient } from '../src/actions/provisioning.ts';
import { Aggregator } from '../src/aggregation/aggregator.ts';
import { decodeReading } from '../src/ingest/decode.ts';
import { createLogger } from '../src/logger.ts';
import { markRecentPatientsForRefresh } from '../src/store/aggregation.repository.ts';
import { createDatabase, type Db } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrations.ts';
import { Partitions } from '../src/store/partitions.ts';
import { writeBatch } from '../src/store/reading-sink.ts';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '100' },
    days: { type: 'string', default: '31' },
    batch: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
    // Also a wearable's heart rate every minute over the last two days (what 24 h windows cost at 1/min).
    'heart-rate': { type: 'boolean', default: false },
  },
});
const patients = Number(values.patients);
const days = Number(values.days);
const batchSize = Number(values.batch);
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('aggregation-load: set DATABASE_URL to a PostgreSQL server where a database may be created\n');
  process.exit(2);
}
if (!(patients >= 1 && days >= 1 && batchSize >= 1)) {
  process.stderr.write('aggregation-load: --patients, --days and --batch must be positive numbers\n');
  process.exit(2);
}

const DAY = 86_400_000;
const FIVE_MIN = 300_000;
const log = createLogger('warn', process.stderr);
const scratch = await createScratchDatabase(base, { prefix: 'h_agg_load' });
const admin = new pg.Client({ connectionString: scratch.url });
const now = Date.now();

/** Pages and rows that the database's sessions touched so far (flushed when they end). */
async function counters(): Promise<{ pages: number; rows: number }> {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ pages: string; rows: string }>(
    `SELECT (blks_hit + blks_read)::text AS pages, (tup_returned + tup_fetched)::text AS rows
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return { pages: Number(rows[0].pages), rows: Number(rows[0].rows) };
}

/** A pool of its own, ended afterwards, so that its sessions' statistics are flushed. */
async function withPool<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const { db } = createDatabase(scratch.url, 2, log);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Runs the job until no work is left; its wall time and what its sessions read. */
async function drain(label: string, before?: (db: Db) => Promise<void>) {
  await new Promise((r) => setTimeout(r, 300));
  const start = await counters();
  let runs = 0;
  let patientRuns = 0;
  let ms = 0;
  await withPool(async (db) => {
    if (before) await before(db);
    const job = new Aggregator({ db, log, intervalMs: 1000, batchSize, refreshEveryMs: 3_600_000, now: () => now });
    const t0 = performance.now();
    for (;;) {
      const result = await job.runOnce();
      if (result.patients === 0 && result.marks === 0) break;
      runs++;
      patientRuns += result.patients;
    }
    ms = performance.now() - t0;
  });
  // Sessions flush their statistics as they exit.
  await new Promise((r) => setTimeout(r, 500));
  const end = await counters();
  const per = Math.max(patientRuns, 1);
  return {
    scenario: label,
    runs,
    patientRuns,
    wallMs: Math.round(ms),
    msPerPatient: Number((ms / per).toFixed(2)),
    pagesPerPatient: Math.round((end.pages - start.pages) / per),
    rowsPerPatient: Math.round((end.rows - start.rows) / per),
  };
}

/** One reading per patient, written through the service's write path. */
async function writeOnePerPatient(type: string, at: number, id: string): Promise<void> {
  await withPool(async (db) => {
    const partitions = new Partitions(db);
    const messages = [];
    for (let p = 0; p < patients; p++) {
      const decoded = decodeReading(
        { id, type, at, value: 80 + (p % 200), unit: 'mg/dL' },
        { now, maxAgeMs: 90 * DAY, maxFutureMs: 300_000 },
      );
      if (!decoded.ok) throw new Error(`aggregation-load: its own reading was rejected: ${JSON.stringify(decoded)}`);
      messages.push({ deviceId: `cgm-${p}`, receivedAt: now, readings: [decoded.reading], rejections: [] });
    }
    await writeBatch(db, partitions, messages);
  });
}

try {
  await admin.connect();
  const loadStarted = performance.now();
  await withPool(async (db) => {
    await migrateToLatest(db, log);
    const since = now - days * DAY;
    await new Partitions(db).ensureRange(Math.min(since, now - 11 * DAY) - DAY, now + DAY);
    const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
    for (let p = 0; p < patients; p++) {
      await addPatient(db, { id: `p${p}` });
      for (const kind of ['cgm', 'cuff', 'scale', 'watch']) {
        await addDevice(db, keys, { id: `${kind}-${p}`, patientId: `p${p}` }, new Date(now - (days + 12) * DAY));
      }
    }
    // The rows the write path would store (src/store/readings.repository.ts), in bulk:
    // 5-minute CGM glucose sweeping all ranges, a morning blood pressure and weight a day.
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      await client.query(
        `CREATE TEMP TABLE load AS
         SELECT p, 'cgm-' || p AS device_id, 'c' || i AS reading_id, 'cgm_glucose' AS type, '99504-3' AS loinc,
                'mg/dL' AS unit, (60 + ((i * 7 + p * 13) % 260))::float8 AS value, NULL::float8 AS systolic,
                NULL::float8 AS diastolic, to_timestamp(($1::int8 - i::int8 * ${FIVE_MIN}) / 1000.0) AS measured_at
         FROM generate_series(0, $2::int - 1) p, generate_series(1, $3::int) i
         UNION ALL
         SELECT p, 'cuff-' || p, 'b' || d, 'blood_pressure', '85354-9', 'mm[Hg]', NULL, 120 + (d * 3 + p) % 40,
                75 + (d + p) % 20, to_timestamp(($1::int8 - d::int8 * ${DAY} - 3600000) / 1000.0)
         FROM generate_series(0, $2::int - 1) p, generate_series(0, $4::int - 1) d
         UNION ALL
         SELECT p, 'scale-' || p, 'w' || d, 'body_weight', '29463-7', 'kg', 70 + ((d + p) % 7) * 0.3, NULL, NULL,
                to_timestamp(($1::int8 - d::int8 * ${DAY} - 3500000) / 1000.0)
         FROM generate_series(0, $2::int - 1) p, generate_series(0, $4::int - 1) d
         UNION ALL
         SELECT p, 'watch-' || p, 'h' || m, 'heart_rate', '8867-4', '/min', 60 + (m + p) % 50, NULL, NULL,
                to_timestamp(($1::int8 - m::int8 * 60000) / 1000.0)
         FROM generate_series(0, $2::int - 1) p, generate_series(1, $5::int) m`,
        [now, patients, Math.floor((days * DAY) / FIVE_MIN) - 1, days, values['heart-rate'] ? 2 * 1440 : 0],
      );
      await client.query(
        `INSERT INTO reading_keys (device_id, reading_id, content_hash)
         SELECT device_id, reading_id, md5(reading_id) FROM load`,
      );
      await client.query(
        `INSERT INTO readings (patient_id, device_id, reading_id, type, loinc, unit, value, systolic, diastolic,
                               sent_unit, sent_value, sent_systolic, sent_diastolic, measured_at, received_at)
         SELECT 'p' || p, device_id, reading_id, type, loinc, unit, value, systolic, diastolic,
                unit, value, systolic, diastolic, measured_at, measured_at FROM load ORDER BY measured_at`,
      );
      await client.query(
        `INSERT INTO aggregation_dirty (patient_id, type, day)
         SELECT DISTINCT 'p' || p, type, (measured_at AT TIME ZONE 'Europe/Paris')::date FROM load`,
      );
      await client.query('ANALYZE');
    } finally {
      await client.end();
    }
  });
  const loadMs = Math.round(performance.now() - loadStarted);
  const { rows: sizes } = await admin.query<{ readings: string }>(`SELECT count(*)::text AS readings FROM readings`);

  const results = [];
  results.push(await drain('settle'));
  await writeOnePerPatient('cgm_glucose', now - 1000, 'new-1');
  results.push(await drain('newCgm'));
  results.push(
    await drain('refresh', async (db) => {
      await markRecentPatientsForRefresh(db, 30);
    }),
  );
  await writeOnePerPatient('cgm_glucose', now - 10 * DAY + 150_000, 'late-1');
  results.push(await drain('late'));

  const newCgm = results.find((r) => r.scenario === 'newCgm');
  process.stdout.write(
    `${JSON.stringify(
      {
        patients,
        days,
        heartRatePerMinute: values['heart-rate'],
        batchSize,
        readings: Number(sizes[0].readings),
        loadMs,
        results,
        // 10,000 CGM patients each sending a reading every 5 minutes: 2,000 patient runs a minute.
        extrapolatedJobMsPerMinuteFor10kCgm: newCgm ? Math.round(newCgm.msPerPatient * 2000) : null,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await admin.end();
  if (values.keep) process.stderr.write(`aggregation-load: kept ${scratch.url}\n`);
  else await scratch.drop();
}
