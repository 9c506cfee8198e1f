import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { ROOT, runCli } from '../../simulators/harness/service-process.ts';
import { scratchDatabaseName } from '../../simulators/harness/scratch-database.ts';
import { isBackendOf } from '../../scripts/scale-bench/process-cpu.ts';

/**
 * scripts/scale-bench.ts at a tiny size, as a user runs it: the JSON's shape and its
 * consistency with what was loaded. Never its timings.
 */
const SCRIPT = path.join(ROOT, 'scripts', 'scale-bench.ts');
const SMALL = [
  '--repetitions',
  '2',
  '--deep-pages',
  '2',
  '--aggregation-sample',
  '2',
  '--ingest-rounds',
  '1',
  '--ingest-seconds',
  '1',
  '--freshness-seconds',
  '3',
  '--json',
];

async function scaleBench(args: string[]) {
  const run = await runCli([...args, ...SMALL], { DATABASE_URL: inject('pgAdminUrl') }, { main: SCRIPT });
  expect(run.code, run.stderr).toBe(0);
  return { json: JSON.parse(run.stdout.trim().split('\n').at(-1)!), stderr: run.stderr };
}

async function onServer<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const databaseExists = (name: string) =>
  onServer(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

const ENDPOINTS = [
  'readingsFirstPage',
  'readingsDeepPage',
  'readingsTypedFirstPage',
  'fhirFirstPage',
  'fhirDeepPage',
  'seriesHour1d',
  'seriesHour14d',
  'seriesHour90d',
  'seriesDay90d',
  'seriesAuto90d',
  'indicators',
  'alerts',
];

function expectPositive(value: unknown, where: string): void {
  expect(typeof value, where).toBe('number');
  expect(value as number, where).toBeGreaterThan(0);
}

/** What every run gives: the history, the reads and the storage. */
function checkHistoryReadsStorage(r: any): void {
  const { mix, counts, load } = r;
  // What was loaded is what is stored: whole days of whole patients.
  const byType = Object.values(mix.readingsByType as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(mix.readingsByType.cgm_glucose).toBe(mix.cgmPatients * 288 * mix.days);
  for (const t of ['blood_pressure', 'body_weight', 'spo2'])
    expect(mix.readingsByType[t]).toBe(mix.dailyPatients * mix.days);
  expect(load.readings).toBe(byType);
  expect(counts.readings).toBe(load.readings);
  expect(counts.readingKeys).toBe(counts.readings);
  expect(counts.patients).toBe(mix.cgmPatients + mix.dailyPatients);
  expect(counts.dirtyMarks).toBe(0);

  expect(Object.keys(r.reads.endpoints).sort()).toEqual([...ENDPOINTS].sort());
  for (const [name, t] of Object.entries(r.reads.endpoints as Record<string, Record<string, number>>)) {
    expectPositive(t.p50Ms, `${name}.p50Ms`);
    expectPositive(t.p99Ms, `${name}.p99Ms`);
    expect(t.p99Ms, name).toBeGreaterThanOrEqual(t.p50Ms);
    expect(t.samples, name).toBe(2);
    expectPositive(t.bytes, `${name}.bytes`);
  }
  for (const name of [
    'readingsFirstPage',
    'readingsDeepPage',
    'readingsTypedFirstPage',
    'fhirFirstPage',
    'fhirDeepPage',
  ]) {
    expect(r.reads.endpoints[name].items, name).toBe(100);
  }
  expect(r.reads.endpoints.seriesHour1d.items).toBeGreaterThanOrEqual(23);
  expect(r.reads.endpoints.seriesDay90d.items).toBeGreaterThanOrEqual(mix.days);
  // 90 days with bucket=auto: days.
  expect(r.reads.endpoints.seriesAuto90d.items).toBe(r.reads.endpoints.seriesDay90d.items);

  expect(r.storage.readings).toBe(counts.readings);
  expect(Object.keys(r.storage.tables).sort()).toEqual(['reading_keys', 'readings', 'rollups_daily', 'rollups_hourly']);
  expect(Object.keys(r.storage.indexes)).toEqual(
    expect.arrayContaining(['readings_patient_type_time', 'reading_keys_pkey']),
  );
  for (const [name, s] of Object.entries({ ...r.storage.tables, ...r.storage.indexes } as Record<
    string,
    Record<string, number>
  >)) {
    expectPositive(s.bytes, `${name}.bytes`);
    expectPositive(s.bytesPerReading, `${name}.bytesPerReading`);
  }
  expectPositive(r.storage.totalBytesPerReading, 'storage.totalBytesPerReading');
}

function checkResult(r: any): void {
  checkHistoryReadsStorage(r);
  const { mix, counts } = r;
  expect(r.load.aggregatedOnly).toBeNull();
  // Every CGM patient has a rollup for every day of the history (days of its own zone: one more at most).
  expect(counts.rollupsDaily).toBeGreaterThanOrEqual(mix.cgmPatients * mix.days);
  expect(counts.rollupsHourly).toBeGreaterThanOrEqual(mix.cgmPatients * mix.days * 24);

  const a = r.aggregation;
  expect(a.samplePatients).toBe(Math.min(2, mix.cgmPatients));
  expectPositive(a.singleRunMsPerPatient.p50Ms, 'aggregation.singleRunMsPerPatient.p50Ms');
  expectPositive(a.batchedRunMsPerPatient, 'aggregation.batchedRunMsPerPatient');
  expect(a.extrapolation.recomputesPerMinute).toBe(2000);
  expectPositive(a.extrapolation.wallSecondsPerMinute, 'extrapolation.wallSecondsPerMinute');

  checkFreshness(r.freshness, mix.cgmPatients);

  expect(r.ingest.loadedReadingsPerSecond).toHaveLength(1);
  expect(r.ingest.emptyReadingsPerSecond).toHaveLength(1);
  expectPositive(r.ingest.loadedReadingsPerSecond[0], 'ingest.loaded');
  expectPositive(r.ingest.emptyReadingsPerSecond[0], 'ingest.empty');
  expectPositive(r.ingest.ratio, 'ingest.ratio');
}

/** --reads-only: the measured patient's history alone is aggregated; no freshness or aggregation phase runs. */
function checkReadsOnly(r: any): void {
  checkHistoryReadsStorage(r);
  const { mix, counts } = r;
  expect(r.load.aggregatedOnly).toEqual(['scale-cgm-00001']);
  expect(counts.rollupsDaily).toBeGreaterThanOrEqual(mix.days);
  expect(counts.rollupsDaily).toBeLessThanOrEqual(mix.days + 1);
  expect(counts.rollupsHourly).toBeGreaterThanOrEqual(mix.days * 24);
  expect(counts.rollupsHourly).toBeLessThan(2 * mix.days * 24);
  expect(r.aggregation).toBeNull();
  expect(r.freshness).toBeNull();
  // The ingest phase writes devices of its own and needs no rollups: it runs.
  expectPositive(r.ingest.loadedReadingsPerSecond[0], 'ingest.loaded');
  expectPositive(r.ingest.emptyReadingsPerSecond[0], 'ingest.empty');
  expectPositive(r.ingest.ratio, 'ingest.ratio');
}

function checkFreshness(f: any, cgmPatients: number): void {
  expect(f.aggregationSettings).toBe('default');
  expect(f.fleet).toMatchObject({
    modelledCgmPatients: 10_000,
    modelledReadingIntervalS: 300,
    targetReadingsPerSecond: 33.33,
    devices: cgmPatients,
    failed: 0,
  });
  expect(f.fleet.perDeviceIntervalS).toBe(Math.round((cgmPatients / (10_000 / 300)) * 100) / 100);
  // Every reading published was acknowledged, and every one of them deleted afterwards.
  expectPositive(f.fleet.published, 'freshness.fleet.published');
  expect(f.fleet.acked).toBe(f.fleet.published);
  expect(f.fleet.pubackMs.samples).toBe(f.fleet.acked);
  expect(f.cleanup.readingsDeleted).toBe(f.fleet.published);
  expectPositive(f.fleet.achievedReadingsPerSecond, 'freshness.fleet.achievedReadingsPerSecond');
  // Each probe opened a new hypoglycemia alert, and cgm_mean counted its reading.
  expect(f.probes).toMatchObject({ patients: 4, everyMs: 2000, notNew: 0, timedOut: 0 });
  expect(f.probes.sent).toBeGreaterThanOrEqual(1);
  expect(f.probes.alerts).toBe(f.probes.sent);
  for (const name of ['alertMs', 'indicatorMs']) {
    const l = f.probes[name];
    expect(l.samples, name).toBe(f.probes.sent);
    expectPositive(l.p50Ms, `${name}.p50Ms`);
    expect(l.p95Ms, name).toBeGreaterThanOrEqual(l.p50Ms);
    expect(l.p99Ms, name).toBeGreaterThanOrEqual(l.p95Ms);
    expect(l.maxMs, name).toBeGreaterThanOrEqual(l.p99Ms);
  }
  expectPositive(f.aggregation.runs, 'freshness.aggregation.runs');
  expectPositive(f.aggregation.runSeconds, 'freshness.aggregation.runSeconds');
  expect(typeof f.aggregation.maxLagSeconds).toBe('number');
  expectPositive(f.cpu.serviceSeconds, 'freshness.cpu.serviceSeconds');
  // Measured when the server runs on this machine (the backends' titles name the database), else null.
  if (f.cpu.databaseBackends > 0) expectPositive(f.cpu.databaseSeconds, 'freshness.cpu.databaseSeconds');
  else expect(f.cpu.databaseSeconds).toBeNull();
}

/** Whether the test server's backends are processes of this machine (not in a container, not elsewhere). */
const serverIsOnThisMachine = () =>
  onServer(async (c) => {
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid, current_database() AS db');
    return isBackendOf(rows[0].pid, rows[0].db);
  });

describe('scripts/scale-bench.ts', () => {
  it('loads a small history, measures it, and drops its database', { timeout: 180_000 }, async () => {
    const { json, stderr } = await scaleBench(['--readings', '3000', '--days', '3']);
    checkResult(json);
    expect(json.mix).toMatchObject({ days: 3, cgmPatients: 3, dailyPatients: 3 });
    if (await serverIsOnThisMachine()) expect(json.freshness.cpu.databaseBackends).toBeGreaterThan(0);
    expect(json.database.kept).toBe(false);
    expect(stderr).toContain('clinician reads');
    expect(await databaseExists(json.database.name)).toBe(false);
  });

  it('keeps a database with --keep and measures it again with --reuse', { timeout: 180_000 }, async () => {
    const name = scratchDatabaseName('scale_bench_test');
    try {
      const first = await scaleBench([
        '--readings',
        '3000',
        '--days',
        '3',
        '--patients',
        '5',
        '--keep',
        '--name',
        name,
      ]);
      checkResult(first.json);
      expect(first.json.mix).toMatchObject({ cgmPatients: 3, dailyPatients: 2 });
      expect(first.json.database).toEqual({ name, kept: true, reused: false });
      const again = await scaleBench(['--reuse', name]);
      checkResult(again.json);
      expect(again.json.database).toEqual({ name, kept: true, reused: true });
      // The aggregation sample, the freshness phase and the ingest runs leave the history as it was loaded.
      expect(again.json.counts).toEqual(first.json.counts);
      expect(await databaseExists(name)).toBe(true);
    } finally {
      await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  });

  it(
    'aggregates the measured patient only and measures reads and storage with --reads-only',
    { timeout: 180_000 },
    async () => {
      const name = scratchDatabaseName('scale_bench_test');
      try {
        const first = await scaleBench(['--readings', '3000', '--days', '3', '--keep', '--name', name, '--reads-only']);
        checkReadsOnly(first.json);
        expect(first.stderr).toContain('reads only');
        // The database's note says so: a --reuse of it is reads-only too.
        const again = await scaleBench(['--reuse', name]);
        checkReadsOnly(again.json);
        expect(again.json.counts).toEqual(first.json.counts);
      } finally {
        await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      }
    },
  );
});
