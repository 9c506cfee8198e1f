/**
 * Sizing: how the service holds up under a long history. Loads N readings over D
 * days into a scratch database (mostly CGM patients, one reading per 5 minutes, plus
 * patients with a daily blood pressure, weight and SpO2), then measures, on the real
 * service and write path: a clinician's reads of one busy CGM patient, the aggregation
 * job's cost per patient after a new reading (extrapolated to 10,000 CGM patients),
 * how fresh alerts and indicators are while devices publish at that fleet's rate,
 * the write path's rate on the loaded database against an empty one, and the bytes
 * each reading takes per table and index. README, "Sizing", has figures.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/scale-bench.ts --readings 1000000 [--patients P] [--days 90] [--keep] [--json]
 *   node scripts/scale-bench.ts --reuse vitalink_scale_0a1b2c3d4e5f    # a database kept with --keep
 */
import { resolveKeyRing } from '../src/actions/secret-keys.ts';
import { readSecretKeys } from '../src/config.ts';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createScratchDatabase, databaseUrlFor } from '../simulators/harness/scratch-database.ts';
import { type ServiceProcess, startService } from '../simulators/harness/service-process.ts';
import { createApiToken } from '../src/actions/tokens.ts';
import { createLogger } from '../src/logger.ts';
import { createDatabase, type Db } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrations.ts';
import { measureAggregationCost } from './scale-bench/aggregation-cost.ts';
import {
  CGM_READINGS_PER_DAY,
  cgmPatientId,
  DAILY_TYPES,
  dailyPatientId,
  type HistoryMeta,
  loadHistory,
  planMix,
} from './scale-bench/history.ts';
import { type Freshness, measureFreshness } from './scale-bench/freshness.ts';
import { compareIngest } from './scale-bench/ingest.ts';
import { measureReads } from './scale-bench/reads.ts';
import { waitForAggregation } from './scale-bench/settle.ts';
import { countRows, measureStorage } from './scale-bench/storage.ts';

const USAGE = `usage: node scripts/scale-bench.ts --readings N [--patients P] [--days D] [--keep] [--reads-only] [--json]
       node scripts/scale-bench.ts --reuse NAME [--reads-only] [--json]
  --readings N        readings to load (about: whole days of whole patients)
  --patients P        patients in all (default: as many daily patients as CGM patients)
  --days D            days of history, ending now (default 90)
  --keep              keep the scratch database and print its name (reuse it with --reuse)
  --name NAME         create the scratch database under this name
  --reuse NAME        measure a database kept by an earlier --keep run (it stays)
  --repetitions R     requests per read measured (default 50)
  --deep-pages K      cursors followed to reach the deep page (default 20)
  --aggregation-sample S   CGM patients in the aggregation sample (default 20)
  --ingest-rounds R   ingest runs on each database, alternating (default 3)
  --ingest-seconds S  length of one ingest run (default 5)
  --freshness-seconds S  length of the freshness phase (default 60; 0 skips it)
  --reads-only        aggregate the history of the patient whose reads are measured only
                      (the others get no rollups, indicators or alerts) and measure reads
                      and storage only: for histories too long to aggregate in time
  --json              print one JSON object on stdout
DATABASE_URL names the PostgreSQL server where the scratch databases are created.`;

function fail(message: string): never {
  process.stderr.write(`scale-bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      readings: { type: 'string' },
      patients: { type: 'string' },
      days: { type: 'string', default: '90' },
      keep: { type: 'boolean', default: false },
      name: { type: 'string' },
      reuse: { type: 'string' },
      repetitions: { type: 'string', default: '50' },
      'deep-pages': { type: 'string', default: '20' },
      'aggregation-sample': { type: 'string', default: '20' },
      'ingest-rounds': { type: 'string', default: '3' },
      'ingest-seconds': { type: 'string', default: '5' },
      'freshness-seconds': { type: 'string', default: '60' },
      'reads-only': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  fail((error as Error).message);
}
const values = parsed.values;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, not "${raw}"`);
  return n;
}

const readingsWanted = positive('readings', values.readings);
const patientsWanted = positive('patients', values.patients);
const days = positive('days', values.days)!;
const repetitions = positive('repetitions', values.repetitions)!;
const deepPages = positive('deep-pages', values['deep-pages'])!;
const aggregationSample = positive('aggregation-sample', values['aggregation-sample'])!;
const ingestRounds = positive('ingest-rounds', values['ingest-rounds'])!;
const ingestSeconds = positive('ingest-seconds', values['ingest-seconds'])!;
const freshnessSeconds = Number(values['freshness-seconds']);
if (!Number.isInteger(freshnessSeconds) || freshnessSeconds < 0)
  fail(`--freshness-seconds must be 0 (skip) or a positive integer, not "${values['freshness-seconds']}"`);
const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
if (values.reuse === undefined && readingsWanted === undefined) fail('give --readings N, or --reuse NAME');
if (values.reuse !== undefined && !NAME.test(values.reuse)) fail(`--reuse "${values.reuse}" is not a database name`);
if (values.name !== undefined && !NAME.test(values.name)) fail(`--name "${values.name}" is not a database name`);
if (values.reuse !== undefined && values.name !== undefined)
  fail('--name names a new database; --reuse an existing one');
if (days > 90) fail('--days is at most 90: the service refuses readings older than VITALINK_READING_MAX_AGE_DAYS (90)');
const base = process.env.DATABASE_URL;
if (!base) fail('set DATABASE_URL to a PostgreSQL server where a database may be created');

const say = (line: string) => process.stderr.write(`scale-bench: ${line}\n`);
// Errors only: a pool's connections can still be closing when its scratch database is
// dropped (pg's pool.end() does not wait for the sockets), which logs a harmless warning.
const log = createLogger('error', process.stderr);
const mixWanted = readingsWanted === undefined ? undefined : planMix(readingsWanted, days, patientsWanted);

async function readMeta(db: Db): Promise<HistoryMeta | undefined> {
  const { rows } = await sql<{ comment: string | null }>`
    SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = current_database()
  `.execute(db);
  try {
    const meta = JSON.parse(rows[0]?.comment ?? '') as HistoryMeta;
    return meta.version === 1 ? meta : undefined;
  } catch {
    return undefined;
  }
}

const reused = values.reuse !== undefined;
const keep = values.keep || reused;
const scratch = reused
  ? { name: values.reuse!, url: databaseUrlFor(base, values.reuse!), drop: async () => {} }
  : await createScratchDatabase(base, { prefix: 'vitalink_scale', name: values.name });
say(`${reused ? 'reusing' : 'scratch'} database ${scratch.name}`);
const { db } = createDatabase(scratch.url, 4, log);
let service: ServiceProcess | undefined;
let exitCode = 0;
try {
  await migrateToLatest(db, log);
  let meta: HistoryMeta;
  if (reused) {
    const found = await readMeta(db);
    if (!found) throw new Error(`database ${scratch.name} holds no history of this bench (make one with --keep)`);
    meta = found;
  } else {
    say(
      `loading ${mixWanted!.cgmPatients} CGM patients and ${mixWanted!.dailyPatients} daily patients over ${days} days`,
    );
    meta = await loadHistory(
      db,
      scratch.url,
      mixWanted!,
      log,
      say,
      values['reads-only'] ? [cgmPatientId(0)] : undefined,
    );
    await sql`COMMENT ON DATABASE ${sql.id(scratch.name)} IS ${sql.lit(JSON.stringify(meta))}`.execute(db);
  }
  // What autovacuum would have done by the time a history is this old: statistics and the visibility map.
  await sql`VACUUM (ANALYZE) readings, reading_keys, rollups_hourly, rollups_daily`.execute(db);

  const counts = await countRows(db);
  const storage = await measureStorage(db, counts);
  say(`${counts.readings} readings stored; measuring reads`);

  const cgmIds = Array.from({ length: meta.cgmPatients }, (_, i) => cgmPatientId(i));
  const patientIds = [...cgmIds, ...Array.from({ length: meta.dailyPatients }, (_, i) => dailyPatientId(i))];
  const { token } = await createApiToken(db, await resolveKeyRing(db, readSecretKeys(process.env).keys), {
    role: 'clinician',
    patientIds,
    label: 'scale-bench',
  });
  const machineLoadBefore = os.loadavg();
  service = await startService(
    // The reads are timed with one token as fast as they go: the per-token limit (600 a minute) is off.
    { DATABASE_URL: scratch.url, VITALINK_AGGREGATION_MAX_BUSY_PCT: '100', VITALINK_HTTP_RATE_LIMIT_PER_MIN: '0' },
    { keepLogs: false, timeoutMs: 120_000 },
  );
  await waitForAggregation(db, 600_000);
  const reads = await measureReads({
    httpBase: `http://127.0.0.1:${service.ports.http}`,
    token,
    patientId: cgmIds[0],
    endMs: meta.endMs,
    repetitions,
    deepPages,
    pageSize: 100,
  });
  await service.stop();
  service = undefined;

  // A history aggregated for the read patient only: the other phases would measure patients without rollups.
  const readsOnly = values['reads-only'] || meta.aggregatedOnly !== undefined;
  if (readsOnly) say('reads only: skipping the freshness and aggregation phases');

  let freshness: Freshness | undefined;
  if (freshnessSeconds > 0 && !readsOnly) {
    say(`measuring freshness for ${freshnessSeconds} s (vitalink serve with its default aggregation settings)`);
    freshness = await measureFreshness({
      db,
      log,
      url: scratch.url,
      fleetPatientIds: cgmIds,
      seconds: freshnessSeconds,
    });
  }

  let aggregation: Awaited<ReturnType<typeof measureAggregationCost>> | null = null;
  let ingest: Awaited<ReturnType<typeof compareIngest>> | null = null;
  if (!readsOnly) {
    say('measuring aggregation cost');
    const sample = cgmIds.slice(0, aggregationSample).map((patientId) => ({ patientId, deviceId: `${patientId}-cgm` }));
    aggregation = await measureAggregationCost(db, log, sample, 3);
  }
  // The ingest phase writes readings of devices of its own (deleted afterwards): it needs no
  // rollups of the history, so a reads-only database measures it too.
  if (ingestRounds > 0) {
    say('measuring ingest, loaded against empty');
    const empty = await createScratchDatabase(base, { prefix: 'vitalink_scale_empty' });
    const emptyDb = createDatabase(empty.url, 3, log).db;
    try {
      await migrateToLatest(emptyDb, log);
      ingest = await compareIngest(db, emptyDb, ingestRounds, ingestSeconds);
    } finally {
      await emptyDb.destroy();
      await empty.drop();
    }
  }

  const serverVersion = (await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(db)).rows[0].v;
  const result = {
    ranAt: new Date().toISOString(),
    database: { name: scratch.name, kept: keep, reused },
    machine: {
      cpus: os.cpus().length,
      loadAverage: machineLoadBefore.map((l) => Math.round(l * 100) / 100),
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      postgres: serverVersion,
    },
    mix: {
      days: meta.days,
      cgmPatients: meta.cgmPatients,
      dailyPatients: meta.dailyPatients,
      cgmReadingsPerPatientPerDay: CGM_READINGS_PER_DAY,
      dailyTypes: [...DAILY_TYPES],
      readingsByType: {
        cgm_glucose: meta.cgmPatients * CGM_READINGS_PER_DAY * meta.days,
        ...Object.fromEntries(DAILY_TYPES.map((t) => [t, meta.dailyPatients * meta.days])),
      },
      historyStart: new Date(meta.startMs).toISOString(),
      historyEnd: new Date(meta.endMs).toISOString(),
    },
    load: {
      readings: meta.readings,
      seconds: Math.round(meta.loadSeconds * 10) / 10,
      readingsPerSecond: Math.round(meta.readings / meta.loadSeconds),
      aggregationSeconds: Math.round(meta.aggregationSeconds * 10) / 10,
      aggregatedOnly: meta.aggregatedOnly ?? null,
    },
    counts,
    reads: { patientId: cgmIds[0], repetitions, deepPage: deepPages + 1, pageSize: 100, endpoints: reads },
    aggregation,
    freshness: freshness ?? null,
    ingest,
    storage,
  };
  printSummary(result);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  process.stderr.write(`scale-bench: ${(error as Error).stack ?? error}\n`);
  exitCode = 1;
} finally {
  await service?.stop();
  await db.destroy();
  if (keep) say(`kept database ${scratch.name}: node scripts/scale-bench.ts --reuse ${scratch.name}`);
  else await scratch.drop();
}
process.exit(exitCode);

function printSummary(r: {
  machine: { cpus: number; loadAverage: number[]; postgres: string };
  mix: { days: number; cgmPatients: number; dailyPatients: number };
  load: {
    readings: number;
    seconds: number;
    readingsPerSecond: number;
    aggregationSeconds: number;
    aggregatedOnly: readonly string[] | null;
  };
  counts: { readings: number; rollupsHourly: number; rollupsDaily: number };
  reads: { endpoints: Record<string, { p50Ms: number; p99Ms: number; bytes: number; items: number }> };
  aggregation: Awaited<ReturnType<typeof measureAggregationCost>> | null;
  freshness: Freshness | null;
  ingest: Awaited<ReturnType<typeof compareIngest>> | null;
  storage: Awaited<ReturnType<typeof measureStorage>>;
}): void {
  const lines: string[] = [];
  const { mix, load } = r;
  lines.push(
    `history: ${r.counts.readings.toLocaleString('en')} readings over ${mix.days} days: ${mix.cgmPatients} CGM patients (288 readings a day) and ${mix.dailyPatients} daily patients (blood pressure, weight, SpO2 once a day)`,
    `  loaded in ${load.seconds} s (${load.readingsPerSecond.toLocaleString('en')} readings/s), aggregated by the job in ${load.aggregationSeconds} s${load.aggregatedOnly ? ` (only ${load.aggregatedOnly.join(', ')}: reads only)` : ''}; ${r.counts.rollupsHourly.toLocaleString('en')} hourly and ${r.counts.rollupsDaily.toLocaleString('en')} daily rollups`,
    `machine: ${r.machine.cpus} cores, load average ${r.machine.loadAverage.join(' ')}, PostgreSQL ${r.machine.postgres}`,
    '',
    'clinician reads (one CGM patient)        p50 ms   p99 ms    bytes  items',
  );
  for (const [name, t] of Object.entries(r.reads.endpoints)) {
    lines.push(
      `  ${name.padEnd(36)} ${String(t.p50Ms).padStart(8)} ${String(t.p99Ms).padStart(8)} ${String(t.bytes).padStart(8)} ${String(t.items).padStart(6)}`,
    );
  }
  const a = r.aggregation;
  if (a) {
    const e = a.extrapolation;
    lines.push(
      '',
      `aggregation after one new reading: ${a.singleRunMsPerPatient.p50Ms} ms per patient alone (p99 ${a.singleRunMsPerPatient.p99Ms}), ${a.batchedRunMsPerPatient} ms per patient in runs of ${a.samplePatients} (${a.batchedRunNodeCpuMsPerPatient} ms of it Node CPU)`,
      `  ${e.cgmPatients.toLocaleString('en')} CGM patients, one reading per ${e.readingIntervalS / 60} min: ${e.recomputesPerMinute} recomputes a minute = ${e.wallSecondsPerMinute} s of job runs per minute (${e.nodeCpuSecondsPerMinute} s Node CPU, ${e.databaseAndWaitSecondsPerMinute} s database and waits)`,
    );
  }
  if (r.freshness) lines.push('', ...freshnessLines(r.freshness));
  if (r.ingest) {
    lines.push(
      '',
      `ingest (writeBatch, ${r.ingest.writers} writers, ${r.ingest.batchReadings} readings a batch): loaded ${r.ingest.loadedReadingsPerSecond.join(', ')} readings/s, empty ${r.ingest.emptyReadingsPerSecond.join(', ')}; ratio ${r.ingest.ratio}`,
    );
  }
  lines.push('', 'storage per reading (bytes)');
  for (const [name, s] of Object.entries(r.storage.tables))
    lines.push(`  table ${name.padEnd(30)} ${s.bytesPerReading}`);
  for (const [name, s] of Object.entries(r.storage.indexes))
    lines.push(`  index ${name.padEnd(30)} ${s.bytesPerReading}`);
  lines.push(`  total ${''.padEnd(30)} ${r.storage.totalBytesPerReading}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

function freshnessLines(f: Freshness): string[] {
  const { fleet, probes, aggregation: a, cpu } = f;
  const ms = (l: { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number }) =>
    `p50 ${Math.round(l.p50Ms)}, p95 ${Math.round(l.p95Ms)}, p99 ${Math.round(l.p99Ms)}, max ${Math.round(l.maxMs)} ms`;
  const pct = (v: number | null) => (v === null ? 'not measured' : `${v} % of a core`);
  return [
    `freshness (${f.seconds} s, vitalink serve with its default aggregation settings):`,
    `  fleet: ${fleet.targetReadingsPerSecond} CGM readings/s, the rate of ${fleet.modelledCgmPatients.toLocaleString('en')} patients sending every ${fleet.modelledReadingIntervalS / 60} min, over the ${fleet.devices} CGM patients here: each sends every ${fleet.perDeviceIntervalS} s instead of every ${fleet.modelledReadingIntervalS / 60} min (harsher per patient)`,
    `  published ${fleet.published} (${fleet.achievedReadingsPerSecond}/s), acknowledged ${fleet.acked}, failed ${fleet.failed}; PUBACK p50 ${fleet.pubackMs.p50Ms} ms, p99 ${fleet.pubackMs.p99Ms} ms`,
    `  hypoglycemia probes (${probes.patients} probe patients in rotation, one every ${probes.everyMs / 1000} s): ${probes.alerts} of ${probes.sent} alerts seen (${probes.timedOut} timed out, ${probes.notNew} not new, ${probes.slotsSkipped} slots skipped)`,
    `    PUBACK to alert:            ${ms(probes.alertMs)}`,
    `    PUBACK to cgm_mean with it: ${ms(probes.indicatorMs)}`,
    `  aggregation job: ${a.runs} runs, ${a.runSeconds} s (${a.runSecondsPerMinute} s per minute, ${a.meanRunMs} ms a run); lag at most ${a.maxLagSeconds} s`,
    `  CPU: service ${cpu.serviceSeconds ?? '-'} s (${pct(cpu.serviceCorePct)}); database backends of its ${cpu.databaseBackends} connections ${cpu.databaseSeconds ?? '-'} s (${pct(cpu.databaseCorePct)}, ingest and job together)`,
  ];
}
