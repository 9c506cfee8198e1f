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
  /**
   * The pieces of the day its commits touched (epoch ms: per reading, the later of
   * the starts of its UTC hour and of its local hour), ascending; null or absent:
   * the whole day (a mark queued before the hours were recorded, or bumped by a
   * writer that does not record them).
   */
  hours?: readonly number[] | null;
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
 * Takes work for one transaction: the patients of the oldest dirty marks first (by
 * when their oldest mark was made, so that no patient waits behind patients marked
 * after it), then patients due for an indicator refresh (oldest first) in the room
 * left, and a tenth of the run (at least one) for refreshes whatever the backlog, so
 * that neither kind starves the other: the hourly refresh of every patient does not
 * delay new readings, and refreshes still progress under a standing backlog. The
 * patients are locked with SKIP LOCKED so that several service instances share the
 * work by patient and never compute the same patient at once; then all the marks of
 * those patients are read. The marks themselves are read, not locked: a commit
 * adding readings to a day while the job recomputes it is never kept waiting; it
 * bumps the mark's version, and the job deletes only marks whose version did not
 * move (deleteDirtyMarks), so such a day is simply recomputed on the next run.
 */
export async function takeWork(trx: Db, patientLimit: number): Promise<AggregationWork> {
  const refreshQuota = Math.max(1, Math.floor(patientLimit / 10));
  const { rows: locked } = await sql<{ id: string }>`
    WITH dirty AS (
      SELECT patient_id, min(first_marked_at) AS since FROM aggregation_dirty
      GROUP BY patient_id ORDER BY since LIMIT ${patientLimit * 8}
    ),
    refresh AS (
      SELECT patient_id, marked_at AS since, row_number() OVER (ORDER BY marked_at) AS n
      FROM (SELECT patient_id, marked_at FROM indicators_dirty WHERE marked_at <= now()
            ORDER BY marked_at LIMIT ${patientLimit}) due
    ),
    candidates AS (
      SELECT patient_id, 1 AS rank, since FROM dirty
      UNION ALL
      SELECT patient_id, CASE WHEN n <= ${refreshQuota} THEN 0 ELSE 2 END, since FROM refresh
      WHERE patient_id NOT IN (SELECT patient_id FROM dirty)
    )
    SELECT p.id FROM patients p JOIN candidates c ON c.patient_id = p.id
    ORDER BY c.rank, c.since
    LIMIT ${patientLimit}
    FOR NO KEY UPDATE OF p SKIP LOCKED
  `.execute(trx);
  const patientIds = locked.map((r) => r.id);
  if (patientIds.length === 0) return { patientIds, marks: [], refreshIds: [] };
  const { rows: marks } = await sql<{
    patient_id: string;
    type: string;
    day: string;
    version: string;
    hours: string[] | null;
  }>`
    SELECT patient_id, type, day::text AS day, version,
           CASE WHEN hours_version = version AND hours IS NOT NULL
                THEN ARRAY(SELECT (extract(epoch FROM h) * 1000)::int8 FROM unnest(hours) AS h ORDER BY h) END AS hours
    FROM aggregation_dirty
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
    marks: marks.map((r) => ({
      patientId: r.patient_id,
      type: r.type,
      day: r.day,
      version: r.version,
      hours: r.hours === null ? null : r.hours.map(Number),
    })),
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
 * How far back a day's CGM partials can be recomputed by the hour: the hourly
 * partials are kept 17 days (README, "Retention"); a day older than this is
 * recomputed whole, so that its UTC days' partials are never merged from hours that
 * retention removed.
 */
const HOURLY_CGM_MAX_AGE_MS = 16 * 24 * 3_600_000;

/**
 * Recomputes what the marks say changed: the daily and hourly rollups of the marked
 * days and, for cgm_glucose, the partial aggregates of their UTC hours and days.
 * Days and hours are the patient's (IANA zone on the patient): a local day runs from
 * local midnight to the next local midnight, 23 or 25 hours at the DST changes, and
 * hours are truncated in that zone. indicators.md, "Daily rollups": count, min, max,
 * mean, sample SD, first and last reading time, per component for blood pressure,
 * and the sum (for steps).
 *
 * A mark that names its hours (DirtyMark.hours) is recomputed by the hour
 * (recomputeHours): the local hours and UTC hours the new readings fall in, from
 * their readings, then the day from its hourly rows. That is exact when the day's
 * other hours are already right, so the whole day is recomputed from its readings
 * (recomputeDays), as for a mark without hours, when they may not be: a day whose
 * UTC offset changes (23 or 25 hours long: local hours no longer tile it one way),
 * and for cgm_glucose a day without partials yet (written before partials existed:
 * rollups_daily.with_partials not true) or older than the hourly partials are kept.
 * `now` (epoch ms) is the job's clock, for that last condition.
 */
export async function recomputeRollups(trx: Db, marks: readonly DirtyMark[], now = Date.now()): Promise<void> {
  if (marks.length === 0) return;
  const candidates = marks.flatMap((m, i) => (m.hours && m.hours.length > 0 ? [i] : []));
  const byHour = new Set<number>();
  if (candidates.length > 0) {
    const { rows } = await sql<{ i: number }>`
      SELECT m.i FROM unnest(${candidates}::int4[], ${candidates.map((i) => marks[i].patientId)}::text[],
                             ${candidates.map((i) => marks[i].type)}::text[],
                             ${candidates.map((i) => marks[i].day)}::date[]) AS m(i, patient_id, type, day)
      JOIN patients p ON p.id = m.patient_id
      CROSS JOIN LATERAL (SELECT m.day::timestamp AT TIME ZONE p.time_zone AS start_at,
                                 (m.day + 1)::timestamp AT TIME ZONE p.time_zone AS end_at) b
      WHERE b.end_at - b.start_at = interval '24 hours'
        -- The same offset all day (the day's first and last instant): its local hours tile it.
        AND (b.start_at AT TIME ZONE p.time_zone) - (b.start_at AT TIME ZONE 'UTC')
          = ((b.end_at - interval '1 microsecond') AT TIME ZONE p.time_zone)
            - ((b.end_at - interval '1 microsecond') AT TIME ZONE 'UTC')
        AND (m.type <> 'cgm_glucose'
             OR (b.start_at >= ${new Date(now - HOURLY_CGM_MAX_AGE_MS)}::timestamptz
                 AND NOT EXISTS (SELECT 1 FROM rollups_daily d
                                 WHERE d.patient_id = m.patient_id AND d.type = m.type AND d.component = 'value'
                                   AND d.day = m.day AND d.with_partials IS NOT TRUE)))
    `.execute(trx);
    for (const r of rows) byHour.add(r.i);
  }
  await recomputeDays(
    trx,
    marks.filter((_, i) => !byHour.has(i)),
  );
  await recomputeHours(
    trx,
    marks.filter((_, i) => byHour.has(i)),
  );
}

/**
 * Recomputes the daily and hourly rollups of the marked days from the readings,
 * replacing what was there. The CGM partial aggregates of the hours of marked
 * cgm_glucose days are recomputed with them (recomputeCgmPartials), and the daily
 * rows written are flagged `with_partials`. Each marked day is one index range of
 * readings: the cost is that of the days marked, whatever the patient's history.
 */
async function recomputeDays(trx: Db, marks: readonly DirtyMark[]): Promise<void> {
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
  // The CGM hours: every UTC hour that meets a marked cgm_glucose day, whole (an hour may straddle
  // two local days in a zone whose offset is not whole hours); then the UTC days of those hours.
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    DELETE FROM cgm_hourly_partials c USING b
    WHERE b.type = 'cgm_glucose' AND c.patient_id = b.patient_id
      -- The same hours as below, as a range per marked day, so that the primary key bounds the scan.
      AND c.hour_start >= date_trunc('hour', b.start_at, 'UTC') AND c.hour_start < b.end_at
  `.execute(trx);
  await insertCgmHourlyPartials(
    trx,
    sql`b AS MATERIALIZED (${bounds}),
    hours AS (
      SELECT DISTINCT b.patient_id, h AS hour_start
      FROM b CROSS JOIN LATERAL generate_series(date_trunc('hour', b.start_at, 'UTC'),
                                                b.end_at - interval '1 millisecond', interval '1 hour') AS h
      WHERE b.type = 'cgm_glucose'
    )`,
  );
  await sql`
    WITH b AS MATERIALIZED (${bounds})
    DELETE FROM cgm_daily_partials c USING b
    WHERE b.type = 'cgm_glucose' AND c.patient_id = b.patient_id
      AND c.day_start >= date_trunc('day', b.start_at, 'UTC') AND c.day_start < b.end_at
  `.execute(trx);
  await insertCgmDailyPartials(
    trx,
    sql`b AS MATERIALIZED (${bounds}),
    days AS (
      SELECT DISTINCT b.patient_id, d AS day_start
      FROM b CROSS JOIN LATERAL generate_series(date_trunc('day', b.start_at, 'UTC'),
                                                b.end_at - interval '1 millisecond', interval '1 day') AS d
      WHERE b.type = 'cgm_glucose'
    )`,
  );
}

/**
 * Recomputes marked days by the hour (days whose offset does not change; see
 * recomputeRollups for when): each mark's pieces name a local hour (the piece's
 * hour truncated in the patient's zone) and, for cgm_glucose, a UTC hour (truncated
 * in UTC). Those local hours' rollups and those UTC hours' CGM partials are
 * recomputed from their readings (one index range each: 12 CGM readings, where the
 * day has 288), then each marked day's daily rollup is merged from the day's hourly
 * rollups, and each touched UTC day's CGM partial from its hourly partials. The
 * hours not named kept their rows: no reading of theirs changed since they were
 * written (every stored reading marks its piece).
 *
 * The merge of the daily rollup: count, min, max, sum, first and last reading time
 * of the hours; mean = Σ sum / Σ count (avg's own definition); sample SD from the
 * hours' squared deviations about the day's mean (Σ sdₕ² (nₕ − 1) + nₕ (meanₕ − mean)²,
 * over Σ count − 1; none for a single reading), equal to stddev_samp over the day's
 * readings up to rounding in the last bits.
 */
async function recomputeHours(trx: Db, marks: readonly DirtyMark[]): Promise<void> {
  if (marks.length === 0) return;
  const pieces = marks.flatMap((m) => (m.hours ?? []).map((at) => ({ m, at })));
  const pieceRows = sql`
    SELECT m.patient_id, m.type, m.day, p.time_zone, m.piece
    FROM unnest(${pieces.map((x) => x.m.patientId)}::text[], ${pieces.map((x) => x.m.type)}::text[],
                ${pieces.map((x) => x.m.day)}::date[],
                ${pieces.map((x) => new Date(x.at))}::timestamptz[]) AS m(patient_id, type, day, piece)
    JOIN patients p ON p.id = m.patient_id
  `;
  const localHours = sql`
    SELECT DISTINCT patient_id, type, date_trunc('hour', piece, time_zone) AS hour_start FROM pieces
  `;
  await sql`
    WITH pieces AS MATERIALIZED (${pieceRows}), lh AS (${localHours})
    DELETE FROM rollups_hourly h USING lh
    WHERE h.patient_id = lh.patient_id AND h.type = lh.type AND h.hour_start = lh.hour_start
      AND h.component IN ('value', 'systolic', 'diastolic')
  `.execute(trx);
  // On a day of one offset, the readings of [hour_start, + 1 hour) are those whose local hour is hour_start.
  await sql`
    WITH pieces AS MATERIALIZED (${pieceRows}), lh AS (${localHours})
    INSERT INTO rollups_hourly (patient_id, type, component, hour_start, count, min, max, mean, sd, sum, first_at, last_at)
    SELECT lh.patient_id, lh.type, c.component, lh.hour_start, count(*), min(c.v), max(c.v), avg(c.v),
           stddev_samp(c.v), sum(c.v), min(r.measured_at), max(r.measured_at)
    FROM lh
    CROSS JOIN LATERAL (
      SELECT measured_at, value, systolic, diastolic FROM readings
      WHERE patient_id = lh.patient_id AND type = lh.type
        AND measured_at >= lh.hour_start AND measured_at < lh.hour_start + interval '1 hour'
      OFFSET 0
    ) r
    CROSS JOIN LATERAL (VALUES ('value', r.value), ('systolic', r.systolic), ('diastolic', r.diastolic)) AS c(component, v)
    WHERE c.v IS NOT NULL
    GROUP BY lh.patient_id, lh.type, c.component, lh.hour_start
  `.execute(trx);
  const days = sql`
    SELECT DISTINCT pieces.patient_id, pieces.type, pieces.day,
           (pieces.day::timestamp AT TIME ZONE pieces.time_zone) AS start_at,
           ((pieces.day + 1)::timestamp AT TIME ZONE pieces.time_zone) AS end_at
    FROM pieces
  `;
  await sql`
    WITH pieces AS MATERIALIZED (${pieceRows}), d AS (${days})
    DELETE FROM rollups_daily r USING d
    WHERE r.patient_id = d.patient_id AND r.type = d.type AND r.day = d.day
      AND r.component IN ('value', 'systolic', 'diastolic')
  `.execute(trx);
  await sql`
    WITH pieces AS MATERIALIZED (${pieceRows}), d AS (${days}),
    h AS (
      SELECT d.patient_id, d.type, d.day, h.component, h.count, h.min, h.max, h.mean, h.sd, h.sum, h.first_at,
             h.last_at,
             sum(h.sum) OVER w / sum(h.count) OVER w AS day_mean
      FROM d
      CROSS JOIN LATERAL (
        SELECT * FROM rollups_hourly
        WHERE patient_id = d.patient_id AND type = d.type AND component IN ('value', 'systolic', 'diastolic')
          AND hour_start >= d.start_at AND hour_start < d.end_at
        OFFSET 0
      ) h
      WINDOW w AS (PARTITION BY d.patient_id, d.type, d.day, h.component)
    )
    INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at,
                               with_partials)
    SELECT patient_id, type, component, day, sum(count), min(min), max(max), sum(sum) / sum(count),
           CASE WHEN sum(count) > 1
                THEN sqrt(greatest(sum(coalesce(sd * sd * (count - 1), 0) + count * (mean - day_mean) * (mean - day_mean))
                                   / (sum(count) - 1), 0)) END,
           sum(sum), min(first_at), max(last_at), true
    FROM h
    GROUP BY patient_id, type, component, day
  `.execute(trx);
  const utcHours = sql`
    SELECT DISTINCT patient_id, date_trunc('hour', piece, 'UTC') AS hour_start FROM pieces WHERE type = 'cgm_glucose'
  `;
  await sql`
    WITH pieces AS MATERIALIZED (${pieceRows}), hours AS (${utcHours})
    DELETE FROM cgm_hourly_partials c USING hours
    WHERE c.patient_id = hours.patient_id AND c.hour_start = hours.hour_start
  `.execute(trx);
  await insertCgmHourlyPartials(trx, sql`pieces AS MATERIALIZED (${pieceRows}), hours AS (${utcHours})`);
  const utcDays = sql`
    SELECT DISTINCT patient_id, date_trunc('day', piece, 'UTC') AS day_start FROM pieces WHERE type = 'cgm_glucose'
  `;
  await sql`
    WITH pieces AS MATERIALIZED (${pieceRows}), days AS (${utcDays})
    DELETE FROM cgm_daily_partials c USING days
    WHERE c.patient_id = days.patient_id AND c.day_start = days.day_start
  `.execute(trx);
  await insertCgmDailyPartials(trx, sql`pieces AS MATERIALIZED (${pieceRows}), days AS (${utcDays})`);
}

/**
 * The CGM partial aggregates (src/domain/indicators/cgm-partials.ts) of the UTC hours
 * of the CTE `hours` (patient_id, hour_start), defined in `ctes`, computed from each
 * hour's readings, whole: per device, count, sum, sum of squared deviations
 * (var_pop × n), min, max, the counts in Battelino's ranges, first and last reading
 * time and the positive gaps between consecutive readings (in ms as the job reads
 * readings), as a histogram. The caller has deleted those hours' rows.
 */
async function insertCgmHourlyPartials(trx: Db, ctes: ReturnType<typeof sql>): Promise<void> {
  await sql`
    WITH ${ctes},
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
}

/**
 * The CGM partials of the UTC days of the CTE `days` (patient_id, day_start), defined
 * in `ctes`, merged from their hourly rows (already up to date). The caller has
 * deleted those days' rows.
 */
async function insertCgmDailyPartials(trx: Db, ctes: ReturnType<typeof sql>): Promise<void> {
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
    WITH ${ctes}, ${mergedPartialsCtes(source)}
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
