import { sql } from 'kysely';
import type { Db } from './database.ts';
import { type ReadingPageRow, type StoredReading, toStoredReading } from './readings-page.ts';

/**
 * The readings whose FHIR id digest begins with `digestPrefix` (the first 8 bytes of
 * sha256(device id, "\n", reading id), migration 2026-12-07T1950-fhir-export), with
 * their patient. The caller compares the whole id (a prefix may, rarely, be shared).
 *
 * Cost: one probe of readings_fhir_id per monthly partition of readings (the id does
 * not carry the measured time, the partition key): a few buffers per month kept,
 * whatever the number of readings; never a scan of a patient's history.
 */
export async function readingsByFhirDigest(
  db: Db,
  digestPrefix: Buffer,
): Promise<(StoredReading & { patientId: string })[]> {
  const { rows } = await sql<ReadingPageRow & { patient_id: string }>`
    SELECT patient_id, reading_id, device_id, type, unit, value, systolic, diastolic, pulse, context, measured_at, received_at
    FROM readings
    WHERE substring(sha256(decode(device_id || E'\\n' || reading_id, 'escape')), 1, 8) = ${digestPrefix}
    LIMIT 16
  `.execute(db);
  return rows.map((r) => ({ ...toStoredReading(r), patientId: r.patient_id }));
}
