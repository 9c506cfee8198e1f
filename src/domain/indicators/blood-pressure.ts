/**
 * Home blood pressure over the last 7 days (indicators.md, "Indicators"; ESH 2021
 * practice guidelines / position paper on home blood pressure monitoring).
 * Pressures in mm[Hg].
 */
import { type IndicatorKey, makeIndicator } from './indicator-keys.ts';
import { localDate } from './local-day.ts';
import { mean } from './stats.ts';
import type { BpPoint, Indicator } from './types.ts';
import { inWindowOnly, WINDOW_7D_MS } from './window.ts';

/** ESH 2021: home BP is hypertensive at mean systolic ≥ 135 or mean diastolic ≥ 85 mm[Hg]. */
export const HOME_BP_SYSTOLIC_THRESHOLD = 135;
export const HOME_BP_DIASTOLIC_THRESHOLD = 85;
/** indicators.md (ESH 2021): sufficient with ≥ 12 readings on ≥ 3 days. */
export const BP_MIN_READINGS = 12;
export const BP_MIN_DAYS = 3;

/**
 * bp_mean_systolic, bp_mean_diastolic and bp_above_threshold, in that order, over
 * the readings with `to` − 7 d < at ≤ `to`. The days of the sufficiency rule are
 * distinct patient-local calendar days in `timeZone` (IANA). The threshold is
 * applied to the means at full precision (134.96 shows as 135.0 but is below).
 */
export function bpIndicators(points: readonly BpPoint[], to: number, timeZone: string): Indicator[] {
  const from = to - WINDOW_7D_MS;
  const inside = inWindowOnly(points, from, to);
  const n = inside.length;
  const days = new Set(inside.map((p) => localDate(p.at, timeZone)));
  // ESH 2021 / indicators.md: ≥ 12 readings on ≥ 3 days.
  const sufficient = n >= BP_MIN_READINGS && days.size >= BP_MIN_DAYS;

  const systolic = mean(inside.map((p) => p.systolic));
  const diastolic = mean(inside.map((p) => p.diastolic));
  // ESH 2021: mean systolic ≥ 135 or mean diastolic ≥ 85 → 1, else 0.
  const above =
    systolic === null || diastolic === null
      ? null
      : systolic >= HOME_BP_SYSTOLIC_THRESHOLD || diastolic >= HOME_BP_DIASTOLIC_THRESHOLD
        ? 1
        : 0;

  const ind = (key: IndicatorKey, value: number | null): Indicator =>
    makeIndicator(key, value, from, to, n, sufficient);
  return [ind('bp_mean_systolic', systolic), ind('bp_mean_diastolic', diastolic), ind('bp_above_threshold', above)];
}
