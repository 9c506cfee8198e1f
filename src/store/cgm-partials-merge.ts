import { type RawBuilder, sql } from 'kysely';

/**
 * SQL that merges CGM partial rows (hours, or days of hours) into one partial per
 * (patient_id, grp, device_id), as cgm-partials.ts defines partials: counts, sums,
 * min, max and range counts added; squared deviations combined about the merged mean
 * (Σ m2ᵢ + nᵢ (meanᵢ − mean)², Chan et al.); gap histograms added, with the gap from
 * each row's last reading to the next row's first (rows of a device cover disjoint
 * spans of time, ordered by hour_start). `source` is a query with the columns of
 * cgm_hourly_partials (hour_start being the start of each row's span) plus `grp`.
 * The result is the CTE `merged` (to be followed by the caller's final statement).
 */
export function mergedPartialsCtes(source: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    src AS MATERIALIZED (${source}),
    devices AS (
      SELECT patient_id, grp, device_id, min(hour_start) AS hour_start, sum(count)::int4 AS count, sum(sum) AS sum,
             min(min) AS min, max(max) AS max, sum(below_54)::int4 AS below_54, sum(below_70)::int4 AS below_70,
             sum(in_70_180)::int4 AS in_70_180, sum(above_180)::int4 AS above_180, sum(above_250)::int4 AS above_250,
             min(first_ms) AS first_ms, max(last_ms) AS last_ms
      FROM src WHERE count > 0 GROUP BY patient_id, grp, device_id
    ),
    m2 AS (
      SELECT s.patient_id, s.grp, s.device_id,
             sum(s.m2 + s.count * (s.sum / s.count - d.sum / d.count) * (s.sum / s.count - d.sum / d.count)) AS m2
      FROM src s JOIN devices d ON d.patient_id = s.patient_id AND d.grp = s.grp AND d.device_id = s.device_id
      WHERE s.count > 0
      GROUP BY s.patient_id, s.grp, s.device_id
    ),
    gaps AS (
      SELECT patient_id, grp, device_id, gap, sum(n)::int4 AS n
      FROM (SELECT patient_id, grp, device_id, unnest(gap_values) AS gap, unnest(gap_counts) AS n FROM src
            UNION ALL
            SELECT patient_id, grp, device_id,
                   (first_ms - lag(last_ms) OVER (PARTITION BY patient_id, grp, device_id ORDER BY hour_start))::int4, 1
            FROM src) g
      WHERE gap > 0
      GROUP BY patient_id, grp, device_id, gap
    ),
    histograms AS (
      SELECT patient_id, grp, device_id, array_agg(gap ORDER BY gap) AS gap_values, array_agg(n ORDER BY gap) AS gap_counts
      FROM gaps GROUP BY patient_id, grp, device_id
    ),
    merged AS (
      SELECT d.*, m.m2, coalesce(h.gap_values, '{}') AS gap_values, coalesce(h.gap_counts, '{}') AS gap_counts
      FROM devices d
      JOIN m2 m ON m.patient_id = d.patient_id AND m.grp = d.grp AND m.device_id = d.device_id
      LEFT JOIN histograms h ON h.patient_id = d.patient_id AND h.grp = d.grp AND h.device_id = d.device_id
    )`;
}
