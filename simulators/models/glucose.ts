/**
 * The blood glucose of a patient over time, shared by the CGM and meter models (give
 * both the same `glucoseSeed` so the meter agrees with the sensor). Basal level with a
 * dawn rise, meals (carbohydrate absorption peaking after about an hour) answered by
 * insulin (peaking later, so a bolus that is too large ends in a dip and one too small
 * in a high), slow drift, and explicit hypo- or hyperglycaemic episodes that pull the
 * glucose towards a target level.
 */
import { originOf, type GenerateOptions } from './common.ts';
import { createRng, deriveSeed, smoothNoise, type Seed } from './random.ts';
import { HOUR, MINUTE, localDay, localHour, localTimeToEpoch, resolveMoment, type LocalMoment } from './time.ts';

export interface Meal {
  /** Local hour of the meal. */
  hour: number;
  /** Carbohydrates, g. */
  carbs: number;
}

export interface GlucoseEpisode {
  at: LocalMoment;
  durationMin: number;
  /** The level the glucose is pulled to at the middle of the episode, mg/dL. */
  target: number;
}

export interface GlucoseParams {
  /** Basal (fasting) mean, mg/dL. */
  basal: number;
  /** Extra glucose around 06:00 (dawn phenomenon), mg/dL. */
  dawnRise: number;
  meals: readonly Meal[];
  mealJitterMin: number;
  /** SD of the meal sizes, as a fraction of the carbs. */
  carbsSd: number;
  /** Peak rise per gram of carbohydrate without insulin, mg/dL. */
  mgdlPerGram: number;
  /** Fraction of the meal's rise the insulin answers (endogenous or bolus), mean. */
  insulinCoverage: number;
  /** SD of the coverage from meal to meal (large for type 1 diabetes). */
  coverageSd: number;
  /** SD of the slow drift (hours), mg/dL. */
  driftSd: number;
  episodes?: readonly GlucoseEpisode[];
  /** Seed of the patient's glucose, shared by CGM and meter; default: the model's seed. */
  glucoseSeed?: Seed;
}

export interface MealEvent {
  at: number;
  carbs: number;
  coverage: number;
}

export interface Glucose {
  /** True glucose at `at`, mg/dL (not rounded, not clamped). */
  at(at: number): number;
  /** The meals of a local day, in the order of `params.meals`. */
  mealsOf(day: number): MealEvent[];
}

const CARB_PEAK_MIN = 55;
const INSULIN_PEAK_MIN = 75;
const EFFECT_HORIZON = 8 * HOUR;

/** Gamma-like absorption curve, 1 at the peak. */
function curve(t: number, peakMin: number): number {
  if (t <= 0) return 0;
  const x = t / (peakMin * MINUTE);
  return x * Math.exp(1 - x);
}

export function createGlucose(options: GenerateOptions, params: GlucoseParams): Glucose {
  const { timeZone } = options;
  const seed = params.glucoseSeed ?? deriveSeed(options.seed, 'glucose');
  const origin = originOf(options);
  const episodes = (params.episodes ?? []).map((e) => {
    const from = resolveMoment(e.at, origin, timeZone);
    return { from, to: from + e.durationMin * MINUTE, target: e.target };
  });
  const days = new Map<number, MealEvent[]>();
  const mealsOf = (day: number): MealEvent[] => {
    let meals = days.get(day);
    if (!meals) {
      const rng = createRng(deriveSeed(seed, 'meals', day));
      meals = params.meals.map((m) => ({
        at: localTimeToEpoch(day, m.hour, timeZone) + rng.uniform(-1, 1) * params.mealJitterMin * MINUTE,
        carbs: Math.max(0, rng.truncatedNormal(m.carbs, m.carbs * params.carbsSd, 2)),
        coverage: Math.max(0, rng.truncatedNormal(params.insulinCoverage, params.coverageSd, 2)),
      }));
      days.set(day, meals);
    }
    return meals;
  };
  return {
    mealsOf,
    at(at) {
      const hour = localHour(at, timeZone);
      let g = params.basal + params.dawnRise * Math.exp(-(((hour - 6) / 1.5) ** 2));
      const day = localDay(at, timeZone);
      for (const d of [day - 1, day]) {
        for (const m of mealsOf(d)) {
          const t = at - m.at;
          if (t <= 0 || t > EFFECT_HORIZON) continue;
          const rise = params.mgdlPerGram * m.carbs;
          g += rise * (curve(t, CARB_PEAK_MIN) - m.coverage * curve(t, INSULIN_PEAK_MIN));
        }
      }
      g += params.driftSd * smoothNoise(deriveSeed(seed, 'drift'), at, 3 * HOUR);
      for (const e of episodes) {
        if (at > e.from && at < e.to) {
          const w = Math.sin((Math.PI * (at - e.from)) / (e.to - e.from)) ** 2;
          // flat-topped pull: full strength over the middle half of the episode
          g += Math.min(1, 2 * w) * (e.target - g);
        }
      }
      return g;
    },
  };
}
