/**
 * What the aggregation job costs per patient once a history is there: one new CGM
 * reading per sample patient, written through the service's write path (writeBatch),
 * then the job's public Aggregator.runOnce, timed (wall and this process' CPU). The
 * job's internals may change; this only counts what a run takes.
 */
import { sql } from 'kysely';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { MAX_FUTURE_MS } from '../../src/domain/protocol.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import type { Logger } from '../../src/logger.ts';
import type { Db } from '../../src/store/database.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { type MessageToStore, writeBatch } from '../../src/store/reading-sink.ts';
import { CGM_STEP_S } from './history.ts';
import { type Latency, latencyOf, round2 } from './stats.ts';

/** The extrapolation's fleet: CGM patients, one reading each per 5 minutes. */
export const FLEET_CGM_PATIENTS = 10_000;

export interface AggregationCost {
  samplePatients: number;
  /** Runs of one patient each (batchSize 1). */
  singleRunMsPerPatient: Latency;
  /** Runs of every sample patient at once (batchSize = samplePatients), per patient. */
  batchedRunMsPerPatient: number;
  batchedRunNodeCpuMsPerPatient: number;
  batchedRuns: number;
  extrapolation: {
    cgmPatients: number;
    readingIntervalS: number;
    recomputesPerMinute: number;
    /** Wall seconds of job runs per minute of readings: above 60, one job cannot keep up. */
    wallSecondsPerMinute: number;
    /** Of which the service process' CPU (JavaScript: indicators, alerts, decoding rows)... */
    nodeCpuSecondsPerMinute: number;
    /** ...and the rest: the database's work and the round trips. */
    databaseAndWaitSecondsPerMinute: number;
  };
}

function newAggregator(db: Db, log: Logger, batchSize: number): Aggregator {
  // Runs of exactly the patients asked for: no sizing of runs by their recent cost (targetRunMs).
  return new Aggregator({
    db,
    log,
    intervalMs: 1000,
    batchSize,
    targetRunMs: Number.POSITIVE_INFINITY,
    refreshEveryMs: 3_600_000,
    now: Date.now,
  });
}

async function drain(aggregator: Aggregator): Promise<void> {
  for (;;) {
    const run = await aggregator.runOnce();
    if (run.marks === 0 && run.patients === 0) return;
  }
}

export async function measureAggregationCost(
  db: Db,
  log: Logger,
  devices: readonly { patientId: string; deviceId: string }[],
  batchedRuns: number,
): Promise<AggregationCost> {
  const partitions = new Partitions(db);
  let sequence = 0;
  const tag = Date.now().toString(36);
  const writeOneEach = async (sample: readonly { deviceId: string }[]) => {
    const now = Date.now();
    const messages: MessageToStore[] = sample.map(({ deviceId }) => {
      const payload = Buffer.from(
        JSON.stringify({ id: `agg-${tag}-${++sequence}`, type: 'cgm_glucose', at: now, value: 118, unit: 'mg/dL' }),
      );
      return {
        deviceId,
        receivedAt: now,
        ...decodeMessage(payload, { now, maxAgeMs: 90 * 86_400_000, maxFutureMs: MAX_FUTURE_MS }),
      };
    });
    const outcomes = await writeBatch(db, partitions, messages);
    const stored = outcomes.reduce((n, o) => n + o.stored, 0);
    if (stored !== sample.length) throw new Error(`stored ${stored} of ${sample.length} aggregation sample readings`);
  };

  const single = newAggregator(db, log, 1);
  await drain(single);
  try {
    return await measure(db, log, devices, batchedRuns, single, writeOneEach);
  } finally {
    await removeSampleReadings(db, devices, tag);
    await drain(single);
  }
}

/**
 * Deletes the sample's readings and has the job recompute the days they were in, so
 * that a kept database holds its history as it was loaded.
 */
async function removeSampleReadings(db: Db, devices: readonly { patientId: string; deviceId: string }[], tag: string) {
  const prefix = `agg-${tag}-%`;
  await sql`
    WITH gone AS (
      DELETE FROM readings
      WHERE patient_id = ANY(${devices.map((d) => d.patientId)}::text[]) AND type = 'cgm_glucose'
        AND measured_at >= now() - interval '1 day' AND reading_id LIKE ${prefix}
      RETURNING patient_id, type, measured_at
    ),
    keys AS (
      DELETE FROM reading_keys WHERE device_id = ANY(${devices.map((d) => d.deviceId)}::text[]) AND reading_id LIKE ${prefix}
    )
    INSERT INTO aggregation_dirty (patient_id, type, day)
    SELECT DISTINCT g.patient_id, g.type, (g.measured_at AT TIME ZONE p.time_zone)::date
    FROM gone g JOIN patients p ON p.id = g.patient_id
    ON CONFLICT (patient_id, type, day) DO UPDATE SET marked_at = now(), version = aggregation_dirty.version + 1
  `.execute(db);
}

async function measure(
  db: Db,
  log: Logger,
  devices: readonly { patientId: string; deviceId: string }[],
  batchedRuns: number,
  single: Aggregator,
  writeOneEach: (sample: readonly { deviceId: string }[]) => Promise<void>,
): Promise<AggregationCost> {
  const singleMs: number[] = [];
  for (const device of devices) {
    await writeOneEach([device]);
    const started = performance.now();
    const run = await single.runOnce();
    singleMs.push(performance.now() - started);
    if (run.patients !== 1) throw new Error(`a run for one new reading took ${run.patients} patients`);
  }

  const batched = newAggregator(db, log, devices.length);
  let wallMs = 0;
  let cpuMs = 0;
  for (let r = 0; r < batchedRuns; r++) {
    await writeOneEach(devices);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const run = await batched.runOnce();
    wallMs += performance.now() - started;
    const used = process.cpuUsage(cpu);
    cpuMs += (used.user + used.system) / 1000;
    if (run.patients !== devices.length) {
      throw new Error(`a run for ${devices.length} new readings took ${run.patients} patients`);
    }
  }
  const perPatient = wallMs / (batchedRuns * devices.length);
  const cpuPerPatient = cpuMs / (batchedRuns * devices.length);
  const recomputesPerMinute = (FLEET_CGM_PATIENTS * 60) / CGM_STEP_S;
  return {
    samplePatients: devices.length,
    singleRunMsPerPatient: latencyOf(singleMs),
    batchedRunMsPerPatient: round2(perPatient),
    batchedRunNodeCpuMsPerPatient: round2(cpuPerPatient),
    batchedRuns,
    extrapolation: {
      cgmPatients: FLEET_CGM_PATIENTS,
      readingIntervalS: CGM_STEP_S,
      recomputesPerMinute,
      wallSecondsPerMinute: round2((recomputesPerMinute * perPatient) / 1000),
      nodeCpuSecondsPerMinute: round2((recomputesPerMinute * cpuPerPatient) / 1000),
      databaseAndWaitSecondsPerMinute: round2((recomputesPerMinute * (perPatient - cpuPerPatient)) / 1000),
    },
  };
}
