/**
 * Blood glucose meter (`blood_glucose`, mg/dL, integer, with a context): finger-stick
 * checks a few times a day, fasting on waking, before and two hours after meals, at
 * bedtime, with the meter's error (ISO 15197: within ±15 %).
 */
import { clamp, readingId, type GenerateOptions, type GlucoseContext, type ProtocolReading } from './common.ts';
import { createGlucose, type GlucoseParams } from './glucose.ts';
import { createRng, deriveSeed } from './random.ts';
import { localDaysCovering, localTimeToEpoch, MINUTE, SECOND, strictlyIncreasing } from './time.ts';

/** A check: at a local hour (fasting, bedtime) or relative to a meal of the glucose params. */
export type MeterCheck =
  { context: 'fasting' | 'bedtime'; hour: number } | { context: 'before_meal' | 'after_meal'; meal: number };

export interface MeterGlucoseParams extends GlucoseParams {
  checks: readonly MeterCheck[];
  /** SD of the meter error as a fraction of the value (default 0.04, truncated at 2.5 SD). */
  meterErrorSd?: number;
}

export const METER_REPORTED_RANGE = { min: 20, max: 600 };

export function meterGlucoseReadings(options: GenerateOptions, params: MeterGlucoseParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const glucose = createGlucose(options, params);
  const checks: { at: number; context: GlucoseContext }[] = [];
  for (const day of localDaysCovering(start, end, timeZone)) {
    params.checks.forEach((c, i) => {
      const rng = createRng(deriveSeed(seed, 'check', day, i));
      let at: number;
      if ('hour' in c) {
        at = localTimeToEpoch(day, c.hour, timeZone) + rng.uniform(-15, 15) * MINUTE;
      } else {
        const meal = glucose.mealsOf(day)[c.meal];
        if (!meal) throw new RangeError(`meter check refers to meal ${c.meal}, which the params do not have`);
        at = meal.at + (c.context === 'before_meal' ? -rng.uniform(5, 15) : rng.uniform(110, 130)) * MINUTE;
      }
      at = Math.round(at / SECOND) * SECOND;
      if (at >= start && at < end) checks.push({ at, context: c.context });
    });
  }
  return strictlyIncreasing(checks).map(({ at, context }) => {
    const error = createRng(deriveSeed(seed, 'error', at)).truncatedNormal(0, params.meterErrorSd ?? 0.04);
    const value = clamp(Math.round(glucose.at(at) * (1 + error)), METER_REPORTED_RANGE.min, METER_REPORTED_RANGE.max);
    return { id: readingId('bg', at), type: 'blood_glucose', at, value, unit: 'mg/dL', context };
  });
}
