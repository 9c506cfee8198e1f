/**
 * SpO2, heart rate and temperature over the last 24 h (indicators.md,
 * "Indicators"), each sufficient with ≥ 1 reading. SpO2 in %, heart rate in
 * /min, temperature in Cel.
 */
import { type IndicatorKey, makeIndicator } from './indicator-keys.ts';
import { max, mean, min, percentWhere } from './stats.ts';
import type { Indicator, Point } from './types.ts';
import { inWindowOnly, WINDOW_24H_MS } from './window.ts';

/** BTS 2017 oxygen guideline: SpO2 below 90 % is the level counted by spo2_below_90. */
export const SPO2_LOW_PERCENT = 90;

function last24h(
  points: readonly Point[],
  to: number,
  build: (values: number[]) => [IndicatorKey, number | null][],
): Indicator[] {
  const from = to - WINDOW_24H_MS;
  const values = inWindowOnly(points, from, to).map((p) => p.value);
  // indicators.md: sufficient with ≥ 1 reading.
  return build(values).map(([key, value]) => makeIndicator(key, value, from, to, values.length, values.length >= 1));
}

/** spo2_min, spo2_mean, spo2_below_90. */
export function spo2Indicators(points: readonly Point[], to: number): Indicator[] {
  return last24h(points, to, (values) => [
    // BTS 2017 / indicators.md: min, mean, % of readings < 90 (90 itself is not below).
    ['spo2_min', min(values)],
    ['spo2_mean', mean(values)],
    ['spo2_below_90', percentWhere(values, (v) => v < SPO2_LOW_PERCENT)],
  ]);
}

/** hr_min, hr_mean, hr_max. */
export function heartRateIndicators(points: readonly Point[], to: number): Indicator[] {
  return last24h(points, to, (values) => [
    // indicators.md: min, mean, max.
    ['hr_min', min(values)],
    ['hr_mean', mean(values)],
    ['hr_max', max(values)],
  ]);
}

/** temp_max. */
export function temperatureIndicators(points: readonly Point[], to: number): Indicator[] {
  // indicators.md: max.
  return last24h(points, to, (values) => [['temp_max', max(values)]]);
}
