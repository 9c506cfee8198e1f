/**
 * Adherence (indicators.md, "Indicators" and "Patient-local days"): the number
 * of patient-local calendar days, among the 30 ending with the current one,
 * with at least one reading (any type, then per type). 16 of 30 days is the
 * usual bar (CMS CPT 99454).
 */
import { ADHERENCE_UNIT, adherenceTypeKey, makeIndicator } from './indicator-keys.ts';
import { addDays, localDate, startOfLocalDay } from './local-day.ts';
import type { Indicator } from './types.ts';
import { ADHERENCE_WINDOW_DAYS } from './window.ts';

/** Index of the day containing `at`: the last i with starts[i] ≤ at (starts ascending, starts[0] ≤ at). */
function dayIndex(starts: readonly number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (starts[mid] <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * adherence_days, then adherence_days_{type} for each of `types` (duplicates
 * once, in the given order). Unit 'd'; always sufficient (indicators.md "—"):
 * a count of days is defined whatever the readings, and is 0 with none.
 *
 * The days are the 30 local dates ending with localDate(`to`); `from` is the
 * start of the first of them (local midnight, DST-correct), `to` is `to`. A
 * reading counts when `from` ≤ at ≤ `to`: calendar-day membership, so a reading
 * at the very first instant of the first day counts (unlike the rolling windows,
 * whose `from` is excluded), and readings after `to` do not. `n` is the number
 * of readings counted (of that type, for the per-type keys).
 */
export function adherenceIndicators(
  readings: readonly { type: string; at: number }[],
  to: number,
  timeZone: string,
  types: readonly string[],
): Indicator[] {
  const today = localDate(to, timeZone);
  const starts: number[] = [];
  for (let i = ADHERENCE_WINDOW_DAYS - 1; i >= 0; i--) starts.push(startOfLocalDay(addDays(today, -i), timeZone));
  const from = starts[0];

  const allDays = new Set<number>();
  let allN = 0;
  const wanted = [...new Set(types)];
  const perType = new Map(wanted.map((t) => [t, { days: new Set<number>(), n: 0 }]));
  for (const r of readings) {
    if (r.at < from || r.at > to) continue;
    const day = dayIndex(starts, r.at);
    allDays.add(day);
    allN++;
    const t = perType.get(r.type);
    if (t) {
      t.days.add(day);
      t.n++;
    }
  }

  return adherenceResult(allDays.size, allN, perType, from, to);
}

/** adherence_days, then adherence_days_{type} per entry of `perType` (in its order). */
function adherenceResult(
  days: number,
  n: number,
  perType: ReadonlyMap<string, { days: ReadonlySet<unknown>; n: number }>,
  from: number,
  to: number,
): Indicator[] {
  const result = [makeIndicator('adherence_days', days, from, to, n, true)];
  for (const [type, t] of perType) {
    result.push({
      key: adherenceTypeKey(type),
      value: t.days.size,
      unit: ADHERENCE_UNIT,
      from,
      to,
      n: t.n,
      sufficient: true,
    });
  }
  return result;
}

/** The readings of one type on one patient-local day (a daily rollup), counted up to `to`. */
export interface AdherenceDay {
  type: string;
  /** Local date, 'YYYY-MM-DD'. */
  day: string;
  /** Readings of the type that day at or before `to` (0: none yet). */
  n: number;
}

/**
 * adherenceIndicators from daily counts instead of readings: the same keys, values,
 * windows and `n`, given for each (type, local day) the number of readings at or before
 * `to` (daily rollups, with today's count taken up to `to`). Days outside the 30 are
 * ignored.
 */
export function adherenceIndicatorsFromDays(
  days: readonly AdherenceDay[],
  to: number,
  timeZone: string,
  types: readonly string[],
): Indicator[] {
  const today = localDate(to, timeZone);
  const first = addDays(today, -(ADHERENCE_WINDOW_DAYS - 1));
  const from = startOfLocalDay(first, timeZone);
  const allDays = new Set<string>();
  let allN = 0;
  const wanted = [...new Set(types)];
  const perType = new Map(wanted.map((t) => [t, { days: new Set<string>(), n: 0 }]));
  for (const d of days) {
    // 'YYYY-MM-DD' strings compare as dates.
    if (d.n <= 0 || d.day < first || d.day > today) continue;
    allDays.add(d.day);
    allN += d.n;
    const t = perType.get(d.type);
    if (t) {
      t.days.add(d.day);
      t.n += d.n;
    }
  }
  return adherenceResult(allDays.size, allN, perType, from, to);
}
