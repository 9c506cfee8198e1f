/**
 * What a long series read costs when the rollups are laid out as production writes
 * them: the aggregation job writes each hour's rollups for every patient active in
 * that hour, so one patient's 2,160 hourly rows of 90 days lie on about 2,160
 * different heap pages (the scale benchmark aggregates patient by patient, which
 * hides this). Loads `--patients` CGM patients × `--days` days of hourly and daily
 * rollups in that order into a scratch database (migrated: the real schema and
 * indexes), vacuums, then runs the series queries of src/store/rollups.repository.ts
 * for `--samples` patients and prints, per query, the buffers it touched (the
 * cache-independent cost), p50/p99 of the SQL time, and whether it was an
 * index-only scan. README, "Sizing".
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/rollups-layout.ts [--patients 2000] [--days 90] [--samples 50] [--keep]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { createDatabase } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrations.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '2000' },
    days: { type: 'string', default: '90' },
    samples: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
  },
});
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('rollups-layout: set DATABASE_URL to a PostgreSQL server (a scratch database is made there)\n');
  process.exit(2);
}
const patients = Number(values.patients);
const days = Number(values.days);
const samples = Number(values.samples);

const scratch = await createScratchDatabase(base, { prefix: 'vitalink_layout' });
const log = createLogger('warn', process.stderr);
const { db } = createDatabase(scratch.url, 2, log, 'rollups-layout');
await migrateToLatest(db, log);
await db.destroy();

const client = new pg.Client({ connectionString: scratch.url });
await client.connect();
const end = Date.UTC(2026, 11, 1);
const start = end - days * 86_400_000;
try {
  await client.query(
    `INSERT INTO patients (id, time_zone) SELECT 'lp-' || lpad(i::text, 5, '0'), 'UTC' FROM generate_series(1, $1) i`,
    [patients],
  );
  const t0 = Date.now();
  // Hour by hour, all patients in each hour: the order the job writes them in production.
  for (let day = 0; day < days; day++) {
    const dayStart = new Date(start + day * 86_400_000);
    await client.query(
      `INSERT INTO rollups_hourly (patient_id, type, component, hour_start, count, min, max, mean, sd, sum, first_at, last_at)
       SELECT 'lp-' || lpad(p::text, 5, '0'), 'cgm_glucose', 'value', h, 12, 70 + p % 10, 180, 120.5, 20.1, 1446, h, h + interval '55 minutes'
       FROM generate_series($1::timestamptz, $1::timestamptz + interval '23 hours', interval '1 hour') h,
            generate_series(1, $2) p
       ORDER BY h, p`,
      [dayStart, patients],
    );
    await client.query(
      `INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at)
       SELECT 'lp-' || lpad(p::text, 5, '0'), 'cgm_glucose', 'value', $1::date, 288, 60, 200, 120.5, 25.2, 34704, $1::timestamptz, $1::timestamptz + interval '23 hours 55 minutes'
       FROM generate_series(1, $2) p`,
      [dayStart, patients],
    );
  }
  await client.query('VACUUM ANALYZE rollups_hourly');
  await client.query('VACUUM ANALYZE rollups_daily');
  process.stderr.write(
    `rollups-layout: ${patients * days * 24} hourly rows loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const queries: Record<string, string> = {
    hourly90d: `SELECT extract(epoch FROM hour_start)::float8 * 1000 AS "startMs", component, count, min, max, mean, sum
      FROM rollups_hourly WHERE patient_id = $1 AND type = 'cgm_glucose' AND hour_start >= $2 AND hour_start < $3
      ORDER BY hour_start, component`,
    daily90d: `SELECT day, component, count, min, max, mean, sum
      FROM rollups_daily WHERE patient_id = $1 AND type = 'cgm_glucose' AND day >= $2::date AND day < $3::date
      ORDER BY day, component`,
  };
  const results: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(queries)) {
    const times: number[] = [];
    const buffers: number[] = [];
    let plan = '';
    for (let i = 0; i < samples; i++) {
      const patient = `lp-${String(1 + ((i * 7919) % patients)).padStart(5, '0')}`;
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
        [patient, new Date(start), new Date(end)],
      );
      const top = (rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown>; 'Execution Time': number }[])[0];
      times.push(top['Execution Time']);
      buffers.push(Number(top.Plan['Shared Hit Blocks'] ?? 0) + Number(top.Plan['Shared Read Blocks'] ?? 0));
      const scan = JSON.stringify(top.Plan).match(
        /"Node Type":"(Index Only Scan|Index Scan|Seq Scan|Bitmap Heap Scan)"/,
      );
      plan = scan ? scan[1] : 'other';
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const q = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
    results[name] = {
      scan: plan,
      buffersP50: q(buffers, 0.5),
      msP50: Number(q(times, 0.5).toFixed(2)),
      msP99: Number(q(times, 0.99).toFixed(2)),
    };
  }
  const size = await client.query<{ name: string; bytes: string }>(
    `SELECT relname AS name, pg_relation_size(oid)::text AS bytes FROM pg_class
     WHERE relname IN ('rollups_hourly', 'rollups_hourly_pkey', 'rollups_daily', 'rollups_daily_pkey') ORDER BY relname`,
  );
  console.log(
    JSON.stringify({
      patients,
      days,
      hourlyRows: patients * days * 24,
      reads: results,
      bytes: Object.fromEntries(size.rows.map((r) => [r.name, Number(r.bytes)])),
    }),
  );
} finally {
  await client.end();
  if (values.keep) process.stderr.write(`rollups-layout: kept database ${scratch.name}\n`);
  else await scratch.drop();
}
