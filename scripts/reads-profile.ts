/**
 * Where a clinician read's time goes, in process: builds the HTTP server on a
 * database a scale bench kept (no broker, no job, no network: fastify's inject()),
 * then asks for each read of scripts/scale-bench/reads.ts `--repetitions` times (after
 * two unmeasured ones) for one patient and prints, per read, the latency (p50, p99),
 * this process' CPU per request (p50), and each SQL statement's time (p50, p99, as
 * Kysely times it: round trip and row parsing included). README, "Sizing".
 *
 *   node scripts/reads-profile.ts --database vitalink_scale_0a1b2c3d4e5f [--repetitions 100]
 *
 * It creates a clinician token for the patient (label `reads-profile`), kept: the
 * audit lines of its reads refer to it. Append `?options=-c%20synchronous_commit%3Doff`
 * to the database's URL with `--url` to see what the reads cost when their audit line's
 * commit does not wait for the WAL flush.
 */
import { resolveKeyRing } from '../src/actions/secret-keys.ts';
import { readSecretKeys } from '../src/config.ts';
import { parseArgs } from 'node:util';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { databaseUrlFor } from '../simulators/harness/scratch-database.ts';
import { createApiToken } from '../src/actions/tokens.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics/metrics.ts';
import type { Database } from '../src/store/database.ts';
import { latencyOf } from './scale-bench/stats.ts';

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    url: { type: 'string' },
    patient: { type: 'string', default: 'scale-cgm-00001' },
    repetitions: { type: 'string', default: '100' },
  },
});
const base = process.env.DATABASE_URL;
const url = values.url ?? (values.database && base ? databaseUrlFor(base, values.database) : undefined);
if (!url) {
  process.stderr.write('usage: node scripts/reads-profile.ts --database NAME (with DATABASE_URL) | --url URL\n');
  process.exit(2);
}
const repetitions = Number(values.repetitions);
const patient = values.patient;

const pool = new pg.Pool({ connectionString: url, max: 6 });
let statements = new Map<string, number>();
const db = new Kysely<Database>({
  dialect: new PostgresDialect({ pool }),
  log: (event) => {
    const key = event.query.sql.replace(/\s+/g, ' ').trim().slice(0, 32);
    statements.set(key, (statements.get(key) ?? 0) + event.queryDurationMillis);
  },
});
const meta = await pool.query<{ comment: string | null }>(
  `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = current_database()`,
);
const endMs = (JSON.parse(meta.rows[0]?.comment ?? '{}') as { endMs?: number }).endMs ?? Date.now();
const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
const { token } = await createApiToken(db, keys, { role: 'clinician', patientIds: [patient], label: 'reads-profile' });
const app = await buildHttpServer({
  log: createLogger('error', process.stderr),
  metrics: createMetrics(),
  adminToken: undefined,
  db,
  keys,
  now: () => new Date(),
  ingestion: async () => {
    throw new Error('not served here');
  },
  readiness: async () => ({ database: true, broker: true }),
  // One token reads as fast as it can: the per-token limit (600 a minute) would answer 429s instead.
  rateLimits: { perPrincipalPerMin: 0, authFailuresPerMin: 0, notFoundPerMin: 0 },
});
await app.ready();

const to = new Date(endMs).toISOString();
const series = (bucket: string, days: number) =>
  `/api/v1/patients/${patient}/series?type=cgm_glucose&bucket=${bucket}&from=${encodeURIComponent(
    new Date(endMs - days * 86_400_000).toISOString(),
  )}&to=${encodeURIComponent(to)}`;
const plan: [string, string][] = [
  ['readingsFirstPage', `/api/v1/patients/${patient}/readings?limit=100`],
  ['readingsTypedFirstPage', `/api/v1/patients/${patient}/readings?limit=100&type=cgm_glucose`],
  ['fhirFirstPage', `/fhir/Observation?patient=Patient/${patient}&_count=100`],
  ['seriesHour14d', series('hour', 14)],
  ['seriesHour90d', series('hour', 90)],
  ['seriesDay90d', series('day', 90)],
  ['seriesAuto90d', series('auto', 90)],
  ['indicators', `/api/v1/patients/${patient}/indicators`],
  ['alerts', '/api/v1/alerts'],
];
const fmt = (n: number) => n.toFixed(1).padStart(6);
for (const [name, path] of plan) {
  const ms: number[] = [];
  const cpu: number[] = [];
  const perStatement = new Map<string, number[]>();
  let bytes = 0;
  for (let i = 0; i < repetitions + 2; i++) {
    statements = new Map();
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu0);
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    bytes = res.body.length;
    if (i < 2) continue;
    ms.push(elapsed);
    cpu.push((used.user + used.system) / 1000);
    for (const [k, v] of statements) perStatement.set(k, [...(perStatement.get(k) ?? []), v]);
  }
  const l = latencyOf(ms);
  process.stdout.write(
    `${name.padEnd(24)} p50 ${fmt(l.p50Ms)} p99 ${fmt(l.p99Ms)} ms  CPU ${fmt(latencyOf(cpu).p50Ms)} ms  ${bytes} bytes\n`,
  );
  for (const [k, v] of perStatement) {
    const s = latencyOf(v);
    process.stdout.write(`    ${k.padEnd(34)} p50 ${fmt(s.p50Ms)} p99 ${fmt(s.p99Ms)} ms\n`);
  }
}
await app.close();
await db.destroy();
process.stdout.write(
  `load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
