/**
 * Heart rate from a wearable (`heart_rate`, /min, integer): a circadian rhythm (lowest
 * in the early morning, highest in the afternoon), a dip while asleep, rises with
 * exercise, slow drift and beat-to-beat noise. Every `intervalMin` minutes (5 by default).
 */
import { createActivity, type ActivityParams } from './activity.ts';
import { clamp, readingId, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed, smoothNoise, type Seed } from './random.ts';
import { HOUR, localHour, sampleTimes } from './time.ts';

export interface HeartRateParams {
  /** Mean resting heart rate while awake, /min. */
  mean: number;
  /** Half the peak-to-trough swing of the 24 h rhythm (peak at 15:00, trough at 03:00), /min. */
  circadianAmplitude: number;
  /** Extra drop while asleep, /min. */
  sleepDip: number;
  /** Rise at full exercise intensity, /min. */
  activityBoost: number;
  /** SD of the slow drift (hours), /min. */
  driftSd: number;
  /** SD of the reading-to-reading noise, /min (truncated at 2.5 SD). */
  noiseSd: number;
  intervalMin?: number;
  activity: ActivityParams;
  /** Seed of the patient's activity, shared with the steps model; default: this model's seed. */
  activitySeed?: Seed;
}

export const HEART_RATE_RANGE = { min: 20, max: 300 };

export function heartRateReadings(options: GenerateOptions, params: HeartRateParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const activity = createActivity(params.activitySeed ?? deriveSeed(seed, 'activity'), timeZone, params.activity);
  const sampling = { kind: 'interval', intervalMin: params.intervalMin ?? 5 } as const;
  return sampleTimes(seed, sampling, start, end, timeZone).map(({ at }) => {
    const hour = localHour(at, timeZone);
    const circadian = params.circadianAmplitude * Math.cos((2 * Math.PI * (hour - 15)) / 24);
    const sleep = activity.asleepAt(at) ? -params.sleepDip : 0;
    const exercise = params.activityBoost * activity.intensityAt(at);
    const drift = params.driftSd * smoothNoise(deriveSeed(seed, 'drift'), at, 2 * HOUR);
    const noise = createRng(deriveSeed(seed, 'noise', at)).truncatedNormal(0, params.noiseSd);
    const value = clamp(Math.round(params.mean + circadian + sleep + exercise + drift + noise), 30, 220);
    return { id: readingId('hr', at), type: 'heart_rate', at, value, unit: '/min' };
  });
}
