import { sql } from 'kysely';
import {
  type AdherenceDay,
  addDays,
  type CgmPartial,
  type CgmReading,
  cgmWindowHours,
  HOUR_MS,
  localDate,
  startOfLocalDay,
} from '../domain/indicators/index.ts';
import type { PatientReading } from './aggregation.repository.ts';
import { recomputeRollups } from './aggregation.repository.ts';
import type { Db } from './database.ts';

/**
 * What the aggregation job reads to compute one patient's indicators and alerts
 * (architecture.md, decision 6): partial aggregates and rollups for the long windows,
 * raw readings only for short windows and for the edges, each through an index range.
 * None of it grows with the patient's history.
 */

const DAY_MS = 86_400_000;

/**
 * The stored CGM partials of the whole hours inside the 14-day window ending at `to`,
 * merged into one partial per device, and the raw CGM readings of its two edge hours. A local day of the window whose
 * daily rollup predates the partials (a database upgraded from a version without them)
 * has its rollups and partials recomputed from its readings first, once.
 */
export async function loadCgmWindow(
  trx: Db,
  patientId: string,
  timeZone: string,
  to: number,
): Promise<{ partials: CgmPartial[]; edges: CgmReading[]; healedDays: number }> {
  const { from, first, last } = cgmWindowHours(to);
  const { rows: unflagged } = await sql<{ day: string }>`
    SELECT day::text AS day FROM rollups_daily
    WHERE patient_id = ${patientId} AND type = 'cgm_glucose' AND component = 'value'
      AND day >= ${localDate(from, timeZone)}::date AND day <= ${localDate(to, timeZone)}::date
      AND with_partials IS NULL`.execute(trx);
  if (unflagged.length > 0) {
    await recomputeRollups(
      trx,
      unflagged.map((r) => ({ patientId, type: 'cgm_glucose', day: r.day, version: '0' })),
    );
  }
  // The whole hours merged per device here, one row each: counts and sums added, squared deviations
  // combined about the device's mean (Σ m2ᵢ + nᵢ (meanᵢ − mean)², Chan et al.), and the gaps — inside
  // each hour, and from one non-empty hour's last reading to the next one's first — as a histogram.
  const { rows } = await sql<{
    device_id: string;
    first_hour_ms: string;
    count: number;
    sum: number;
    m2: number;
    below_54: number;
    below_70: number;
    in_70_180: number;
    above_180: number;
    above_250: number;
    first_ms: string;
    last_ms: string;
    gap_values: number[] | null;
    gap_counts: number[] | null;
  }>`
    WITH stored AS (
      SELECT device_id, hour_start, count, sum, m2, below_54, below_70, in_70_180, above_180, above_250,
             first_ms, last_ms, gaps,
             first_ms - lag(last_ms) OVER (PARTITION BY device_id ORDER BY hour_start) AS cross_gap
      FROM cgm_hourly_partials
      WHERE patient_id = ${patientId} AND hour_start >= ${new Date(first)} AND hour_start <= ${new Date(last)}
    ),
    devices AS (SELECT device_id, sum(count) AS n, sum(sum) AS s FROM stored GROUP BY device_id),
    gaps AS (
      SELECT device_id, gap, count(*)::int AS c
      FROM (SELECT device_id, unnest(gaps)::int8 AS gap FROM stored
            UNION ALL SELECT device_id, cross_gap FROM stored WHERE cross_gap > 0) g
      GROUP BY device_id, gap
    )
    SELECT s.device_id, (extract(epoch FROM min(s.hour_start)) * 1000)::int8 AS first_hour_ms,
           d.n::int AS count, d.s AS sum,
           sum(s.m2 + s.count * (s.sum / s.count - d.s / d.n) * (s.sum / s.count - d.s / d.n)) AS m2,
           sum(s.below_54)::int AS below_54, sum(s.below_70)::int AS below_70, sum(s.in_70_180)::int AS in_70_180,
           sum(s.above_180)::int AS above_180, sum(s.above_250)::int AS above_250,
           min(s.first_ms) AS first_ms, max(s.last_ms) AS last_ms,
           (SELECT array_agg(g.gap ORDER BY g.gap) FROM gaps g WHERE g.device_id = s.device_id) AS gap_values,
           (SELECT array_agg(g.c ORDER BY g.gap) FROM gaps g WHERE g.device_id = s.device_id) AS gap_counts
    FROM stored s JOIN devices d ON d.device_id = s.device_id
    WHERE s.count > 0
    GROUP BY s.device_id, d.n, d.s`.execute(trx);
  const { rows: edges } = await sql<{ device_id: string; at_ms: string; value: number }>`
    (SELECT device_id, (extract(epoch FROM measured_at) * 1000)::int8 AS at_ms, value FROM readings
     WHERE patient_id = ${patientId} AND type = 'cgm_glucose' AND value IS NOT NULL
       AND measured_at > ${new Date(from)} AND measured_at < ${new Date(first)})
    UNION ALL
    (SELECT device_id, (extract(epoch FROM measured_at) * 1000)::int8 AS at_ms, value FROM readings
     WHERE patient_id = ${patientId} AND type = 'cgm_glucose' AND value IS NOT NULL
       AND measured_at >= ${new Date(last + HOUR_MS)} AND measured_at <= ${new Date(to)})`.execute(trx);
  return {
    partials: rows.map((r) => ({
      deviceId: r.device_id,
      hourStart: Number(r.first_hour_ms),
      n: r.count,
      sum: r.sum,
      m2: r.m2,
      below54: r.below_54,
      below70: r.below_70,
      in70to180: r.in_70_180,
      above180: r.above_180,
      above250: r.above_250,
      firstAt: Number(r.first_ms),
      lastAt: Number(r.last_ms),
      gaps: expandHistogram(r.gap_values ?? [], r.gap_counts ?? []),
    })),
    edges: edges.map((r) => ({ deviceId: r.device_id, at: Number(r.at_ms), value: r.value })),
    healedDays: unflagged.length,
  };
}

/** Each value repeated as many times as its count. */
function expandHistogram(values: readonly (number | string)[], counts: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    for (let k = 0; k < counts[i]; k++) out.push(v);
  }
  return out;
}

/**
 * Readings of each given type measured in [since, until], through the index
 * (patient_id, type, measured_at): one range per type, nothing of other types.
 */
export async function loadReadingRanges(
  trx: Db,
  patientId: string,
  ranges: readonly { type: string; since: number; until: number }[],
): Promise<PatientReading[]> {
  if (ranges.length === 0) return [];
  const { rows } = await sql<{
    reading_id: string;
    device_id: string;
    type: string;
    at_ms: string;
    value: number | null;
    systolic: number | null;
    diastolic: number | null;
  }>`
    SELECT r.reading_id, r.device_id, r.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms,
           r.value, r.systolic, r.diastolic
    FROM unnest(${ranges.map((r) => r.type)}::text[], ${ranges.map((r) => new Date(r.since))}::timestamptz[],
                ${ranges.map((r) => new Date(r.until))}::timestamptz[]) AS w(type, since, until)
    CROSS JOIN LATERAL (
      SELECT * FROM readings r
      WHERE r.patient_id = ${patientId} AND r.type = w.type AND r.measured_at >= w.since AND r.measured_at <= w.until
      OFFSET 0 -- kept a subquery, one index range per type: pulled up into a join, it reads every type
    ) r
    ORDER BY r.measured_at, r.reading_id`.execute(trx);
  return rows.map(toPatientReading);
}

/**
 * For each given type, its latest reading measured at or before `until`, and (for
 * the types in `before`) its latest reading strictly before the given time: index
 * lookups, one row each at most.
 */
export async function loadLatestReadings(
  trx: Db,
  patientId: string,
  types: readonly string[],
  until: number,
): Promise<Map<string, number>> {
  const { rows } = await sql<{ type: string; at_ms: string }>`
    SELECT t.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms
    FROM unnest(${[...types]}::text[]) AS t(type)
    CROSS JOIN LATERAL (
      SELECT measured_at FROM readings
      WHERE patient_id = ${patientId} AND type = t.type AND measured_at <= ${new Date(until)}
      ORDER BY measured_at DESC LIMIT 1
    ) r`.execute(trx);
  return new Map(rows.map((r) => [r.type, Number(r.at_ms)]));
}

/** For each given type, its latest reading measured strictly before the given time (index lookups). */
export async function loadReadingsBefore(
  trx: Db,
  patientId: string,
  before: readonly { type: string; at: number }[],
): Promise<PatientReading[]> {
  if (before.length === 0) return [];
  const { rows } = await sql<{
    reading_id: string;
    device_id: string;
    type: string;
    at_ms: string;
    value: number | null;
    systolic: number | null;
    diastolic: number | null;
  }>`
    SELECT r.reading_id, r.device_id, r.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms,
           r.value, r.systolic, r.diastolic
    FROM unnest(${before.map((b) => b.type)}::text[], ${before.map((b) => new Date(b.at))}::timestamptz[])
      AS t(type, before)
    CROSS JOIN LATERAL (
      SELECT * FROM readings
      WHERE patient_id = ${patientId} AND type = t.type AND measured_at < t.before
      ORDER BY measured_at DESC, reading_id DESC LIMIT 1
    ) r`.execute(trx);
  return rows.map(toPatientReading);
}

function toPatientReading(r: {
  reading_id: string;
  device_id: string;
  type: string;
  at_ms: string;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
}): PatientReading {
  return {
    id: r.reading_id,
    deviceId: r.device_id,
    type: r.type,
    at: Number(r.at_ms),
    value: r.value,
    systolic: r.systolic,
    diastolic: r.diastolic,
  };
}

/**
 * Adherence inputs from the daily rollups (one row per type and local day, not the
 * readings) of the given types (every type of the catalogue): the readings per (type, day) of the 30 local days ending with today's,
 * today's counted up to `to` (from the readings only when some of today's are
 * ahead of `to`), and the types with a reading in (`to` − 31 d, `to`], the types
 * adherence reports on.
 */
export async function loadAdherenceDays(
  trx: Db,
  patientId: string,
  timeZone: string,
  types: readonly string[],
  to: number,
): Promise<{ days: AdherenceDay[]; types: string[] }> {
  const today = localDate(to, timeZone);
  const since = to - 31 * DAY_MS;
  const firstDay = localDate(since, timeZone);
  // One component per type (a blood pressure reading has both), and the key's day range for each:
  // the primary key (patient, type, component, day) bounds every scan to the 31 days.
  const { rows } = await sql<{ type: string; day: string; n: number; first_ms: string; last_ms: string }>`
    SELECT t.type, d.day::text AS day, d.count AS n,
           (extract(epoch FROM d.first_at) * 1000)::int8 AS first_ms,
           (extract(epoch FROM d.last_at) * 1000)::int8 AS last_ms
    FROM unnest(${[...types]}::text[], ${types.map((t) => (t === 'blood_pressure' ? 'systolic' : 'value'))}::text[])
      AS t(type, component)
    JOIN rollups_daily d ON d.patient_id = ${patientId} AND d.type = t.type AND d.component = t.component
                        AND d.day >= ${firstDay}::date AND d.day <= ${today}::date`.execute(trx);
  const days: AdherenceDay[] = [];
  const present = new Set<string>();
  for (const r of rows) {
    const firstAt = Number(r.first_ms);
    const lastAt = Number(r.last_ms);
    if (r.day === today && firstAt > to) continue; // only readings ahead of `to` today
    if (r.day === firstDay && lastAt <= since) continue; // only readings before the 31 days
    present.add(r.type);
    let n = r.n;
    if (r.day === today && lastAt > to) {
      const { rows: counted } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM readings
        WHERE patient_id = ${patientId} AND type = ${r.type}
          AND measured_at >= ${new Date(startOfLocalDay(today, timeZone))} AND measured_at <= ${new Date(to)}`.execute(
        trx,
      );
      n = counted[0]?.n ?? 0;
    }
    if (r.day >= addDays(today, -29)) days.push({ type: r.type, day: r.day, n });
  }
  return { days, types: [...present].sort() };
}

/**
 * The no_data rule's inputs (indicators.md, "Alerts"): the expected types (a type
 * that a device now assigned to the patient sent in (`now` − 30 d, `now`]) and each
 * one's latest reading time at or before `now`. Two backward index lookups per
 * candidate type (each stops at its first row), whatever the history.
 */
export async function loadNoDataInputs(
  trx: Db,
  patientId: string,
  types: readonly string[],
  assignedDeviceIds: readonly string[],
  now: number,
): Promise<{ expectedTypes: string[]; lastReadingAt: Record<string, number> }> {
  if (assignedDeviceIds.length === 0) return { expectedTypes: [], lastReadingAt: {} };
  const since = new Date(now - 30 * DAY_MS);
  const at = new Date(now);
  const { rows } = await sql<{ type: string; expected: boolean; last_ms: string | null }>`
    SELECT t.type,
           EXISTS (SELECT 1 FROM readings r
                   WHERE r.patient_id = ${patientId} AND r.type = t.type AND r.measured_at > ${since}
                     AND r.measured_at <= ${at} AND r.device_id = ANY(${[...assignedDeviceIds]}::text[])
                   ORDER BY r.measured_at DESC LIMIT 1) AS expected,
           (SELECT (extract(epoch FROM r.measured_at) * 1000)::int8 FROM readings r
            WHERE r.patient_id = ${patientId} AND r.type = t.type AND r.measured_at <= ${at}
            ORDER BY r.measured_at DESC LIMIT 1) AS last_ms
    FROM unnest(${[...types]}::text[]) AS t(type)`.execute(trx);
  const expectedTypes: string[] = [];
  const lastReadingAt: Record<string, number> = {};
  for (const r of rows) {
    if (!r.expected) continue;
    expectedTypes.push(r.type);
    if (r.last_ms !== null) lastReadingAt[r.type] = Number(r.last_ms);
  }
  return { expectedTypes: expectedTypes.sort(), lastReadingAt };
}
