/**
 * Physical activity of a patient over the day, shared by the heart rate and steps
 * models (give both the same `activitySeed` so the heart rate rises when the steps do).
 * Awake from `wakeHour` to `sleepHour` (local); exercise bouts at random waking times.
 */
import { createRng, deriveSeed, type Seed } from './random.ts';
import { isAsleep } from './common.ts';
import { localDay, localHour, localTimeToEpoch, MINUTE } from './time.ts';

export interface ActivityParams {
  /** Local hour of waking up, e.g. 7. */
  wakeHour: number;
  /** Local hour of going to sleep, e.g. 23. */
  sleepHour: number;
  /** Mean number of exercise bouts a day (walks, stairs, sport). */
  boutsPerDay: number;
  /** Mean duration of a bout, minutes. */
  boutMinutes: number;
}

interface Bout {
  start: number;
  end: number;
  /** 0..1. */
  intensity: number;
}

export interface Activity {
  /** Exercise intensity at `at`, 0 (rest) to 1 (brisk walk or more). */
  intensityAt(at: number): number;
  asleepAt(at: number): boolean;
}

/** The activity of one patient; memoises the bouts of each local day. */
export function createActivity(seed: Seed, timeZone: string, params: ActivityParams): Activity {
  const days = new Map<number, Bout[]>();
  const awakeHours = (params.sleepHour - params.wakeHour + 24) % 24;
  const boutsOf = (day: number): Bout[] => {
    let bouts = days.get(day);
    if (!bouts) {
      const rng = createRng(deriveSeed(seed, 'bouts', day));
      const count = Math.max(0, Math.round(params.boutsPerDay + rng.uniform(-1, 1)));
      bouts = [];
      for (let i = 0; i < count; i++) {
        const hour = params.wakeHour + 0.5 + rng.next() * Math.max(0, awakeHours - 1.5);
        const start = localTimeToEpoch(day, hour % 24, timeZone) + (hour >= 24 ? 24 * 60 * MINUTE : 0);
        const minutes = params.boutMinutes * rng.uniform(0.5, 1.5);
        bouts.push({ start, end: start + minutes * MINUTE, intensity: rng.uniform(0.4, 1) });
      }
      days.set(day, bouts);
    }
    return bouts;
  };
  return {
    intensityAt(at) {
      const day = localDay(at, timeZone);
      let intensity = 0;
      for (const d of [day - 1, day]) {
        for (const b of boutsOf(d)) if (at >= b.start && at < b.end) intensity = Math.max(intensity, b.intensity);
      }
      return intensity;
    },
    asleepAt: (at) => isAsleep(localHour(at, timeZone), params.wakeHour, params.sleepHour),
  };
}
