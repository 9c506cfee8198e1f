import { sql } from 'kysely';
import {
  type AdherenceDay,
  addDays,
  type CgmPartial,
  cgmWindowHours,
  HOUR_MS,
  localDate,
  startOfLocalDay,
  WINDOW_14D_MS,
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
 * The stored CGM partials of the whole hours inside the 14-day window ending at `to`
 * (cgmWindowHours), merged into one partial per device. The raw readings of the two
 * edge hours come with the other readings (cgmEdgeRanges, loadReadings).
 */
export async function loadCgmPartials(
  trx: Db,
  patientId: string,
  to: number,
  /** Hour-aligned ranges [from, to) (ms) left out: read from readings instead (days not healed yet). */
  excluded: readonly { from: number; to: number }[] = [],
): Promise<CgmPartial[]> {
  const { first, last } = cgmWindowHours(to);
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
             first_ms, last_ms, gap_values, gap_counts,
             first_ms - lag(last_ms) OVER (PARTITION BY device_id ORDER BY hour_start) AS cross_gap
      FROM cgm_hourly_partials
      WHERE patient_id = ${patientId} AND hour_start >= ${new Date(first)} AND hour_start <= ${new Date(last)}
        AND NOT EXISTS (
          SELECT 1 FROM unnest(${excluded.map((e) => new Date(e.from))}::timestamptz[],
                               ${excluded.map((e) => new Date(e.to))}::timestamptz[]) AS x(f, t)
          WHERE hour_start >= x.f AND hour_start < x.t)
    ),
    devices AS (SELECT device_id, sum(count) AS n, sum(sum) AS s FROM stored GROUP BY device_id),
    gaps AS (
      SELECT device_id, gap, sum(n)::int AS c
      FROM (SELECT s.device_id, h.gap::int8 AS gap, h.n FROM stored s
            CROSS JOIN LATERAL unnest(s.gap_values, s.gap_counts) AS h(gap, n)
            UNION ALL SELECT device_id, cross_gap, 1 FROM stored WHERE cross_gap > 0) g
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
  return rows.map((r) => ({
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
  }));
}

/** The two edge hours of the CGM window ending at `to`, as reading ranges [since, until] (ms). */
export function cgmEdgeRanges(to: number): { type: string; since: number; until: number }[] {
  const { from, first, last } = cgmWindowHours(to);
  return [
    { type: 'cgm_glucose', since: from + 1, until: first - 1 },
    { type: 'cgm_glucose', since: last + HOUR_MS, until: to },
  ];
}

/**
 * Recomputes the rollups and partials of some local days of the CGM window whose
 * daily rollup predates the partials (`with_partials` NULL: a database upgraded from
 * a version without them); returns how many days.
 */
export async function healCgmDays(trx: Db, patientId: string, days: readonly string[]): Promise<number> {
  if (days.length === 0) return 0;
  await recomputeRollups(
    trx,
    days.map((day) => ({ patientId, type: 'cgm_glucose', day, version: '0' })),
  );
  return days.length;
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
 * Readings of each given type measured in its ranges [since, until] (ms; overlapping
 * ranges of a type are merged first, so that no reading comes twice), for each
 * `before` entry the type's latest reading measured strictly before that time, and
 * for each `after` entry its first reading measured at or after that time: one
 * statement, one index range or lookup each on (patient_id, type, measured_at),
 * nothing of other types. Ordered by time.
 */
export async function loadReadings(
  trx: Db,
  patientId: string,
  ranges: readonly { type: string; since: number; until: number }[],
  before: readonly { type: string; at: number }[],
  after: readonly { type: string; at: number }[] = [],
): Promise<PatientReading[]> {
  const merged = mergeRanges(ranges);
  if (merged.length === 0 && before.length === 0 && after.length === 0) return [];
  const { rows } = await sql<ReadingRow>`
    SELECT * FROM (
      SELECT r.reading_id, r.device_id, r.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms,
             r.value, r.systolic, r.diastolic
      FROM unnest(${merged.map((r) => r.type)}::text[], ${merged.map((r) => new Date(r.since))}::timestamptz[],
                  ${merged.map((r) => new Date(r.until))}::timestamptz[]) AS w(type, since, until)
      CROSS JOIN LATERAL (
        SELECT * FROM readings r
        WHERE r.patient_id = ${patientId} AND r.type = w.type AND r.measured_at >= w.since AND r.measured_at <= w.until
        OFFSET 0 -- kept a subquery, one index range per type: pulled up into a join, it reads every type
      ) r
      UNION
      SELECT r.reading_id, r.device_id, r.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms,
             r.value, r.systolic, r.diastolic
      FROM unnest(${before.map((b) => b.type)}::text[], ${before.map((b) => new Date(b.at))}::timestamptz[])
        AS t(type, before)
      CROSS JOIN LATERAL (
        SELECT * FROM readings
        WHERE patient_id = ${patientId} AND type = t.type AND measured_at < t.before
        ORDER BY measured_at DESC, reading_id DESC LIMIT 1
      ) r
      UNION
      SELECT r.reading_id, r.device_id, r.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms,
             r.value, r.systolic, r.diastolic
      FROM unnest(${after.map((b) => b.type)}::text[], ${after.map((b) => new Date(b.at))}::timestamptz[])
        AS t(type, after)
      CROSS JOIN LATERAL (
        SELECT * FROM readings
        WHERE patient_id = ${patientId} AND type = t.type AND measured_at >= t.after
        ORDER BY measured_at, reading_id LIMIT 1
      ) r
    ) all_readings
    ORDER BY at_ms, reading_id`.execute(trx);
  return rows.map(toPatientReading);
}

/** The union of each type's ranges, as disjoint ranges. */
function mergeRanges(
  ranges: readonly { type: string; since: number; until: number }[],
): { type: string; since: number; until: number }[] {
  const sorted = [...ranges].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.since - b.since));
  const out: { type: string; since: number; until: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.type === r.type && r.since <= last.until + 1) last.until = Math.max(last.until, r.until);
    else if (r.since <= r.until) out.push({ ...r });
  }
  return out;
}

interface ReadingRow {
  reading_id: string;
  device_id: string;
  type: string;
  at_ms: string;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
}

/**
 * For each given type, the time of its latest reading measured at or before `until`:
 * one backward index lookup each.
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

function toPatientReading(r: ReadingRow): PatientReading {
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
 * ahead of `to`), the types with a reading in (`to` − 31 d, `to`], the types
 * adherence reports on, and the local days of the CGM window whose rollup predates
 * the partials (see healCgmDays).
 */
export async function loadAdherenceDays(
  trx: Db,
  patientId: string,
  timeZone: string,
  types: readonly string[],
  to: number,
): Promise<{ days: AdherenceDay[]; types: string[]; unflaggedCgmDays: string[] }> {
  const today = localDate(to, timeZone);
  const since = to - 31 * DAY_MS;
  const firstDay = localDate(since, timeZone);
  // One component per type (a blood pressure reading has both), and the key's day range for each:
  // the primary key (patient, type, component, day) bounds every scan to the 31 days.
  const { rows } = await sql<{
    type: string;
    day: string;
    n: number;
    first_ms: string;
    last_ms: string;
    with_partials: boolean | null;
  }>`
    SELECT t.type, d.day::text AS day, d.count AS n, d.with_partials,
           (extract(epoch FROM d.first_at) * 1000)::int8 AS first_ms,
           (extract(epoch FROM d.last_at) * 1000)::int8 AS last_ms
    FROM unnest(${[...types]}::text[], ${types.map((t) => (t === 'blood_pressure' ? 'systolic' : 'value'))}::text[])
      AS t(type, component)
    JOIN rollups_daily d ON d.patient_id = ${patientId} AND d.type = t.type AND d.component = t.component
                        AND d.day >= ${firstDay}::date AND d.day <= ${today}::date`.execute(trx);
  const days: AdherenceDay[] = [];
  const present = new Set<string>();
  const cgmFirstDay = localDate(to - WINDOW_14D_MS, timeZone);
  const unflaggedCgmDays: string[] = [];
  for (const r of rows) {
    if (r.type === 'cgm_glucose' && r.with_partials === null && r.day >= cgmFirstDay) unflaggedCgmDays.push(r.day);
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
  return { days, types: [...present].sort(), unflaggedCgmDays };
}

/**
 * The no_data rule's inputs (indicators.md, "Alerts"): the expected types (a type
 * that a device assigned to the patient at `now` sent in (`now` − 30 d, `now`]) and
 * each one's latest reading time at or before `now`, among the given candidate types
 * (those with a reading in the 30 days). Two backward index lookups per type, each
 * stopping at its first row.
 */
export async function loadNoDataInputs(
  trx: Db,
  patientId: string,
  types: readonly string[],
  now: number,
): Promise<{ expectedTypes: string[]; lastReadingAt: Record<string, number> }> {
  if (types.length === 0) return { expectedTypes: [], lastReadingAt: {} };
  const since = new Date(now - 30 * DAY_MS);
  const at = new Date(now);
  const { rows } = await sql<{ type: string; expected: boolean; last_ms: string | null }>`
    WITH assigned AS (
      SELECT device_id FROM device_assignments
      WHERE patient_id = ${patientId} AND valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})
    )
    SELECT t.type,
           EXISTS (SELECT 1 FROM readings r
                   WHERE r.patient_id = ${patientId} AND r.type = t.type AND r.measured_at > ${since}
                     AND r.measured_at <= ${at} AND r.device_id IN (SELECT device_id FROM assigned)
                   ORDER BY r.measured_at DESC LIMIT 1) AS expected,
           (SELECT (extract(epoch FROM r.measured_at) * 1000)::int8 FROM readings r
            WHERE r.patient_id = ${patientId} AND r.type = t.type AND r.measured_at > ${since}
              AND r.measured_at <= ${at}
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
