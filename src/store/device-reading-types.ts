import { sql } from 'kysely';
import type { Db } from './database.ts';

/** How many of the device's readings tell its reading types (GET /fhir/Device/{id}). */
export const DEVICE_TYPE_SAMPLE = 100;

/**
 * The reading types among the device's last DEVICE_TYPE_SAMPLE readings by reading
 * id (the PHD Device's specializations, src/fhir/device.ts). Cost: at most that many
 * entries of the readings_device_reading index per monthly partition, whatever the
 * device's history; a type the device stopped sending long ago may be missed.
 */
export async function deviceReadingTypes(db: Db, deviceId: string): Promise<string[]> {
  const { rows } = await sql<{ type: string }>`
    SELECT DISTINCT type FROM (
      SELECT type FROM readings WHERE device_id = ${deviceId} ORDER BY reading_id DESC LIMIT ${DEVICE_TYPE_SAMPLE}
    ) AS recent
    ORDER BY type
  `.execute(db);
  return rows.map((r) => r.type);
}
