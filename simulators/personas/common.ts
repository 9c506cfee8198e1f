/** Building blocks shared by the personas. */
import type { ActivityParams } from '../models/activity.ts';
import type { Meal } from '../models/glucose.ts';
import type { Sampling } from '../models/time.ts';

export const ACTIVE: ActivityParams = { wakeHour: 7, sleepHour: 23, boutsPerDay: 3, boutMinutes: 30 };
export const SEDENTARY: ActivityParams = { wakeHour: 7.5, sleepHour: 22.5, boutsPerDay: 1.5, boutMinutes: 20 };

export const MEALS: readonly Meal[] = [
  { hour: 7.5, carbs: 45 },
  { hour: 12.5, carbs: 70 },
  { hour: 19.5, carbs: 80 },
];

export const SPOT_CHECKS: Sampling = { kind: 'daily', hours: [8, 20], jitterMin: 30 };
export const EVERY_5_MIN: Sampling = { kind: 'interval', intervalMin: 5 };
export const EVERY_15_MIN: Sampling = { kind: 'interval', intervalMin: 15 };
