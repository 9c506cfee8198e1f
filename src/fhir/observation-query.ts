/**
 * Which Observations of a patient a search (or a bulk export) selects, and one page
 * of them: shared by GET /fhir/Observation and the bulk export's NDJSON.
 *
 * Readings are read through the (patient_id, type, measured_at) index only, one
 * measured-time interval after the other (newest first; src/fhir/search-params.ts,
 * instantIntervals), keyset-paginated as readingsPage: a page costs what it returns
 * (types × page size index entries at most) per interval it touches, whatever the
 * patient's history. `_lastUpdated` and `_since` are on received_at, which no index
 * orders: they filter the rows of measured-time bounds derived from them — a reading
 * is accepted only when measured at most VITALINK_READING_MAX_AGE_DAYS before it
 * arrives and at most MAX_FUTURE_MS after (device-protocol.md, "Time"), so a reading
 * received in [a, b) was measured in [a − max age, b + MAX_FUTURE_MS).
 */
import { MAX_FUTURE_MS } from '../domain/protocol.ts';
import type { ReadingType } from '../domain/reading-types.ts';
import type { Db } from '../store/database.ts';
import { findIndicators } from '../store/indicators.repository.ts';
import type { MeasuredAtBound, ReadingFilter } from '../store/reading-filter.ts';
import { type ReadingKey, readingsPage, type StoredReading } from '../store/readings-page.ts';
import { countReadings, hasReadings } from '../store/readings.repository.ts';
import {
  CGM_INDICATOR_KEYS,
  type CgmObservation,
  cgmObservations,
  READING_CODES,
  readingTypesMatching,
} from './observations.ts';
import {
  type CodeToken,
  codingMatches,
  type DateBound,
  type Interval,
  instantIntervals,
  periodMatches,
} from './search-params.ts';
import { type Coding, OBSERVATION_CATEGORY_SYSTEM, type Observation } from './types.ts';

/** What selects a patient's Observations. */
export interface ObservationCriteria {
  readonly patientId: string;
  readonly codes?: readonly CodeToken[];
  readonly categories?: readonly CodeToken[];
  /** On the effective time (measured time; a CGM summary's window). */
  readonly dates?: readonly DateBound[];
  /** On meta.lastUpdated (received time; a CGM summary's computation). */
  readonly lastUpdated?: readonly DateBound[];
  /** VITALINK_READING_MAX_AGE_DAYS in ms: how long before its arrival a reading may have been measured. */
  readonly readingMaxAgeMs: number;
}

/** The default of VITALINK_READING_MAX_AGE_DAYS, when the caller does not know the setting. */
export const DEFAULT_READING_MAX_AGE_MS = 90 * 86_400_000;

const categoryCoding = (code: string): Coding => ({ system: OBSERVATION_CATEGORY_SYSTEM, code });

function categoryMatches(tokens: readonly CodeToken[] | undefined, category: string): boolean {
  return tokens === undefined || codingMatches(tokens, [categoryCoding(category)]);
}

/** meta.lastUpdated: when Vitalink stored the reading (Observation.issued) or computed the summary. */
export function withLastUpdated(o: Observation): Observation {
  return o.issued === undefined ? o : { ...o, meta: { ...o.meta, lastUpdated: o.issued } };
}

/** The reading types the criteria's code and category allow. */
export function readingTypesOf(c: ObservationCriteria): ReadingType[] {
  return readingTypesMatching((codings) => c.codes === undefined || codingMatches(c.codes, codings)).filter((t) =>
    categoryMatches(c.categories, READING_CODES[t].category),
  );
}

/**
 * The patient's CGM summary Observations that match, in CGM_SUMMARIES order: none
 * for a patient without any CGM reading (one index probe), whose indicators say
 * nothing about glucose (a sensor active 0 % of a window is no summary).
 */
export async function matchingCgmSummaries(db: Db, c: ObservationCriteria): Promise<CgmObservation[]> {
  if (!categoryMatches(c.categories, 'laboratory')) return [];
  const indicators = await findIndicators(db, c.patientId, CGM_INDICATOR_KEYS);
  if (indicators.length === 0) return [];
  const summaries = cgmObservations(c.patientId, indicators).filter((s) => {
    const o = s.observation;
    const updated = o.issued === undefined ? NaN : Date.parse(o.issued);
    return (
      (c.codes === undefined || codingMatches(c.codes, o.code.coding)) &&
      (c.dates ?? []).every((d) => periodMatches(d, s.from, s.to)) &&
      (c.lastUpdated ?? []).every((d) => periodMatches(d, updated, updated))
    );
  });
  if (summaries.length === 0) return [];
  const hasCgm = await hasReadings(db, { patientId: c.patientId, type: 'cgm_glucose' });
  return hasCgm ? summaries : [];
}

function boundsOf(i: Interval): MeasuredAtBound[] {
  return [
    ...(i.lo === null ? [] : [{ op: '>=' as const, at: new Date(i.lo) }]),
    ...(i.hi === null ? [] : [{ op: '<' as const, at: new Date(i.hi) }]),
  ];
}

/** The reading filters of the criteria: one per measured-time interval, newest first. */
export function readingFilters(c: ObservationCriteria): ReadingFilter[] {
  const types = readingTypesOf(c);
  if (types.length === 0) return [];
  let intervals = instantIntervals(c.dates ?? []);
  let receivedAt: ReadingFilter['receivedAt'];
  if (c.lastUpdated && c.lastUpdated.length > 0) {
    const received = instantIntervals(c.lastUpdated);
    if (received.length === 0) return [];
    receivedAt = received.map((r) => ({
      lo: r.lo === null ? null : new Date(r.lo),
      hi: r.hi === null ? null : new Date(r.hi),
    }));
    // The measured times those received times allow (see the file's comment).
    const lo = received.some((r) => r.lo === null)
      ? null
      : Math.min(...received.map((r) => r.lo as number)) - c.readingMaxAgeMs;
    const hi = received.some((r) => r.hi === null)
      ? null
      : Math.max(...received.map((r) => r.hi as number)) + MAX_FUTURE_MS;
    intervals = instantIntervals([
      ...(c.dates ?? []),
      ...(lo === null ? [] : [{ prefix: 'ge' as const, lo, hi: lo }]),
      ...(hi === null ? [] : [{ prefix: 'lt' as const, lo: hi, hi }]),
    ]);
  }
  return intervals.map((i) => ({
    patientId: c.patientId,
    type: types,
    measuredAt: boundsOf(i),
    ...(receivedAt ? { receivedAt } : {}),
  }));
}

/** How many readings match (a count of each interval: reads every match; only when asked). */
export async function countMatchingReadings(db: Db, filters: readonly ReadingFilter[]): Promise<number> {
  let n = 0;
  for (const f of filters) n += await countReadings(db, f);
  return n;
}

/** Whether any reading matches (an index probe per interval). */
export async function anyMatchingReading(db: Db, filters: readonly ReadingFilter[]): Promise<boolean> {
  for (const f of filters) if (await hasReadings(db, f)) return true;
  return false;
}

/**
 * One page of matching readings, newest first, after `after` (exclusive): the
 * intervals entirely after the cursor are skipped, each other one read through the
 * index until the page is full. `next` is where the page ended when more follow.
 */
export async function matchingReadingsPage(
  db: Db,
  filters: readonly ReadingFilter[],
  after: ReadingKey | undefined,
  limit: number,
): Promise<{ readings: StoredReading[]; next: ReadingKey | null }> {
  const out: StoredReading[] = [];
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    const lo = f.measuredAt?.find((b) => b.op === '>=');
    // Every reading of this interval is newer than the cursor: given already.
    if (after && lo && lo.at.getTime() * 1000 > after[0]) continue;
    const page = await readingsPage(db, f, after, limit - out.length);
    out.push(...page.readings);
    if (page.next) return { readings: out, next: page.next };
    if (out.length === limit) {
      const last = out[out.length - 1];
      const key: ReadingKey = [last.measuredAt.getTime() * 1000, last.deviceId, last.readingId];
      return { readings: out, next: (await anyMatchingReading(db, filters.slice(i + 1))) ? key : null };
    }
  }
  return { readings: out, next: null };
}
