/**
 * The write path's rate on the loaded database against an empty one: batches of
 * single-reading messages through the service's writeBatch (as scripts/store-load.ts
 * does), `writers` at once, runs alternating between the two databases so that the
 * machine's drift falls on both. The loaded database gets devices of its own for
 * this, deleted afterwards with their readings: the history is left as it was.
 */
import { resolveKeyRing } from '../../src/actions/secret-keys.ts';
import { readSecretKeys } from '../../src/config.ts';
import { sql } from 'kysely';
import { addDevice, addPatient } from '../../src/actions/provisioning.ts';
import { MAX_FUTURE_MS } from '../../src/domain/protocol.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import type { Db } from '../../src/store/database.ts';
import { findDevice } from '../../src/store/devices.repository.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { type MessageToStore, writeBatch } from '../../src/store/reading-sink.ts';
import { round2 } from './stats.ts';

const DEVICES = 20;
const WRITERS = 2;
const BATCH_READINGS = 200;

export interface IngestComparison {
  devices: number;
  writers: number;
  batchReadings: number;
  secondsPerRun: number;
  loadedReadingsPerSecond: number[];
  emptyReadingsPerSecond: number[];
  /** Median loaded rate over median empty rate. */
  ratio: number;
}

function ingestDeviceId(i: number): string {
  return `scale-ingest-${String(i + 1).padStart(2, '0')}-d`;
}

function ingestPatientId(i: number): string {
  return `scale-ingest-${String(i + 1).padStart(2, '0')}`;
}

/** The ingest devices, each assigned to a patient of its own. */
export async function provisionIngestDevices(db: Db): Promise<void> {
  const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
  for (let i = 0; i < DEVICES; i++) {
    if (await findDevice(db, ingestDeviceId(i))) continue;
    await addPatient(db, { id: ingestPatientId(i) });
    await addDevice(
      db,
      keys,
      { id: ingestDeviceId(i), patientId: ingestPatientId(i) },
      new Date(Date.now() - 86_400_000),
    );
  }
}

/** Deletes what the ingest runs wrote (readings, keys, dirty marks) and their devices and patients. */
export async function deleteIngestDevices(db: Db): Promise<void> {
  const patients = Array.from({ length: DEVICES }, (_, i) => ingestPatientId(i));
  const devices = Array.from({ length: DEVICES }, (_, i) => ingestDeviceId(i));
  await sql`DELETE FROM readings WHERE patient_id = ANY(${patients}::text[])`.execute(db);
  await sql`DELETE FROM reading_keys WHERE device_id = ANY(${devices}::text[])`.execute(db);
  await sql`DELETE FROM aggregation_dirty WHERE patient_id = ANY(${patients}::text[])`.execute(db);
  await sql`DELETE FROM device_assignments WHERE device_id = ANY(${devices}::text[])`.execute(db);
  await sql`DELETE FROM devices WHERE id = ANY(${devices}::text[])`.execute(db);
  await sql`DELETE FROM patients WHERE id = ANY(${patients}::text[])`.execute(db);
}

async function run(db: Db, seconds: number, tag: string): Promise<number> {
  const partitions = new Partitions(db);
  let sequence = 0;
  const nextBatch = (): MessageToStore[] => {
    const now = Date.now();
    return Array.from({ length: BATCH_READINGS }, (_, m) => {
      const payload = Buffer.from(
        JSON.stringify({ id: `ing-${tag}-${++sequence}`, type: 'cgm_glucose', at: now, value: 120, unit: 'mg/dL' }),
      );
      return {
        deviceId: ingestDeviceId(m % DEVICES),
        receivedAt: now,
        ...decodeMessage(payload, { now, maxAgeMs: 90 * 86_400_000, maxFutureMs: MAX_FUTURE_MS }),
      };
    });
  };
  let rows = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < deadline) {
        for (const o of await writeBatch(db, partitions, nextBatch())) rows += o.stored;
      }
    }),
  );
  return rows / ((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** `rounds` runs on each database, alternating which goes first. */
export async function compareIngest(
  loaded: Db,
  empty: Db,
  rounds: number,
  secondsPerRun: number,
): Promise<IngestComparison> {
  await provisionIngestDevices(loaded);
  await provisionIngestDevices(empty);
  const tag = Date.now().toString(36);
  const loadedRates: number[] = [];
  const emptyRates: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const order: [Db, number[]][] = [
        [loaded, loadedRates],
        [empty, emptyRates],
      ];
      if (r % 2 === 1) order.reverse();
      for (const [db, rates] of order) rates.push(await run(db, secondsPerRun, `${tag}-${r}`));
    }
  } finally {
    await deleteIngestDevices(loaded);
  }
  return {
    devices: DEVICES,
    writers: WRITERS,
    batchReadings: BATCH_READINGS,
    secondsPerRun,
    loadedReadingsPerSecond: loadedRates.map(Math.round),
    emptyReadingsPerSecond: emptyRates.map(Math.round),
    ratio: round2(median(loadedRates) / median(emptyRates)),
  };
}
