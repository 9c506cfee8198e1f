/**
 * The history the scale bench reads: patients, devices and N readings over D days,
 * written by SQL that mirrors the service's write path (src/store/readings.repository.ts):
 * the same reading_keys and readings rows, the same dirty marks, partitions created by
 * the service's own Partitions, readings interleaved in time across patients as
 * production commits them. Rollups, indicators and alerts then come from the real
 * aggregation job, run over those dirty marks until none is left.
 */
import { resolveKeyRing } from '../../src/actions/secret-keys.ts';
import { readSecretKeys } from '../../src/config.ts';
import { sql } from 'kysely';
import pg from 'pg';
import { addDevice, addPatient } from '../../src/actions/provisioning.ts';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { readingTypeSpec } from '../../src/domain/reading-types.ts';
import type { Logger } from '../../src/logger.ts';
import { createDatabase, type Db } from '../../src/store/database.ts';
import { Partitions } from '../../src/store/partitions.ts';

const DAY_S = 86_400;
/** A CGM sends one reading every 5 minutes. */
export const CGM_STEP_S = 300;
export const CGM_READINGS_PER_DAY = DAY_S / CGM_STEP_S;
/** The daily patients' devices: one reading a day each. */
export const DAILY_TYPES = ['blood_pressure', 'body_weight', 'spo2'] as const;

export interface Mix {
  readonly days: number;
  readonly cgmPatients: number;
  readonly dailyPatients: number;
}

/** What a loaded database holds, kept on the database (COMMENT) so that --reuse finds it. */
export interface HistoryMeta extends Mix {
  readonly version: 1;
  /** [start, end) of the history, epoch milliseconds. */
  readonly startMs: number;
  readonly endMs: number;
  readonly readings: number;
  readonly loadSeconds: number;
  readonly aggregationSeconds: number;
  /**
   * Set when the history was aggregated for these patients only (--reads-only): the
   * others' dirty marks were dropped, so they have no rollups, indicators or alerts.
   */
  readonly aggregatedOnly?: readonly string[];
}

export function cgmPatientId(i: number): string {
  return `scale-cgm-${String(i + 1).padStart(5, '0')}`;
}

export function dailyPatientId(i: number): string {
  return `scale-daily-${String(i + 1).padStart(5, '0')}`;
}

export function readingsOf(mix: Mix): number {
  return mix.days * (mix.cgmPatients * CGM_READINGS_PER_DAY + mix.dailyPatients * DAILY_TYPES.length);
}

/**
 * The patients that hold about `readings` readings over `days` days: CGM patients
 * (288 readings a day) fill the count; daily patients (3 readings a day) are `patients`
 * minus the CGM ones, or as many as the CGM patients when `patients` is not given.
 */
export function planMix(readings: number, days: number, patients: number | undefined): Mix {
  if (patients === undefined) {
    const cgm = Math.max(1, Math.round(readings / (days * (CGM_READINGS_PER_DAY + DAILY_TYPES.length))));
    return { days, cgmPatients: cgm, dailyPatients: cgm };
  }
  const cgm = Math.max(
    1,
    Math.round(
      (readings - patients * days * DAILY_TYPES.length) / (days * (CGM_READINGS_PER_DAY - DAILY_TYPES.length)),
    ),
  );
  if (cgm > patients) {
    throw new Error(
      `${readings} readings over ${days} days need about ${cgm} CGM patients (288 readings a day each): give --patients ${cgm} or more, or fewer --readings`,
    );
  }
  return { days, cgmPatients: cgm, dailyPatients: patients - cgm };
}

interface Stream {
  patientId: string;
  deviceId: string;
  type: string;
  code: string;
  stepS: number;
  offsetS: number;
  phase: number;
  base: number;
}

function streamsOf(mix: Mix): Stream[] {
  const streams: Stream[] = [];
  for (let i = 0; i < mix.cgmPatients; i++) {
    const patientId = cgmPatientId(i);
    streams.push({
      patientId,
      deviceId: `${patientId}-cgm`,
      type: 'cgm_glucose',
      code: 'cgm',
      stepS: CGM_STEP_S,
      // Spread over the 5 minutes, as sensors started at different times are.
      offsetS: (i * 37) % CGM_STEP_S,
      phase: (i * 2.399) % (2 * Math.PI),
      base: 140 + (i % 5) * 5,
    });
  }
  for (let i = 0; i < mix.dailyPatients; i++) {
    const patientId = dailyPatientId(i);
    const common = { patientId, stepS: DAY_S, phase: (i * 2.399) % (2 * Math.PI) };
    // Mornings (UTC), a minute apart from one patient to the next.
    const minute = (i * 60) % 7200;
    streams.push({
      ...common,
      deviceId: `${patientId}-bp`,
      type: 'blood_pressure',
      code: 'bp',
      offsetS: 25_200 + minute,
      base: 128 + (i % 7) * 3,
    });
    streams.push({
      ...common,
      deviceId: `${patientId}-wt`,
      type: 'body_weight',
      code: 'wt',
      offsetS: 23_400 + minute,
      base: 60 + (i % 40),
    });
    streams.push({
      ...common,
      deviceId: `${patientId}-ox`,
      type: 'spo2',
      code: 'ox',
      offsetS: 32_400 + minute,
      base: 95,
    });
  }
  return streams;
}

/**
 * One chunk of history, [fromS, toS) in seconds since the history's start: every
 * stream's readings in it, ordered by time then device (as commits interleave them),
 * into reading_keys and readings, and the (patient, type, local day) dirty marks,
 * with the write path's columns and ON CONFLICT clause.
 */
const CHUNK_SQL = `
WITH gen AS (
  SELECT s.patient_id, s.device_id, s.type, s.loinc, s.unit, s.code, s.phase, s.base,
         $1::int8 + s.offset_s + k * s.step_s AS sec
  FROM scale_streams s
  CROSS JOIN LATERAL generate_series(ceil(($2::int8 - s.offset_s)::numeric / s.step_s)::int8,
                                     ceil(($3::int8 - s.offset_s)::numeric / s.step_s)::int8 - 1) AS k
),
v AS MATERIALIZED (
  SELECT g.patient_id, g.device_id, g.type, g.loinc, g.unit, g.sec,
         to_timestamp(g.sec) AS measured_at,
         g.code || '-' || (g.sec * 1000) AS reading_id,
         CASE g.type
           WHEN 'cgm_glucose' THEN round(least(400, greatest(40,
             g.base + 75 * sin(2 * pi() * g.sec / 86400 + g.phase) + 35 * sin(2 * pi() * g.sec / 11700 + 3 * g.phase)
             + random() * 16 - 8)))
           WHEN 'spo2' THEN round(least(100, g.base + 2.5 * sin(2 * pi() * g.sec / (86400 * 9) + g.phase) + random() * 2 - 1))
           WHEN 'body_weight' THEN round((g.base + 0.8 * sin(2 * pi() * g.sec / (86400 * 20) + g.phase) + random() * 0.4)::numeric, 1)::float8
         END AS value,
         CASE WHEN g.type = 'blood_pressure' THEN round(g.base + 10 * sin(2 * pi() * g.sec / (86400 * 11) + g.phase) + random() * 10) END AS systolic,
         CASE WHEN g.type = 'blood_pressure' THEN round(78 + 6 * sin(2 * pi() * g.sec / (86400 * 11) + g.phase) + random() * 6) END AS diastolic,
         CASE WHEN g.type = 'blood_pressure' THEN round(62 + random() * 16) END AS pulse
  FROM gen g
  ORDER BY g.sec, g.device_id
),
keys AS (
  INSERT INTO reading_keys (device_id, reading_id, content_hash)
  SELECT device_id, reading_id,
         -- The length of the write path's hash (sha1, base64: 28 characters).
         encode(substr(sha256(convert_to(type || '|' || sec * 1000 || '|' || unit || '|' || coalesce(value, systolic)
                || '|' || coalesce(diastolic, -1) || '|' || coalesce(pulse, -1), 'UTF8')), 1, 20), 'base64')
  FROM v
),
stored AS (
  INSERT INTO readings (patient_id, device_id, reading_id, type, loinc, unit, value, systolic, diastolic, pulse,
                        sent_unit, sent_value, sent_systolic, sent_diastolic, context, measured_at, received_at)
  SELECT patient_id, device_id, reading_id, type, loinc, unit, value, systolic, diastolic, pulse,
         unit, value, systolic, diastolic, NULL, measured_at, measured_at + interval '30 seconds'
  FROM v
  RETURNING patient_id, type, measured_at
)
INSERT INTO aggregation_dirty (patient_id, type, day)
SELECT DISTINCT s.patient_id, s.type, (s.measured_at AT TIME ZONE p.time_zone)::date
FROM stored s JOIN patients p ON p.id = s.patient_id
ORDER BY 1, 2, 3
ON CONFLICT (patient_id, type, day) DO UPDATE SET marked_at = now(), version = aggregation_dirty.version + 1
`;

export interface LoadProgress {
  (line: string): void;
}

/**
 * Provisions the mix's patients and devices (assigned from a day before the history)
 * and writes the history ending at the last 5-minute boundary before now, then runs
 * the aggregation job until no dirty mark is left. With `aggregateOnly`, the dirty
 * marks of every other patient are dropped first: only those patients get rollups,
 * indicators and alerts (a reads-only measurement of a history too long to aggregate).
 */
export async function loadHistory(
  db: Db,
  url: string,
  mix: Mix,
  log: Logger,
  progress: LoadProgress,
  aggregateOnly?: readonly string[],
): Promise<HistoryMeta> {
  const endS = Math.floor(Date.now() / 1000 / CGM_STEP_S) * CGM_STEP_S;
  const startS = endS - mix.days * DAY_S;
  const streams = streamsOf(mix);

  const provisionStarted = performance.now();
  const assignedFrom = new Date((startS - DAY_S) * 1000);
  const patients = new Set<string>();
  const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
  for (const s of streams) {
    if (!patients.has(s.patientId)) {
      await addPatient(db, { id: s.patientId });
      patients.add(s.patientId);
    }
    await addDevice(db, keys, { id: s.deviceId, patientId: s.patientId }, assignedFrom);
  }
  await new Partitions(db).ensureRange(startS * 1000, endS * 1000);
  progress(
    `provisioned ${patients.size} patients and ${streams.length} devices in ${((performance.now() - provisionStarted) / 1000).toFixed(1)} s`,
  );

  const client = new pg.Client({ connectionString: url, application_name: 'vitalink-scale-bench' });
  await client.connect();
  const loadStarted = performance.now();
  try {
    // Each day's readings are sorted by time before they are written.
    await client.query(`SET work_mem = '64MB'`);
    await client.query(`
      CREATE TEMP TABLE scale_streams (
        patient_id text, device_id text, type text, loinc text, unit text, code text,
        step_s int, offset_s int, phase float8, base float8)`);
    await client.query(
      `INSERT INTO scale_streams
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                            $7::int[], $8::int[], $9::float8[], $10::float8[])`,
      [
        streams.map((s) => s.patientId),
        streams.map((s) => s.deviceId),
        streams.map((s) => s.type),
        streams.map((s) => readingTypeSpec(s.type)!.loinc),
        streams.map((s) => readingTypeSpec(s.type)!.storedUnit),
        streams.map((s) => s.code),
        streams.map((s) => s.stepS),
        streams.map((s) => s.offsetS),
        streams.map((s) => s.phase),
        streams.map((s) => s.base),
      ],
    );
    // One day per statement: each commits what the service would have committed that day.
    for (let day = 0; day < mix.days; day++) {
      await client.query(CHUNK_SQL, [startS, day * DAY_S, (day + 1) * DAY_S]);
      if ((day + 1) % 10 === 0 || day + 1 === mix.days) {
        const s = (performance.now() - loadStarted) / 1000;
        progress(`loaded day ${day + 1}/${mix.days} (${s.toFixed(0)} s)`);
      }
    }
  } finally {
    await client.end();
  }
  // What autovacuum does to a table in the months it takes to fill: statistics, hint bits, the visibility map.
  await sql`VACUUM (ANALYZE) readings, reading_keys`.execute(db);
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  // Two instances of the job, as two service instances would run it (they share the
  // patients with SKIP LOCKED): the database does most of the work and has two cores.
  // One patient per run, on connections that avoid sequential scans: once the tables have
  // statistics, the job's rollup statement for a few hundred dirty days (10 patients' 90
  // days) is planned as a hash join over a sequential scan of every partition. Even so,
  // a patient's 90 dirty days take seconds: each day's probe of the index is bounded by
  // the patient only (the day's bounds come from the join), so it reads the heap pages
  // of the patient's whole month, every day of it (README, "Sizing").
  const planned = new URL(url);
  planned.searchParams.set('options', '-c enable_seqscan=off -c jit=off');
  const { db: jobDb } = createDatabase(planned.toString(), 3, log);
  const aggregationStarted = performance.now();
  if (aggregateOnly) {
    await sql`DELETE FROM aggregation_dirty WHERE NOT (patient_id = ANY(${aggregateOnly}::text[]))`.execute(db);
    progress(`aggregating the history of ${aggregateOnly.length} patient(s) only: ${aggregateOnly.join(', ')}`);
  }
  let patientsDone = 0;
  const instance = async () => {
    const aggregator = new Aggregator({
      db: jobDb,
      log,
      intervalMs: 1000,
      batchSize: 1,
      refreshEveryMs: 3_600_000,
      now: Date.now,
    });
    for (;;) {
      const run = await aggregator.runOnce();
      if (run.marks === 0 && run.patients === 0) return;
      patientsDone += run.patients;
      if (patientsDone % 20 !== 0) continue;
      progress(
        `aggregated ${patientsDone} patients (${((performance.now() - aggregationStarted) / 1000).toFixed(0)} s)`,
      );
    }
  };
  try {
    await Promise.all([instance(), instance()]);
    // One instance can find nothing left to lock while the other still works: finish alone.
    await instance();
  } finally {
    await jobDb.destroy();
  }
  const aggregationSeconds = (performance.now() - aggregationStarted) / 1000;
  return {
    version: 1,
    ...mix,
    startMs: startS * 1000,
    endMs: endS * 1000,
    readings: readingsOf(mix),
    loadSeconds,
    aggregationSeconds,
    ...(aggregateOnly ? { aggregatedOnly: [...aggregateOnly] } : {}),
  };
}
