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
import { mergedPartialsCtes } from './cgm-partials-merge.ts';
import type { Database, Db } from './database.ts';

/**
 * What the aggregation job reads to compute its patients' indicators and alerts
 * (architecture.md, decision 6): partial aggregates and rollups for the long windows,
 * raw readings only for short windows and for the edges, each through an index range.
 * None of it grows with a patient's history. Each function serves all the patients of
 * a run in one statement, so that a run costs a few statements, not a few per patient.
 */

const DAY_MS = 86_400_000;

/**
 * The stored CGM partials of the whole hours inside the 14-day window ending at `to`
 * (cgmWindowHours; whole UTC days from daily rows, the other hours from hourly rows),
 * merged into one partial per patient and device, for several
 * patients in one statement. `excluded`: hour-aligned ranges [from, to) (ms) of a
 * patient left out, read from readings instead (days not healed yet). The raw
 * readings of the two edge hours come with the other readings (cgmEdgeRanges).
 */
export async function loadCgmPartials(
  trx: Db,
  patients: readonly { patientId: string; excluded: readonly { from: number; to: number }[] }[],
  to: number,
): Promise<Map<string, CgmPartial[]>> {
  const result = new Map<string, CgmPartial[]>(patients.map((p) => [p.patientId, []]));
  if (patients.length === 0) return result;
  const { first, last } = cgmWindowHours(to);
  // Whole UTC days of the window come from daily rows, the rest from hourly rows; a day that meets
  // an excluded range is read by the hour (its hourly rows, minus the excluded ones).
  const dayFrom = Math.ceil(first / DAY_MS) * DAY_MS;
  const dayTo = Math.floor((last + HOUR_MS) / DAY_MS) * DAY_MS;
  const hourly: { patientId: string; from: number; to: number }[] = [];
  const daily: { patientId: string; from: number; to: number }[] = [];
  const excluded: { patientId: string; from: number; to: number }[] = [];
  for (const p of patients) {
    let hourFrom = first;
    for (let day = dayFrom; day < dayTo; day += DAY_MS) {
      if (p.excluded.some((e) => e.from < day + DAY_MS && e.to > day)) continue;
      if (hourFrom < day) hourly.push({ patientId: p.patientId, from: hourFrom, to: day });
      daily.push({ patientId: p.patientId, from: day, to: day + DAY_MS });
      hourFrom = day + DAY_MS;
    }
    hourly.push({ patientId: p.patientId, from: hourFrom, to: last + HOUR_MS });
    for (const e of p.excluded) excluded.push({ patientId: p.patientId, ...e });
  }
  const ranges = (list: typeof hourly) => sql`
    unnest(${list.map((r) => r.patientId)}::text[], ${list.map((r) => new Date(r.from))}::timestamptz[],
           ${list.map((r) => new Date(r.to))}::timestamptz[]) AS w(patient_id, f, t)`;
  const source = sql`
    SELECT c.*, 0 AS grp FROM ${ranges(hourly)}
    CROSS JOIN LATERAL (
      SELECT * FROM cgm_hourly_partials
      WHERE patient_id = w.patient_id AND hour_start >= w.f AND hour_start < w.t
      OFFSET 0 -- one primary-key range each
    ) c
    WHERE NOT EXISTS (
      SELECT 1 FROM unnest(${excluded.map((e) => e.patientId)}::text[],
                           ${excluded.map((e) => new Date(e.from))}::timestamptz[],
                           ${excluded.map((e) => new Date(e.to))}::timestamptz[]) AS x(patient_id, f, t)
      WHERE x.patient_id = c.patient_id AND c.hour_start >= x.f AND c.hour_start < x.t)
    UNION ALL
    SELECT d.patient_id, d.day_start, d.device_id, d.count, d.sum, d.m2, d.min, d.max, d.below_54, d.below_70,
           d.in_70_180, d.above_180, d.above_250, d.first_ms, d.last_ms, d.gap_values, d.gap_counts, 0
    FROM ${ranges(daily)}
    CROSS JOIN LATERAL (
      SELECT * FROM cgm_daily_partials
      WHERE patient_id = w.patient_id AND day_start >= w.f AND day_start < w.t
      OFFSET 0
    ) d`;
  const { rows } = await sql<Omit<Database['cgm_hourly_partials'], 'hour_start' | 'min' | 'max'> & { hour_ms: string }>`
    WITH ${mergedPartialsCtes(source)}
    SELECT patient_id, device_id, (extract(epoch FROM hour_start) * 1000)::int8 AS hour_ms, count, sum, m2,
           below_54, below_70, in_70_180, above_180, above_250, first_ms, last_ms, gap_values, gap_counts
    FROM merged`.execute(trx);
  for (const r of rows) {
    result.get(r.patient_id)?.push({
      deviceId: r.device_id,
      hourStart: Number(r.hour_ms),
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
      gaps: expandHistogram(r.gap_values, r.gap_counts),
    });
  }
  return result;
}

/** The two edge hours of the CGM window ending at `to`, as reading ranges [since, until] (ms). */
export function cgmEdgeRanges(patientId: string, to: number): ReadingRange[] {
  const { from, first, last } = cgmWindowHours(to);
  return [
    { patientId, type: 'cgm_glucose', since: from + 1, until: first - 1 },
    { patientId, type: 'cgm_glucose', since: last + HOUR_MS, until: to },
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

/** A range of readings of one type of one patient, [since, until] in ms. */
export interface ReadingRange {
  patientId: string;
  type: string;
  since: number;
  until: number;
}

/** One reading looked up next to a time: a type's latest before `at`, or its first at or after `at`. */
export interface ReadingLookup {
  patientId: string;
  type: string;
  at: number;
}

/**
 * Readings of several patients in one statement, by patient, in time order: those
 * measured in the given ranges (overlapping ranges of a patient's type are merged
 * first, so that no reading comes twice), for each `before` lookup the type's latest
 * reading measured strictly before its time, and for each `after` lookup the first
 * measured at or after it. One index range or lookup each on (patient_id, type,
 * measured_at), nothing of other types.
 */
export async function loadReadings(
  trx: Db,
  patientIds: readonly string[],
  ranges: readonly ReadingRange[],
  before: readonly ReadingLookup[],
  after: readonly ReadingLookup[],
): Promise<Map<string, PatientReading[]>> {
  const result = new Map<string, PatientReading[]>(patientIds.map((id) => [id, []]));
  const merged = mergeRanges(ranges);
  if (merged.length === 0 && before.length === 0 && after.length === 0) return result;
  const { rows } = await sql<ReadingRow & { patient_id: string }>`
    SELECT * FROM (
      SELECT r.patient_id, r.reading_id, r.device_id, r.type,
             (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms, r.value, r.systolic, r.diastolic
      FROM unnest(${merged.map((r) => r.patientId)}::text[], ${merged.map((r) => r.type)}::text[],
                  ${merged.map((r) => new Date(r.since))}::timestamptz[],
                  ${merged.map((r) => new Date(r.until))}::timestamptz[]) AS w(patient_id, type, since, until)
      CROSS JOIN LATERAL (
        SELECT * FROM readings r
        WHERE r.patient_id = w.patient_id AND r.type = w.type AND r.measured_at >= w.since AND r.measured_at <= w.until
        OFFSET 0 -- kept a subquery, one index range each: pulled up into a join, it reads every type
      ) r
      UNION
      SELECT r.patient_id, r.reading_id, r.device_id, r.type,
             (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms, r.value, r.systolic, r.diastolic
      FROM unnest(${before.map((b) => b.patientId)}::text[], ${before.map((b) => b.type)}::text[],
                  ${before.map((b) => new Date(b.at))}::timestamptz[]) AS t(patient_id, type, at)
      CROSS JOIN LATERAL (
        SELECT * FROM readings
        WHERE patient_id = t.patient_id AND type = t.type AND measured_at < t.at
        ORDER BY measured_at DESC, reading_id DESC LIMIT 1
      ) r
      UNION
      SELECT r.patient_id, r.reading_id, r.device_id, r.type,
             (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms, r.value, r.systolic, r.diastolic
      FROM unnest(${after.map((b) => b.patientId)}::text[], ${after.map((b) => b.type)}::text[],
                  ${after.map((b) => new Date(b.at))}::timestamptz[]) AS t(patient_id, type, at)
      CROSS JOIN LATERAL (
        SELECT * FROM readings
        WHERE patient_id = t.patient_id AND type = t.type AND measured_at >= t.at
        ORDER BY measured_at, reading_id LIMIT 1
      ) r
    ) all_readings
    ORDER BY patient_id, at_ms, reading_id`.execute(trx);
  for (const r of rows) result.get(r.patient_id)?.push(toPatientReading(r));
  return result;
}

/** The union of each patient's ranges of a type, as disjoint ranges. */
function mergeRanges(ranges: readonly ReadingRange[]): ReadingRange[] {
  const key = (r: ReadingRange) => `${r.patientId}\u0000${r.type}`;
  const sorted = [...ranges].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.since - b.since));
  const out: ReadingRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && key(last) === key(r) && r.since <= last.until + 1) last.until = Math.max(last.until, r.until);
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
 * For each patient and type, the time of its latest reading measured at or before
 * `until`: one backward index lookup each, in one statement.
 */
export async function loadLatestReadings(
  trx: Db,
  patientIds: readonly string[],
  types: readonly string[],
  until: number,
): Promise<Map<string, Map<string, number>>> {
  const result = new Map<string, Map<string, number>>(patientIds.map((id) => [id, new Map()]));
  if (patientIds.length === 0) return result;
  const { rows } = await sql<{ patient_id: string; type: string; at_ms: string }>`
    SELECT p.id AS patient_id, t.type, (extract(epoch FROM r.measured_at) * 1000)::int8 AS at_ms
    FROM unnest(${[...patientIds]}::text[]) AS p(id)
    CROSS JOIN unnest(${[...types]}::text[]) AS t(type)
    CROSS JOIN LATERAL (
      SELECT measured_at FROM readings
      WHERE patient_id = p.id AND type = t.type AND measured_at <= ${new Date(until)}
      ORDER BY measured_at DESC LIMIT 1
    ) r`.execute(trx);
  for (const r of rows) result.get(r.patient_id)?.set(r.type, Number(r.at_ms));
  return result;
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

/** A patient's adherence inputs (loadAdherenceDays). */
export interface AdherenceInputs {
  days: AdherenceDay[];
  types: string[];
  /** Local days of the CGM window whose rollup predates the partials (see healCgmDays). */
  unflaggedCgmDays: string[];
}

/**
 * Adherence inputs from the daily rollups (one row per type and local day, not the
 * readings) of the given types (every type of the catalogue), for several patients
 * in one statement: the readings per (type, day) of the 30 local days ending with
 * today's, today's counted up to `to` (from the readings only when some of today's
 * are ahead of `to`), the types with a reading in (`to` − 31 d, `to`], the types
 * adherence reports on, and the local days of the CGM window whose rollup predates
 * the partials.
 */
export async function loadAdherenceDays(
  trx: Db,
  patients: readonly { patientId: string; timeZone: string }[],
  types: readonly string[],
  to: number,
): Promise<Map<string, AdherenceInputs>> {
  const result = new Map<string, AdherenceInputs>();
  if (patients.length === 0) return result;
  const since = to - 31 * DAY_MS;
  const bounds = patients.map((p) => ({
    ...p,
    today: localDate(to, p.timeZone),
    firstDay: localDate(since, p.timeZone),
    cgmFirstDay: localDate(to - WINDOW_14D_MS, p.timeZone),
  }));
  // One component per type (a blood pressure reading has both), and the key's day range for each:
  // the primary key (patient, type, component, day) bounds every scan to the 31 days.
  const { rows } = await sql<{
    patient_id: string;
    type: string;
    day: string;
    n: number;
    first_ms: string;
    last_ms: string;
    with_partials: boolean | null;
  }>`
    SELECT d.patient_id, t.type, d.day::text AS day, d.count AS n, d.with_partials,
           (extract(epoch FROM d.first_at) * 1000)::int8 AS first_ms,
           (extract(epoch FROM d.last_at) * 1000)::int8 AS last_ms
    FROM unnest(${bounds.map((b) => b.patientId)}::text[], ${bounds.map((b) => b.firstDay)}::date[],
                ${bounds.map((b) => b.today)}::date[]) AS p(id, first_day, today)
    CROSS JOIN unnest(${[...types]}::text[],
                      ${types.map((t) => (t === 'blood_pressure' ? 'systolic' : 'value'))}::text[]) AS t(type, component)
    JOIN rollups_daily d ON d.patient_id = p.id AND d.type = t.type AND d.component = t.component
                        AND d.day >= p.first_day AND d.day <= p.today`.execute(trx);
  const byPatient = new Map(bounds.map((b) => [b.patientId, b]));
  const present = new Map<string, Set<string>>();
  for (const b of bounds) {
    result.set(b.patientId, { days: [], types: [], unflaggedCgmDays: [] });
    present.set(b.patientId, new Set());
  }
  for (const r of rows) {
    const b = byPatient.get(r.patient_id);
    const out = result.get(r.patient_id);
    if (!b || !out) continue;
    if (r.type === 'cgm_glucose' && r.with_partials === null && r.day >= b.cgmFirstDay)
      out.unflaggedCgmDays.push(r.day);
    const firstAt = Number(r.first_ms);
    const lastAt = Number(r.last_ms);
    if (r.day === b.today && firstAt > to) continue; // only readings ahead of `to` today
    if (r.day === b.firstDay && lastAt <= since) continue; // only readings before the 31 days
    present.get(r.patient_id)?.add(r.type);
    let n = r.n;
    if (r.day === b.today && lastAt > to) {
      const { rows: counted } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM readings
        WHERE patient_id = ${r.patient_id} AND type = ${r.type}
          AND measured_at >= ${new Date(startOfLocalDay(b.today, b.timeZone))} AND measured_at <= ${new Date(to)}`.execute(
        trx,
      );
      n = counted[0]?.n ?? 0;
    }
    if (r.day >= addDays(b.today, -29)) out.days.push({ type: r.type, day: r.day, n });
  }
  for (const [id, out] of result) out.types = [...(present.get(id) ?? [])].sort();
  return result;
}

/** A patient's no_data inputs (loadNoDataInputs). */
export interface NoDataInputs {
  expectedTypes: string[];
  lastReadingAt: Record<string, number>;
}

/**
 * The no_data rule's inputs (indicators.md, "Alerts") of several patients in one
 * statement: the expected types (a type that a device assigned to the patient at
 * `now` sent in (`now` − 30 d, `now`]) and each one's latest reading time at or before
 * `now`, among each patient's candidate types (those with a reading in the 30 days).
 * Two backward index lookups per patient and type, each stopping at its first row.
 */
export async function loadNoDataInputs(
  trx: Db,
  candidates: readonly { patientId: string; types: readonly string[] }[],
  now: number,
): Promise<Map<string, NoDataInputs>> {
  const result = new Map<string, NoDataInputs>(
    candidates.map((c) => [c.patientId, { expectedTypes: [], lastReadingAt: {} }]),
  );
  const pairs = candidates.flatMap((c) => c.types.map((type) => ({ patientId: c.patientId, type })));
  if (pairs.length === 0) return result;
  const since = new Date(now - 30 * DAY_MS);
  const at = new Date(now);
  const { rows } = await sql<{ patient_id: string; type: string; expected: boolean; last_ms: string | null }>`
    SELECT x.patient_id, x.type,
           -- A scalar subquery, not EXISTS: EXISTS drops the ORDER BY ... LIMIT 1 and reads all 30 days.
           (SELECT true FROM readings r
            WHERE r.patient_id = x.patient_id AND r.type = x.type AND r.measured_at > ${since}
              AND r.measured_at <= ${at}
              AND r.device_id = ANY (ARRAY(SELECT da.device_id FROM device_assignments da
                                           WHERE da.patient_id = x.patient_id AND da.valid_from <= ${at}
                                             AND (da.valid_to IS NULL OR da.valid_to > ${at})))
            ORDER BY r.measured_at DESC LIMIT 1) IS NOT NULL AS expected,
           (SELECT (extract(epoch FROM r.measured_at) * 1000)::int8 FROM readings r
            WHERE r.patient_id = x.patient_id AND r.type = x.type AND r.measured_at > ${since}
              AND r.measured_at <= ${at}
            ORDER BY r.measured_at DESC LIMIT 1) AS last_ms
    FROM unnest(${pairs.map((p) => p.patientId)}::text[], ${pairs.map((p) => p.type)}::text[]) AS x(patient_id, type)`.execute(
    trx,
  );
  for (const r of rows) {
    const out = result.get(r.patient_id);
    if (!out || !r.expected) continue;
    out.expectedTypes.push(r.type);
    if (r.last_ms !== null) out.lastReadingAt[r.type] = Number(r.last_ms);
  }
  for (const out of result.values()) out.expectedTypes.sort();
  return result;
}
