import { sql } from 'kysely';
import type { CgmReading } from '../domain/indicators/index.ts';
import { inWindow } from '../domain/indicators/index.ts';
import type { Db } from './database.ts';

/**
 * A patient's CGM readings inside (`from`, `to`] (indicators.md), oldest first, with
 * the millisecond times the aggregation job uses (measured_at rounded to the ms), so
 * that a window holds here exactly the readings its indicators counted. One index
 * range on (patient_id, type, measured_at): the cost is the window's readings
 * (4,032 a sensor for 14 days at 5 minutes), whatever the length of the history.
 */
export async function loadCgmReadings(db: Db, patientId: string, from: number, to: number): Promise<CgmReading[]> {
  // One millisecond either side: the rounding to ms is applied below, as the job applies it.
  const { rows } = await sql<{ device_id: string; at_ms: string; value: number }>`
    SELECT device_id, (extract(epoch FROM measured_at) * 1000)::int8 AS at_ms, value
    FROM readings
    WHERE patient_id = ${patientId} AND type = 'cgm_glucose'
      AND measured_at > ${new Date(from - 1)} AND measured_at < ${new Date(to + 1)} AND value IS NOT NULL
    ORDER BY measured_at, reading_id`.execute(db);
  const out: CgmReading[] = [];
  for (const r of rows) {
    const at = Number(r.at_ms);
    if (inWindow(at, from, to)) out.push({ deviceId: r.device_id, at, value: r.value });
  }
  return out;
}
