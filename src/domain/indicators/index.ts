/**
 * Indicator maths of indicators.md: pure functions over plain arrays, no clock
 * (the computation time `to` is a parameter), no database, no I/O.
 */
export type { BpPoint, Indicator, Point } from './types.ts';
export {
  ADHERENCE_WINDOW_DAYS,
  DAY_MS,
  HOUR_MS,
  inWindow,
  inWindowOnly,
  MINUTE_MS,
  WINDOW_14D_MS,
  WINDOW_24H_MS,
  WINDOW_72H_MS,
  WINDOW_7D_MS,
} from './window.ts';
export { addDays, localDate, startOfLocalDay } from './local-day.ts';
export {
  ADHERENCE_TYPE_KEY_PREFIX,
  ADHERENCE_UNIT,
  adherenceTypeKey,
  INDICATOR_KEYS,
  INDICATOR_UNITS,
  type IndicatorKey,
} from './indicator-keys.ts';
export {
  cgmIndicators,
  cgmIndicatorsOfSummary,
  type CgmSummary,
  DEFAULT_CGM_SAMPLING_INTERVAL_MS,
  GLUCOSE_CV_TARGET_PERCENT,
  medianSamplingIntervalMs,
  SENSOR_ACTIVE_SUFFICIENT_PERCENT,
} from './cgm.ts';
export {
  BP_MIN_DAYS,
  BP_MIN_READINGS,
  bpIndicators,
  HOME_BP_DIASTOLIC_THRESHOLD,
  HOME_BP_SYSTOLIC_THRESHOLD,
} from './blood-pressure.ts';
export { WEIGHT_MIN_READINGS, weightIndicators } from './weight.ts';
export { heartRateIndicators, SPO2_LOW_PERCENT, spo2Indicators, temperatureIndicators } from './vitals.ts';
export { type AdherenceDay, adherenceIndicators, adherenceIndicatorsFromDays } from './adherence.ts';
export {
  busiestDevice,
  type CgmPartial,
  type CgmReading,
  cgmIndicatorsFromPartials,
  cgmIndicatorsFromReadings,
  cgmPartialsOf,
  cgmWindowHours,
  utcHourStart,
} from './cgm-partials.ts';
