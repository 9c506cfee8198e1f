import { sql } from 'kysely';
import { READING_TYPE_NAMES } from '../domain/reading-types.ts';
import type { Db } from './database.ts';

/** How far back the device's readings tell its reading types (GET /fhir/Device/{id}). */
export const DEVICE_TYPE_WINDOW_MS = 31 * 86_400_000;

/**
 * The reading types the device sent to the given patients (those it was assigned to)
 * in the last DEVICE_TYPE_WINDOW_MS: the PHD Device's specializations
 * (src/fhir/device.ts). No index leads with the device (readings_device_reading was
 * dropped from the write path, migration 2026-11-22T1600), so each type is one probe
 * of readings_patient_type_time per patient over the window's partitions, stopped at
 * the first reading of the device (a LATERAL with LIMIT 1: an EXISTS was planned as a
 * semi-join reading the patient's whole window, 9,000 heap pages for a CGM patient at
 * 50M readings, against 160 buffers this way): when the device is the patient's only one of that
 * type, one index entry; at worst (another device of the same type, this one silent)
 * the window's readings of that type for that patient. Never the device's or the
 * patient's whole history. A type the device stopped sending before the window is
 * not named.
 */
export async function deviceReadingTypes(
  db: Db,
  deviceId: string,
  patientIds: readonly string[],
  now: Date,
): Promise<string[]> {
  if (patientIds.length === 0) return [];
  const since = new Date(now.getTime() - DEVICE_TYPE_WINDOW_MS);
  const { rows } = await sql<{ type: string }>`
    SELECT t.type
    FROM unnest(${[...READING_TYPE_NAMES]}::text[]) AS t(type)
    CROSS JOIN LATERAL (
      SELECT 1 FROM readings r
      WHERE r.patient_id = ANY(${[...patientIds]}::text[])
        AND r.type = t.type
        AND r.measured_at >= ${since}
        AND r.device_id = ${deviceId}
      LIMIT 1
    ) AS sent
    ORDER BY t.type
  `.execute(db);
  return rows.map((r) => r.type);
}
