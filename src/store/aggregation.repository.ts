import { sql } from 'kysely';
import type { Indicator } from '../domain/indicators/index.ts';
import { READING_TYPES } from '../domain/reading-types.ts';
import { mergedPartialsCtes } from './cgm-partials-merge.ts';
import type { Db } from './database.ts';

/** A (patient, type, patient-local day) that a commit touched. */
export interface DirtyMark {
  patientId: string;
  type: string;
  day: string;
  /** Bumped by every commit that touches the mark. */
  version: string;
}

export interface AggregationWork {
  /** Patients locked for this transaction: nobody else aggregates them until it ends. */
  patientIds: string[];
  /** Their dirty days (rollups to recompute). */
  marks: DirtyMark[];
  /** Those of them marked for an indicator refresh only. */
  refreshIds: string[];
}

/**
 * Takes work for one transaction: the patients of the oldest dirty marks (and of
 * refresh marks), locked with SKIP LOCKED so that several service instances share
 * the work by patient and never compute the same patient at once, then all the
 * marks of those patients. The marks themselves are read, not locked: a commit
 * adding readings to a day while the job recomputes it is never kept waiting; it
 * bumps the mark's version, and the job deletes only marks whose version did not
 * move (deleteDirtyMarks), so such a day is simply recomputed on the next run.
 */
export async function takeWork(trx: Db, patientLimit: number): Promise<AggregationWork> {
  const { rows: locked } = await sql<{ id: string }>`
    SELECT id FROM patients
    WHERE id IN (
      (SELECT patient_id FROM aggregation_dirty GROUP BY patient_id ORDER BY min(first_marked_at)
       LIMIT ${patientLimit * 8})
      UNION
      (SELECT patient_id FROM indicators_dirty WHERE marked_at <= now() ORDER BY marked_at LIMIT ${patientLimit})
    )
    LIMIT ${patientLimit}
    FOR NO KEY UPDATE SKIP LOCKED
  `.execute(trx);
  const patientIds = locked.map((r) => r.id);
  if (patientIds.length === 0) return { patientIds, marks: [], refreshIds: [] };
  const { rows: marks } = await sql<{ patient_id: string; type: string; day: string; version: string }>`
    SELECT patient_id, type, day::text AS day, version FROM aggregation_dirty
    WHERE patient_id = ANY(${patientIds}::text[])
    ORDER BY patient_id, type, day
  `.execute(trx);
  const { rows: refresh } = await sql<{ patient_id: string }>`
    SELECT patient_id FROM indicators_dirty
    WHERE patient_id = ANY(${patientIds}::text[]) AND marked_at <= now()
    FOR UPDATE SKIP LOCKED
  `.execute(trx);
  return {
    patientIds,
    marks: marks.map((r) => ({ patientId: r.patient_id, type: r.type, day: r.day, version: r.version })),
    refreshIds: refresh.map((r) => r.patient_id),
  };
}

/** Deletes the marks that no commit touched since they were read (same version). */
export async function deleteDirtyMarks(trx: Db, marks: DirtyMark[]): Promise<void> {
  if (marks.length === 0) return;
  await sql`
    DELETE FROM aggregation_dirty d
    USING unnest(${marks.map((m) => m.patientId)}::text[], ${marks.map((m) => m.type)}::text[],
                 ${marks.map((m) => m.day)}::date[], ${marks.map((m) => m.version)}::int8[])
      AS m(patient_id, type, day, version)
    WHERE d.patient_id = m.patient_id AND d.type = m.type AND d.day = m.day AND d.version = m.version
  `.execute(trx);
}

export async function deleteIndicatorMarks(trx: Db, patientIds: string[]): Promise<void> {
  if (patientIds.length === 0) return;
  await sql`DELETE FROM indicators_dirty WHERE patient_id = ANY(${patientIds}::text[])`.execute(trx);
}

/**
 * Recomputes the daily and hourly rollups of the marked days from the readings,
 * replacing what was there. Days and hours are the patient's (IANA zone on the
 * patient): a local day runs from local midnight to the next local midnight, 23
 * or 25 hours at the DST changes, and hours are truncated in that zone.
 * indicators.md, "Daily rollups": count, min, max, mean, sample SD, first and
 * last reading time, per component for blood pressure, and the sum (for steps).
 * The CGM partial aggregates of the hours of marked cgm_glucose days are
 * recomputed with them (recomputeCgmPartials), and the daily rows written are
 * flagged `with_partials`. Each marked day is one index range of readings: the
 * cost is that of the days marked, whatever the patient's history.
 */
export async function recomputeRollups(trx: Db, marks: DirtyMark[]): Promise<void> {
  if (marks.length === 0) return;
  const patientIds = marks.map((m) => m.patientId);
  const types = marks.map((m) => m.type);
  const days = marks.map((m) => m.day);
  // Each statement takes the bounds MATERIALIZED: inlined, the planner scanned all of a patient's
  // hourly rollups of a type and computed the bounds again for each of them.
  const bounds = sql`
    SELECT m.patient_id, m.type, m.day, p.time_zone,
           (m.day::timestamp AT TIME ZONE p.time_zone) AS start_at,
           ((m.day + 1)::timestamp AT TIME ZONE p.time_zone) AS end_at
    FROM unnest(${patientIds}::text[], ${types}::text[], ${days}::date[]) AS m(patient_id, type, day)
    JOIN patients p ON p.id = m.patient_id
  `;
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    DELETE FROM rollups_daily d USING b
    WHERE d.patient_id = b.patient_id AND d.type = b.type AND d.day = b.day
      -- Every component named, so that the primary key (patient, type, component, day) bounds the day too.
      AND d.component IN ('value', 'systolic', 'diastolic')
  `.execute(trx);
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    DELETE FROM rollups_hourly h USING b
    WHERE h.patient_id = b.patient_id AND h.type = b.type AND h.hour_start >= b.start_at AND h.hour_start < b.end_at
      AND h.component IN ('value', 'systolic', 'diastolic')
  `.execute(trx);
  // One index range per marked day: as a join, a batch of many days is planned as a hash of
  // the whole readings table (fine for a small table, not for years of data).
  const components = sql`
    FROM b
    CROSS JOIN LATERAL (
      SELECT measured_at, value, systolic, diastolic FROM readings
      WHERE patient_id = b.patient_id AND type = b.type AND measured_at >= b.start_at AND measured_at < b.end_at
      OFFSET 0
    ) r
    CROSS JOIN LATERAL (VALUES ('value', r.value), ('systolic', r.systolic), ('diastolic', r.diastolic)) AS c(component, v)
    WHERE c.v IS NOT NULL
  `;
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at,
                               with_partials)
    SELECT b.patient_id, b.type, c.component, b.day, count(*), min(c.v), max(c.v), avg(c.v), stddev_samp(c.v),
           sum(c.v), min(r.measured_at), max(r.measured_at), true
    ${components}
    GROUP BY b.patient_id, b.type, c.component, b.day
  `.execute(trx);
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    INSERT INTO rollups_hourly (patient_id, type, component, hour_start, count, min, max, mean, sd, sum, first_at, last_at)
    SELECT b.patient_id, b.type, c.component, date_trunc('hour', r.measured_at, b.time_zone), count(*), min(c.v),
           max(c.v), avg(c.v), stddev_samp(c.v), sum(c.v), min(r.measured_at), max(r.measured_at)
    ${components}
    GROUP BY b.patient_id, b.type, c.component, date_trunc('hour', r.measured_at, b.time_zone)
  `.execute(trx);
  await recomputeCgmPartials(trx, bounds);
}

/**
 * The CGM partial aggregates (src/domain/indicators/cgm-partials.ts) of every UTC hour
 * that meets a marked cgm_glucose day, recomputed from that hour's readings, whole
 * (an hour may straddle two local days in a zone whose offset is not whole hours):
 * per device, count, sum, sum of squared deviations (var_pop × n), min, max, the
 * counts in Battelino's ranges, first and last reading time and the positive gaps
 * between consecutive readings (in ms as the job reads readings), as a histogram;
 * then the partials of the UTC days of those hours, merged from their hourly rows.
 */
async function recomputeCgmPartials(trx: Db, bounds: ReturnType<typeof sql>): Promise<void> {
  const hours = sql`
    SELECT DISTINCT b.patient_id, h AS hour_start
    FROM b CROSS JOIN LATERAL generate_series(date_trunc('hour', b.start_at, 'UTC'),
                                              b.end_at - interval '1 millisecond', interval '1 hour') AS h
    WHERE b.type = 'cgm_glucose'
  `;
  // The same hours as `hours`, as a range per marked day, so that the primary key bounds the scan.
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    DELETE FROM cgm_hourly_partials c USING b
    WHERE b.type = 'cgm_glucose' AND c.patient_id = b.patient_id
      AND c.hour_start >= date_trunc('hour', b.start_at, 'UTC') AND c.hour_start < b.end_at
  `.execute(trx);
  await sql`
    WITH b AS MATERIALIZED (${bounds}), hours AS (${hours}),
    r AS (
      SELECT hours.patient_id, hours.hour_start, r.device_id, r.value,
             (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms
      FROM hours
      -- One index range per hour (as a join the planner hashes the whole table: it guesses 1000 hours a day).
      CROSS JOIN LATERAL (
        SELECT device_id, value, measured_at FROM readings
        WHERE patient_id = hours.patient_id AND type = 'cgm_glucose' AND value IS NOT NULL
          AND measured_at >= hours.hour_start AND measured_at < hours.hour_start + interval '1 hour'
        OFFSET 0 -- kept a subquery: pulled up into a join, it would be planned as one
      ) r
    ),
    g AS (
      SELECT r.*, at_ms - lag(at_ms) OVER (PARTITION BY patient_id, hour_start, device_id ORDER BY at_ms) AS gap
      FROM r
    ),
    -- The positive gaps as a histogram: a sensor's gaps take few distinct values.
    histogram AS (
      SELECT patient_id, hour_start, device_id, array_agg(gap::int4 ORDER BY gap) AS gap_values,
             array_agg(n ORDER BY gap) AS gap_counts
      FROM (SELECT patient_id, hour_start, device_id, gap, count(*)::int4 AS n FROM g WHERE gap > 0
            GROUP BY patient_id, hour_start, device_id, gap) counted
      GROUP BY patient_id, hour_start, device_id
    )
    INSERT INTO cgm_hourly_partials (patient_id, hour_start, device_id, count, sum, m2, min, max, below_54, below_70,
                                     in_70_180, above_180, above_250, first_ms, last_ms, gap_values, gap_counts)
    SELECT a.*, coalesce(h.gap_values, '{}'), coalesce(h.gap_counts, '{}')
    FROM (
      SELECT patient_id, hour_start, device_id, count(*)::int4, sum(value), var_pop(value) * count(*), min(value),
             max(value), count(*) FILTER (WHERE value < 54)::int4, count(*) FILTER (WHERE value < 70)::int4,
             count(*) FILTER (WHERE value >= 70 AND value <= 180)::int4, count(*) FILTER (WHERE value > 180)::int4,
             count(*) FILTER (WHERE value > 250)::int4, min(at_ms), max(at_ms)
      FROM g
      GROUP BY patient_id, hour_start, device_id
    ) a
    LEFT JOIN histogram h USING (patient_id, hour_start, device_id)
  `.execute(trx);
  // The UTC days those hours fall in, merged again from their hourly rows (just written).
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    DELETE FROM cgm_daily_partials c USING b
    WHERE b.type = 'cgm_glucose' AND c.patient_id = b.patient_id
      AND c.day_start >= date_trunc('day', b.start_at, 'UTC') AND c.day_start < b.end_at
  `.execute(trx);
  const days = sql`
    SELECT DISTINCT b.patient_id, d AS day_start
    FROM b CROSS JOIN LATERAL generate_series(date_trunc('day', b.start_at, 'UTC'),
                                              b.end_at - interval '1 millisecond', interval '1 day') AS d
    WHERE b.type = 'cgm_glucose'
  `;
  const source = sql`
    SELECT c.*, days.day_start AS grp
    FROM days
    CROSS JOIN LATERAL (
      SELECT * FROM cgm_hourly_partials
      WHERE patient_id = days.patient_id AND hour_start >= days.day_start
        AND hour_start < days.day_start + interval '1 day'
      OFFSET 0
    ) c
  `;
  await sql`
    WITH b AS MATERIALIZED (${bounds}), days AS (${days}), ${mergedPartialsCtes(source)}
    INSERT INTO cgm_daily_partials (patient_id, day_start, device_id, count, sum, m2, min, max, below_54, below_70,
                                    in_70_180, above_180, above_250, first_ms, last_ms, gap_values, gap_counts)
    SELECT patient_id, grp, device_id, count, sum, m2, min, max, below_54, below_70, in_70_180, above_180,
           above_250, first_ms, last_ms, gap_values, gap_counts
    FROM merged
  `.execute(trx);
}

export interface PatientReading {
  id: string;
  deviceId: string;
  type: string;
  at: number;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
}

/** The time zone of each of these patients (patients that do not exist are left out). */
export async function loadTimeZones(trx: Db, patientIds: readonly string[]): Promise<Map<string, string>> {
  if (patientIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('patients')
    .select(['id', 'time_zone'])
    .where('id', 'in', [...patientIds])
    .execute();
  return new Map(rows.map((r) => [r.id, r.time_zone]));
}

/** Replaces each patient's indicators with these (the latest value of each key), in two statements. */
export async function saveIndicators(
  trx: Db,
  indicators: ReadonlyMap<string, readonly Indicator[]>,
  computedAt: Date,
): Promise<void> {
  if (indicators.size === 0) return;
  await sql`DELETE FROM patient_indicators WHERE patient_id = ANY(${[...indicators.keys()]}::text[])`.execute(trx);
  const rows = [...indicators].flatMap(([patientId, list]) => list.map((i) => ({ patientId, ...i })));
  if (rows.length === 0) return;
  await sql`
    INSERT INTO patient_indicators (patient_id, key, value, unit, from_at, to_at, n, sufficient, computed_at)
    SELECT patient_id, key, value, unit, from_at, to_at, n, sufficient, ${computedAt}
    FROM unnest(${rows.map((r) => r.patientId)}::text[], ${rows.map((r) => r.key)}::text[],
                ${rows.map((r) => r.value)}::float8[], ${rows.map((r) => r.unit)}::text[],
                ${rows.map((r) => new Date(r.from))}::timestamptz[], ${rows.map((r) => new Date(r.to))}::timestamptz[],
                ${rows.map((r) => r.n)}::int4[], ${rows.map((r) => r.sufficient)}::bool[])
      AS t(patient_id, key, value, unit, from_at, to_at, n, sufficient)
  `.execute(trx);
}

/** Asks for the patient's indicators to be recomputed once `at` has passed. */
export async function markForRefreshAt(db: Db, patientId: string, at: Date): Promise<void> {
  await sql`
    INSERT INTO indicators_dirty (patient_id, marked_at) VALUES (${patientId}, ${at})
    ON CONFLICT (patient_id) DO UPDATE SET marked_at = LEAST(indicators_dirty.marked_at, EXCLUDED.marked_at)
  `.execute(db);
}

/**
 * Marks every patient with a reading in the last `days` days for an indicator refresh.
 * One probe of rollups_daily's primary key per patient and type (the types of the
 * catalogue, one component each), not a scan of every patient's history of days.
 */
export async function markRecentPatientsForRefresh(db: Db, days: number): Promise<number> {
  const types = READING_TYPES.map((t) => t.type);
  const result = await sql`
    INSERT INTO indicators_dirty (patient_id)
    SELECT p.id FROM patients p
    WHERE EXISTS (
      SELECT 1 FROM unnest(${types}::text[], ${types.map((t) => (t === 'blood_pressure' ? 'systolic' : 'value'))}::text[])
        AS t(type, component)
      WHERE EXISTS (SELECT 1 FROM rollups_daily d
                    WHERE d.patient_id = p.id AND d.type = t.type AND d.component = t.component
                      AND d.day >= current_date - ${days}::int))
    ON CONFLICT (patient_id) DO NOTHING
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Aggregation lag: the age of the oldest dirty mark, in seconds (0 when none). */
export async function oldestDirtyAgeSeconds(db: Db): Promise<number> {
  const { rows } = await sql<{ age: number | null }>`
    SELECT extract(epoch FROM now() - min(first_marked_at))::float8 AS age FROM aggregation_dirty
  `.execute(db);
  return rows[0]?.age ?? 0;
}
