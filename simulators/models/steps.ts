/**
 * Step counts from a wearable (`steps`, {steps}, integer count per interval): light
 * steps while awake, many during exercise bouts, none asleep. One reading per
 * `intervalMin` minutes (15 by default), stamped at the end of the interval it counts.
 */
import { createActivity, type ActivityParams } from './activity.ts';
import { clamp, readingId, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed, type Seed } from './random.ts';
import { MINUTE, sampleTimes } from './time.ts';

export interface StepsParams {
  /** Target mean steps a day (light steps are set so the day totals about this). */
  dailySteps: number;
  /** Steps a minute at full exercise intensity (brisk walk ≈ 110). */
  cadence?: number;
  intervalMin?: number;
  activity: ActivityParams;
  /** Seed of the patient's activity, shared with the heart rate model; default: this model's seed. */
  activitySeed?: Seed;
}

export function stepsReadings(options: GenerateOptions, params: StepsParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const intervalMin = params.intervalMin ?? 15;
  const cadence = params.cadence ?? 110;
  const a = params.activity;
  const activity = createActivity(params.activitySeed ?? deriveSeed(seed, 'activity'), timeZone, a);
  const awakeMinutes = ((a.sleepHour - a.wakeHour + 24) % 24) * 60;
  // expected bout steps: bouts × duration × mean intensity (0.7) × cadence
  const boutSteps = a.boutsPerDay * a.boutMinutes * 0.7 * cadence;
  const lightPerMinute = Math.max(0, params.dailySteps - boutSteps) / awakeMinutes;
  const sampling = { kind: 'interval', intervalMin } as const;
  // A reading at `at` counts the steps of (at − interval, at]: shift the window by one interval.
  return sampleTimes(seed, sampling, start, end, timeZone).map(({ at }) => {
    const rng = createRng(deriveSeed(seed, 'bucket', at));
    const busy = rng.uniform(0.2, 1.8); // how much the patient moves around in this interval
    let steps = 0;
    for (let m = intervalMin - 1; m >= 0; m--) {
      const t = at - m * MINUTE;
      if (activity.asleepAt(t)) continue;
      steps += lightPerMinute * busy + cadence * activity.intensityAt(t);
    }
    const value = clamp(Math.round(steps), 0, 100_000);
    return { id: readingId('steps', at), type: 'steps', at, value, unit: '{steps}' };
  });
}
