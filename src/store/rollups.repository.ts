import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * One component of one rollup bucket (hour or patient-local day). Times are epoch
 * milliseconds: a 90-day hourly series is 2,160 rows, and parsing two timestamps a
 * row cost more than the query itself.
 */
export interface RollupBucket {
  startMs: number;
  endMs: number;
  /** 'value', or 'systolic' / 'diastolic' for blood pressure. */
  component: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  sum: number;
}

/** Daily rollups whose local day starts in [from, to), in the patient's time zone, oldest first. */
export async function listDailyRollups(
  db: Db,
  patient: { id: string; timeZone: string },
  type: string,
  from: Date,
  to: Date,
): Promise<RollupBucket[]> {
  const { rows } = await sql<RollupBucket>`
    SELECT extract(epoch FROM day::timestamp AT TIME ZONE ${patient.timeZone})::float8 * 1000 AS "startMs",
           extract(epoch FROM (day + 1)::timestamp AT TIME ZONE ${patient.timeZone})::float8 * 1000 AS "endMs",
           component, count, min, max, mean, sum
    FROM rollups_daily
    WHERE patient_id = ${patient.id} AND type = ${type}
      -- The same range on the key's own column, so the index reads the days asked for and not
      -- the patient's whole history (a local day starting in [from, to) lies in these dates).
      AND day >= (${from}::timestamptz AT TIME ZONE ${patient.timeZone})::date
      AND day <= (${to}::timestamptz AT TIME ZONE ${patient.timeZone})::date
      AND (day::timestamp AT TIME ZONE ${patient.timeZone}) >= ${from}
      AND (day::timestamp AT TIME ZONE ${patient.timeZone}) < ${to}
    ORDER BY day, component`.execute(db);
  return rows;
}

/** Hourly rollups whose hour starts in [from, to), oldest first. */
export async function listHourlyRollups(
  db: Db,
  patientId: string,
  type: string,
  from: Date,
  to: Date,
): Promise<RollupBucket[]> {
  const { rows } = await sql<RollupBucket>`
    SELECT extract(epoch FROM hour_start)::float8 * 1000 AS "startMs",
           extract(epoch FROM hour_start)::float8 * 1000 + 3600000 AS "endMs",
           component, count, min, max, mean, sum
    FROM rollups_hourly
    WHERE patient_id = ${patientId} AND type = ${type} AND hour_start >= ${from} AND hour_start < ${to}
    ORDER BY hour_start, component`.execute(db);
  return rows;
}
