/**
 * CGM indicators over the last 14 days (indicators.md, "Indicators"; Battelino
 * et al., Diabetes Care 2019;42:1593, international consensus on time in range).
 * Glucose in mg/dL: mmol/L values must be converted before (× 18.0156,
 * device-protocol.md); the readings stored by the service already are.
 * Percentages are over readings, which equals time for evenly sampled sensors.
 */
import { type IndicatorKey, makeIndicator } from './indicator-keys.ts';
import { mean, sampleSd } from './stats.ts';
import type { Indicator, Point } from './types.ts';
import { inWindowOnly, MINUTE_MS, WINDOW_14D_MS } from './window.ts';

/** indicators.md: expected readings use the device's median sampling interval, "5 min when unknown". */
export const DEFAULT_CGM_SAMPLING_INTERVAL_MS = 5 * MINUTE_MS;

/** Battelino 2019: CGM data are sufficient when the sensor was active ≥ 70% of the 14 days. */
export const SENSOR_ACTIVE_SUFFICIENT_PERCENT = 70;

/** Battelino 2019: glucose CV target ≤ 36 % (not used in the maths; for display). */
export const GLUCOSE_CV_TARGET_PERCENT = 36;

// Battelino 2019: TIR = % of readings with 70 ≤ g ≤ 180 mg/dL (70 and 180 are in range).
export const inRange70To180 = (g: number): boolean => g >= 70 && g <= 180;
// Battelino 2019: TBR level 1+2 = % of readings < 70 mg/dL.
export const below70 = (g: number): boolean => g < 70;
// Battelino 2019: TBR level 2 = % of readings < 54 mg/dL (54 is not below).
export const below54 = (g: number): boolean => g < 54;
// Battelino 2019: TAR level 1+2 = % of readings > 180 mg/dL.
export const above180 = (g: number): boolean => g > 180;
// Battelino 2019: TAR level 2 = % of readings > 250 mg/dL (250 is not above).
export const above250 = (g: number): boolean => g > 250;

/**
 * Median of the positive gaps between consecutive readings sorted by time, in ms
 * (the middle two averaged for an even count). Equal timestamps (gap 0) are not
 * gaps. Undefined when there are fewer than 2 readings, or no positive gap.
 */
export function medianSamplingIntervalMs(points: readonly Point[]): number | undefined {
  if (points.length < 2) return undefined;
  const times = points.map((p) => p.at).sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length === 0) return undefined;
  gaps.sort((a, b) => a - b);
  const mid = Math.floor(gaps.length / 2);
  return gaps.length % 2 === 1 ? gaps[mid] : (gaps[mid - 1] + gaps[mid]) / 2;
}

/**
 * cgm_mean, gmi, glucose_cv, tir_70_180, tbr_70, tbr_54, tar_180, tar_250 and
 * sensor_active, in that order, over the readings with `to` − 14 d < at ≤ `to`.
 *
 * `samplingIntervalMs` is the device's median sampling interval (see
 * medianSamplingIntervalMs, typically over the device's recent readings); when
 * it is undefined, not finite or not positive, 5 min is used.
 *
 * All but sensor_active are sufficient when sensor_active ≥ 70 (full precision).
 * sensor_active has no sufficiency rule in indicators.md ("—"): it is a ratio
 * that is defined whatever the number of readings (0 % with none), so it is
 * always sufficient, and its value is 0, not null, when there are no readings.
 */
export function cgmIndicators(
  points: readonly Point[],
  to: number,
  samplingIntervalMs?: number,
  windowMs: number = WINDOW_14D_MS,
): Indicator[] {
  const from = to - windowMs;
  const values = inWindowOnly(points, from, to).map((p) => p.value);
  const n = values.length;
  const count = (test: (g: number) => boolean): number => {
    let c = 0;
    for (const v of values) if (test(v)) c++;
    return c;
  };
  // Battelino 2019: mean glucose, mg/dL; SD is the sample SD (n − 1), as the daily rollups of indicators.md.
  return cgmIndicatorsOfSummary(
    {
      n,
      mean: mean(values),
      sd: sampleSd(values),
      below54: count(below54),
      below70: count(below70),
      in70to180: count(inRange70To180),
      above180: count(above180),
      above250: count(above250),
    },
    to,
    samplingIntervalMs,
    windowMs,
  );
}

/**
 * What the CGM indicators need of the readings of the window: how many, their mean
 * and sample SD (null when undefined: no reading, one reading), and how many fall in
 * each range of Battelino 2019. Computed from the readings (cgmIndicators) or from
 * hourly partial aggregates (cgm-partials.ts).
 */
export interface CgmSummary {
  n: number;
  mean: number | null;
  sd: number | null;
  below54: number;
  below70: number;
  in70to180: number;
  above180: number;
  above250: number;
}

/**
 * The indicators of cgmIndicators from a summary of the window (`to` − 14 d, `to`].
 * `windowMs` is 14 days for the indicators of indicators.md; the glucose report
 * (README, "Glucose report (AGP)") asks for other lengths with the same definitions.
 */
export function cgmIndicatorsOfSummary(
  s: CgmSummary,
  to: number,
  samplingIntervalMs?: number,
  windowMs: number = WINDOW_14D_MS,
): Indicator[] {
  const from = to - windowMs;
  const n = s.n;
  const interval =
    samplingIntervalMs !== undefined && Number.isFinite(samplingIntervalMs) && samplingIntervalMs > 0
      ? samplingIntervalMs
      : DEFAULT_CGM_SAMPLING_INTERVAL_MS;
  // Battelino 2019 / indicators.md: sensor active = 100 × readings / expected, expected = window ÷ interval,
  // capped at 100. Written as 100 × n × interval / window (one rounding) so that exactly 70 % is exactly 70.
  const sensorActive = Math.min(100, (100 * n * interval) / windowMs);
  const sufficient = sensorActive >= SENSOR_ACTIVE_SUFFICIENT_PERCENT;

  // Battelino 2019: mean glucose, mg/dL.
  const cgmMean = s.mean;
  // Bergenstal 2018 (Diabetes Care 2018;41:2275): GMI (%) = 3.31 + 0.02392 × mean glucose (mg/dL).
  const gmi = cgmMean === null ? null : 3.31 + 0.02392 * cgmMean;
  // Battelino 2019: CV = 100 × SD / mean, %. The SD is undefined for one reading, so the CV is null then, not 0.
  const sd = s.sd;
  const cv = sd === null || cgmMean === null || cgmMean === 0 ? null : (100 * sd) / cgmMean;
  // % of readings, as percentWhere: 100 × count / n, null without readings.
  const percent = (count: number): number | null => (n === 0 ? null : (100 * count) / n);

  const ind = (key: IndicatorKey, value: number | null): Indicator =>
    makeIndicator(key, value, from, to, n, sufficient);
  return [
    ind('cgm_mean', cgmMean),
    ind('gmi', gmi),
    ind('glucose_cv', cv),
    ind('tir_70_180', percent(s.in70to180)),
    ind('tbr_70', percent(s.below70)),
    ind('tbr_54', percent(s.below54)),
    ind('tar_180', percent(s.above180)),
    ind('tar_250', percent(s.above250)),
    makeIndicator('sensor_active', sensorActive, from, to, n, true),
  ];
}
