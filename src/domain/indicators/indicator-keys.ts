/**
 * The keys of indicators.md, "Indicators" (the names clients read in the API),
 * in the order of its table, each with its UCUM unit. The per-type adherence
 * keys (`adherence_days_{type}`) are built by `adherenceTypeKey` and are not listed.
 */
import type { Indicator } from './types.ts';

export const INDICATOR_UNITS = Object.freeze({
  cgm_mean: 'mg/dL',
  gmi: '%',
  glucose_cv: '%',
  tir_70_180: '%',
  tbr_70: '%',
  tbr_54: '%',
  tar_180: '%',
  tar_250: '%',
  sensor_active: '%',
  bp_mean_systolic: 'mm[Hg]',
  bp_mean_diastolic: 'mm[Hg]',
  // 1 or 0: UCUM's unity "1" (dimensionless).
  bp_above_threshold: '1',
  weight_change_72h: 'kg',
  weight_change_7d: 'kg',
  spo2_min: '%',
  spo2_mean: '%',
  spo2_below_90: '%',
  hr_min: '/min',
  hr_mean: '/min',
  hr_max: '/min',
  temp_max: 'Cel',
  adherence_days: 'd',
} as const);

export type IndicatorKey = keyof typeof INDICATOR_UNITS;

export const INDICATOR_KEYS: readonly IndicatorKey[] = Object.freeze(Object.keys(INDICATOR_UNITS) as IndicatorKey[]);

/** Unit of `adherence_days` and of every `adherence_days_{type}`: days (UCUM "d"). */
export const ADHERENCE_UNIT = INDICATOR_UNITS.adherence_days;

export const ADHERENCE_TYPE_KEY_PREFIX = 'adherence_days_';

/** `adherence_days_{type}` (indicators.md), e.g. `adherence_days_body_weight`. */
export function adherenceTypeKey(type: string): string {
  return ADHERENCE_TYPE_KEY_PREFIX + type;
}

/** An Indicator of one of INDICATOR_KEYS, with its unit from INDICATOR_UNITS. */
export function makeIndicator(
  key: IndicatorKey,
  value: number | null,
  from: number,
  to: number,
  n: number,
  sufficient: boolean,
): Indicator {
  return { key, value, unit: INDICATOR_UNITS[key], from, to, n, sufficient };
}
