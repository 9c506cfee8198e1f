/**
 * Retention on a database of a realistic size: fills a scratch database (on
 * DATABASE_URL's server, dropped at the end) with `--readings` readings and their
 * keys spread evenly over the last `--months` months, rollups of `--patients`
 * patients for every day and hour of that time, `--rejections` rejections and
 * `--audit` audit entries spread over the last `--audit-years` years, then times
 * `applyRetention` as `vitalink retention --dry-run` and `vitalink retention` run
 * it (readings kept `--keep-days`), then a second run (nothing left to do), and
 * prints one JSON object.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/retention-load.ts --readings 3000000 --months 12 --keep-days 180
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { applyRetention } from '../src/actions/retention.ts';
import { createLogger } from '../src/logger.ts';
import { createDatabase } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrations.ts';
import { Partitions } from '../src/store/partitions.ts';
import { deleteKeysOfPages } from '../src/store/retention.repository.ts';

const { values } = parseArgs({
  options: {
    readings: { type: 'string', default: '3000000' },
    months: { type: 'string', default: '12' },
    patients: { type: 'string', default: '200' },
    devices: { type: 'string', default: '1000' },
    rejections: { type: 'string', default: '200000' },
    audit: { type: 'string', default: '200000' },
    'audit-years': { type: 'string', default: '11' },
    'keep-days': { type: 'string', default: '180' },
  },
});
const readings = Number(values.readings);
const months = Number(values.months);
const patients = Number(values.patients);
const devices = Number(values.devices);
const DAY = 86_400_000;
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('retention-load: set DATABASE_URL to a PostgreSQL server where a database may be created\n');
  process.exit(2);
}

const say = (what: string) => process.stderr.write(`${new Date().toISOString()} ${what}\n`);
const timed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const result = await work();
  return [result, Math.round(performance.now() - t0)];
};

const scratch = await createScratchDatabase(base, { prefix: 'h_ret_retention' });
const log = createLogger('warn', process.stderr);
const { db } = createDatabase(scratch.url, 2, log);
const client = new pg.Client({ connectionString: scratch.url });
try {
  await migrateToLatest(db, log);
  await client.connect();
  const now = Date.now();
  const spanMs = months * 30 * DAY;
  await new Partitions(db).ensureRange(now - spanMs, now);
  say('patients, devices');
  await client.query(`INSERT INTO patients (id) SELECT 'p' || g FROM generate_series(0, $1 - 1) g`, [patients]);
  // Readings are written straight, not through the assignment lookup: device d belongs to patient d % patients.
  say(`${readings} readings and keys`);
  const chunk = 500_000;
  for (let from = 0; from < readings; from += chunk) {
    const to = Math.min(readings, from + chunk);
    // Oldest first, as a service receives them: the heap is in time order, the keys' index is not.
    const rows = `
      SELECT g, 'd' || (g % $3) AS device_id, 'p' || (g % $3 % $4) AS patient_id, 'r' || g AS reading_id,
             to_timestamp(($5::float8 - $6::float8 + g * ($6::float8 / $2)) / 1000) AS measured_at
      FROM generate_series($1::int, $7::int - 1) g`;
    const args = [from, readings, devices, patients, now, spanMs, to];
    await client.query(
      `INSERT INTO reading_keys (device_id, reading_id, content_hash)
       SELECT device_id, reading_id, md5(reading_id) FROM (${rows}) s`,
      args,
    );
    await client.query(
      `INSERT INTO readings (patient_id, device_id, reading_id, type, loinc, unit, value, sent_unit, sent_value,
                             measured_at, received_at)
       SELECT patient_id, device_id, reading_id, 'heart_rate', '8867-4', '/min', 70 + g % 20, '/min', 70 + g % 20,
              measured_at, measured_at FROM (${rows}) s`,
      args,
    );
    say(`  ${to}`);
  }
  say('rollups');
  const days = Math.ceil(spanMs / DAY);
  await client.query(
    `INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at)
     SELECT 'p' || p, 'heart_rate', 'value', (to_timestamp($2::float8 / 1000) - d * interval '1 day')::date,
            24, 60, 90, 72, 5, 1728, now(), now()
     FROM generate_series(0, $1 - 1) p, generate_series(0, $3) d`,
    [patients, now, days],
  );
  await client.query(
    `INSERT INTO rollups_hourly (patient_id, type, component, hour_start, count, min, max, mean, sd, sum, first_at, last_at)
     SELECT 'p' || p, 'heart_rate', 'value', date_trunc('hour', to_timestamp($2::float8 / 1000)) - h * interval '1 hour',
            1, 72, 72, 72, NULL, 72, now(), now()
     FROM generate_series(0, $1 - 1) p, generate_series(0, $3 * 24) h`,
    [patients, now, days],
  );
  say('rejections, audit log');
  await client.query(
    `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
     SELECT 'd' || (g % $3), 'x' || g, 'out_of_range', 'heart_rate 400 /min is outside the plausible range',
            convert_to('{"id":"x' || g || '","type":"heart_rate","value":400}', 'UTF8'), md5(g::text),
            to_timestamp(($2::float8 - g * ($4::float8 / $1)) / 1000)
     FROM generate_series(1, $1) g`,
    [Number(values.rejections), now, devices, spanMs],
  );
  const auditSpan = Number(values['audit-years']) * 365 * DAY;
  await client.query(
    `INSERT INTO audit_log (at, role, patient_id, action)
     SELECT to_timestamp(($2::float8 - g * ($3::float8 / $1)) / 1000), 'clinician', 'p' || (g % 200), 'readings'
     FROM generate_series(1, $1) g`,
    [Number(values.audit), now, auditSpan],
  );
  say('vacuum analyze');
  await client.query('VACUUM ANALYZE');
  const size = await client.query(
    `SELECT (SELECT count(*) FROM reading_keys) AS keys, pg_size_pretty(pg_total_relation_size('reading_keys')) AS keys_size,
            (SELECT count(*) FROM rollups_hourly) AS hourly, (SELECT count(*) FROM rollups_daily) AS daily`,
  );

  // What the key removal replaces: a scan of every key (reading_keys has no time column
  // nor time index, so a delete by time would need at least that, and a join to readings).
  const [, fullScanMs] = await timed(() => client.query(`SELECT count(*) FROM reading_keys`));
  // The plan of one batch of key removal (src/store/retention.repository.ts): a TID range
  // scan of the partition, a probe of reading_keys' primary key per reading.
  const oldest = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'readings'::regclass ORDER BY c.relname LIMIT 1`,
  );
  const plan = await sql<{
    'QUERY PLAN': string;
  }>`EXPLAIN (COSTS OFF) ${deleteKeysOfPages(oldest.rows[0].name, 0, 256)}`.execute(db);
  const keyBatchPlan = plan.rows.map((r) => r['QUERY PLAN'].trim());
  const settings = {
    readingsDays: Number(values['keep-days']),
    rejectionsDays: 180,
    auditDays: 3650,
    readingMaxAgeMs: 90 * DAY,
  };
  say('dry run');
  const [dry, dryMs] = await timed(() => applyRetention(db, settings, { dryRun: true, now }));
  // One kind at a time, to time each: keys first (as a run does), then partitions and rollups, then the rest.
  const only = { readingsDays: null, rejectionsDays: null, auditDays: null, readingMaxAgeMs: settings.readingMaxAgeMs };
  say('run: keys');
  const [keysRun, keysMs] = await timed(() => applyRetention(db, only, { dryRun: false, now }));
  say('run: partitions and rollups');
  const [readingsRun, readingsMs] = await timed(() =>
    applyRetention(db, { ...only, readingsDays: settings.readingsDays }, { dryRun: false, now }),
  );
  say('run: rejections and audit log');
  const [rest, restMs] = await timed(() => applyRetention(db, settings, { dryRun: false, now }));
  say('second run');
  const [again, againMs] = await timed(() => applyRetention(db, settings, { dryRun: false, now }));
  const after = await client.query(
    `SELECT (SELECT count(*) FROM reading_keys) AS keys,
            (SELECT count(*) FROM pg_inherits WHERE inhparent = 'readings'::regclass) AS partitions`,
  );
  process.stdout.write(
    `${JSON.stringify({
      before: size.rows[0],
      fullScanOfKeysMs: fullScanMs,
      keyBatchPlan,
      dryRun: {
        ms: dryMs,
        keys: dry.readingKeys.rows,
        readings: dry.readings.rows,
        partitions: dry.readings.partitions,
      },
      run: {
        keys: { ms: keysMs, rows: keysRun.readingKeys.rows, months: keysRun.readingKeys.months.length },
        partitionsAndRollups: {
          ms: readingsMs,
          partitions: readingsRun.readings.partitions.length,
          readings: readingsRun.readings.rows,
          rollupsDaily: readingsRun.readings.rollupsDaily,
          rollupsHourly: readingsRun.readings.rollupsHourly,
        },
        rejectionsAndAudit: { ms: restMs, rejections: rest.rejections.rows, auditLog: rest.auditLog.rows },
      },
      secondRun: { ms: againMs, keys: again.readingKeys.rows, partitions: again.readings.partitions.length },
      after: after.rows[0],
    })}\n`,
  );
} finally {
  await client.end().catch(() => {});
  await db.destroy();
  await scratch.drop();
}
