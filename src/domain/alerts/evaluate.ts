/**
 * Evaluation of one alert rule over one patient's data (indicators.md, "Alerts",
 * lines 48-63). Pure: the time of evaluation is the `now` parameter; no clock, no I/O.
 *
 * An evaluation answers two questions:
 * - `triggered`: did the condition occur at least once among the given readings? A
 *   late reading (an earlier `at` arriving after later ones) that creates a past
 *   occurrence makes it true even when the latest data no longer meets the condition.
 *   `readingIds` and `at` describe the MOST RECENT occurrence (by time).
 * - `holdsNow`: does the condition hold on the latest data?
 *
 * Readings may come in any order; they are sorted by `at`, ties by `id`. Readings of
 * other types than the rule's, and readings without the value the rule compares
 * (`value`, or `systolic`/`diastolic` for blood pressure, not a finite number), are
 * left out of the series: they neither meet the condition nor break a run.
 */
import {
  alertRule,
  isBloodPressureThreshold,
  type AlertRule,
  type RuleKey,
  type ThresholdValue,
  type BloodPressureThreshold,
} from './rules.ts';

export interface AlertReading {
  id: string;
  type: string;
  /** Measurement time, epoch milliseconds. */
  at: number;
  value?: number;
  systolic?: number;
  diastolic?: number;
}

export interface RuleInput {
  /** Readings of the rule's types, in any order (not used by `no_data`). */
  readings?: readonly AlertReading[];
  /** `no_data`: the expected types (see expectedTypes in expected-types.ts). */
  expectedTypes?: readonly string[];
  /** `no_data`: time of the latest reading of each type, epoch milliseconds; undefined when never seen. */
  lastReadingAt?: Readonly<Record<string, number | undefined>>;
  /**
   * Where occurrences may be found: only AT readings with `from` ≤ at < `to` for one
   * of these ranges (epoch ms); the other readings are context: they complete a pair
   * ("in a row") or a 72 h weight window. A caller that passes a bounded slice of the
   * series (the aggregation job: the new readings and the latest, with the context
   * they need) names its evaluated part, so that a reading whose own context was cut
   * off is never judged on a partial window. Undefined: every reading is evaluated.
   */
  occurrenceRanges?: readonly { from: number; to: number }[];
}

export interface Evaluation {
  triggered: boolean;
  holdsNow: boolean;
  /** The reading(s) of the most recent occurrence; empty when not triggered and for `no_data`. */
  readingIds: string[];
  /** Time of the most recent occurrence, epoch milliseconds; null when not triggered. */
  at: number | null;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** indicators.md line 38: the 72 h window of `weight_change_72h`. */
export const WEIGHT_WINDOW_MS = 72 * HOUR_MS;
/** indicators.md line 38: the latest weight reading must itself be within the last 7 days. */
export const WEIGHT_RECENT_MS = 7 * DAY_MS;
/**
 * Tolerance on the weight change, a difference of two stored values: 64.4 − 62.4 is
 * 2.000000000000007 in binary floating point, yet a clinician reads +2.0 kg, which is
 * not > 2.0. Far below any scale's resolution.
 */
export const WEIGHT_CHANGE_EPSILON_KG = 1e-9;

const NOT_TRIGGERED: Evaluation = { triggered: false, holdsNow: false, readingIds: [], at: null };

/** Sorts by `at`, ties by `id` (code unit order), without changing the input. */
export function sortReadings<T extends { id: string; at: number }>(readings: readonly T[]): T[] {
  return [...readings].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

type Predicate = (r: AlertReading) => boolean;
/** Whether an occurrence may be found at a reading of this time (RuleInput.occurrenceRanges). */
type Evaluated = (at: number) => boolean;

function num(t: ThresholdValue, rule: RuleKey): number {
  if (typeof t !== 'number') throw new TypeError(`the threshold of ${rule} must be a number`);
  return t;
}

function bp(t: ThresholdValue): BloodPressureThreshold {
  if (!isBloodPressureThreshold(t)) throw new TypeError('the threshold of bp_high must be { systolic, diastolic }');
  return t;
}

const finite = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The rule's series: its types only, with the value(s) it compares, in time order. */
function series(rule: AlertRule, readings: readonly AlertReading[] | undefined): AlertReading[] {
  const types = new Set<string>(rule.types);
  const usable =
    rule.key === 'bp_high'
      ? (r: AlertReading) => finite(r.systolic) || finite(r.diastolic)
      : (r: AlertReading) => finite(r.value);
  return sortReadings((readings ?? []).filter((r) => types.has(r.type) && usable(r)));
}

/** Rules met by one reading: the latest meeting reading is the most recent occurrence. */
function eachReading(readings: AlertReading[], meets: Predicate, evaluated: Evaluated): Evaluation {
  let last = -1;
  for (let i = 0; i < readings.length; i++) if (evaluated(readings[i].at) && meets(readings[i])) last = i;
  if (last < 0) return NOT_TRIGGERED;
  return {
    triggered: true,
    holdsNow: last === readings.length - 1,
    readingIds: [readings[last].id],
    at: readings[last].at,
  };
}

/**
 * "For 2 readings in a row": two consecutive readings of the series (by time) both
 * meet the condition, whatever the time between them.
 */
function twoInARow(readings: AlertReading[], meets: Predicate, evaluated: Evaluated): Evaluation {
  let last = -1;
  for (let i = 1; i < readings.length; i++) {
    if (evaluated(readings[i].at) && meets(readings[i - 1]) && meets(readings[i])) last = i;
  }
  if (last < 0) return NOT_TRIGGERED;
  return {
    triggered: true,
    holdsNow: last === readings.length - 1,
    readingIds: [readings[last - 1].id, readings[last].id],
    at: readings[last].at,
  };
}

/**
 * The 72 h weight change ending at each reading (indicators.md line 38): latest −
 * earliest weight of the readings with `at` − 72 h < at' ≤ `at` (line 22: a reading is
 * inside when `from` < `at` ≤ `to`); readings at the same instant count up to the
 * reading itself in the (at, id) order. An occurrence is a reading whose change
 * exceeds the threshold. It holds now when it occurs at the latest reading and that
 * reading is within the 7 days before `now` (the indicator's window, line 38).
 */
function weightGain(readings: AlertReading[], threshold: number, now: number, evaluated: Evaluated): Evaluation {
  let last = -1;
  let lastStart = -1;
  let start = 0;
  for (let i = 0; i < readings.length; i++) {
    while (readings[start].at <= readings[i].at - WEIGHT_WINDOW_MS) start++;
    const change = readings[i].value! - readings[start].value!;
    if (evaluated(readings[i].at) && change > threshold + WEIGHT_CHANGE_EPSILON_KG) {
      last = i;
      lastStart = start;
    }
  }
  if (last < 0) return NOT_TRIGGERED;
  const latest = readings[readings.length - 1];
  return {
    triggered: true,
    holdsNow: last === readings.length - 1 && latest.at > now - WEIGHT_RECENT_MS,
    readingIds: [readings[lastStart].id, readings[last].id],
    at: readings[last].at,
  };
}

/**
 * indicators.md line 63: no reading of an expected type for the threshold in hours.
 * A type is overdue when it has no reading inside the window (`now` − threshold, `now`]
 * (line 22): its last reading is at or before `now` − threshold, or it was never seen.
 * Only the present is known here (the time of each type's last reading), so there are
 * no past occurrences: `triggered` equals `holdsNow`. `at` is when the condition began,
 * the earliest (last reading + threshold) of the overdue types (null when the overdue
 * types were never seen); no reading raised it, so `readingIds` is empty.
 */
function noData(input: RuleInput, hours: number, now: number): Evaluation {
  const gapMs = hours * HOUR_MS;
  let overdue = false;
  let since: number | null = null;
  for (const type of new Set(input.expectedTypes ?? [])) {
    const last = input.lastReadingAt?.[type];
    if (last !== undefined && last > now - gapMs) continue;
    overdue = true;
    if (last !== undefined) since = since === null ? last + gapMs : Math.min(since, last + gapMs);
  }
  if (!overdue) return NOT_TRIGGERED;
  return { triggered: true, holdsNow: true, readingIds: [], at: since };
}

/**
 * Evaluates `rule` on `input` with `threshold` (see effectiveThreshold) at `now`
 * (epoch milliseconds). Throws a TypeError when the threshold has the wrong shape for
 * the rule (a number for `bp_high`, an object for the others): a programming error,
 * since thresholds come from effectiveThreshold.
 */
export function evaluateRule(
  rule: RuleKey | AlertRule,
  input: RuleInput,
  threshold: ThresholdValue,
  now: number,
): Evaluation {
  const r = alertRule(rule);
  const ranges = input.occurrenceRanges;
  const from: Evaluated = ranges ? (at) => ranges.some((g) => g.from <= at && at < g.to) : () => true;
  switch (r.key) {
    case 'spo2_low': {
      // indicators.md line 56: any SpO2 reading ≤ threshold
      const t = num(threshold, r.key);
      return eachReading(series(r, input.readings), (x) => x.value! <= t, from);
    }
    case 'weight_gain':
      // indicators.md lines 57 and 38: weight change 72 h > threshold
      return weightGain(series(r, input.readings), num(threshold, r.key), now, from);
    case 'bp_high': {
      // indicators.md line 58: one reading ≥ systolic threshold or ≥ diastolic threshold
      const t = bp(threshold);
      return eachReading(
        series(r, input.readings),
        (x) => (finite(x.systolic) && x.systolic >= t.systolic) || (finite(x.diastolic) && x.diastolic >= t.diastolic),
        from,
      );
    }
    case 'fever': {
      // indicators.md line 59: temperature ≥ threshold
      const t = num(threshold, r.key);
      return eachReading(series(r, input.readings), (x) => x.value! >= t, from);
    }
    case 'hypoglycemia': {
      // indicators.md line 60: glucose (meter or CGM) < threshold
      const t = num(threshold, r.key);
      return eachReading(series(r, input.readings), (x) => x.value! < t, from);
    }
    case 'hyperglycemia': {
      // indicators.md line 61: glucose > threshold for 2 readings in a row; meter and
      // CGM readings are merged into one series in time order, so a meter reading
      // between two high CGM readings breaks the run when it is not high itself
      const t = num(threshold, r.key);
      return twoInARow(series(r, input.readings), (x) => x.value! > t, from);
    }
    case 'tachycardia': {
      // indicators.md line 62: heart rate > threshold for 2 readings in a row
      const t = num(threshold, r.key);
      return twoInARow(series(r, input.readings), (x) => x.value! > t, from);
    }
    case 'bradycardia': {
      // indicators.md line 62: heart rate < threshold for 2 readings in a row
      const t = num(threshold, r.key);
      return twoInARow(series(r, input.readings), (x) => x.value! < t, from);
    }
    case 'no_data':
      // indicators.md line 63: no reading of an expected type for threshold hours
      return noData(input, num(threshold, r.key), now);
  }
}
