import { ACTIVE, SPOT_CHECKS } from './common.ts';
import type { Persona } from './persona.ts';

/** Treated hypertension, poorly controlled; two days without medication from day 8. */
export const HYPERTENSION: Persona = {
  key: 'hypertension',
  description:
    'Hypertensive patient (about 145/88 at home, morning surge) who misses medication on days 8 and 9 (readings ≥ 180/110).',
  periodDays: 14,
  thresholds: {},
  devices: [
    {
      suffix: 'cuff',
      kind: 'blood pressure monitor',
      models: [
        {
          type: 'blood_pressure',
          params: {
            systolic: 142,
            diastolic: 86,
            morningSurge: 12,
            dailySd: 4,
            readingSd: 5,
            pulse: 74,
            episodes: [{ at: { day: 8, hour: 0 }, days: 2, systolicRise: 38, diastolicRise: 20 }],
          },
        },
      ],
    },
    {
      suffix: 'scale',
      kind: 'bathroom scale',
      models: [{ type: 'body_weight', params: { baselineKg: 91, driftKgPerWeek: 0.1, dailySdKg: 0.3 } }],
    },
    {
      suffix: 'watch',
      kind: 'wrist wearable',
      models: [
        {
          type: 'heart_rate',
          params: {
            mean: 74,
            circadianAmplitude: 5,
            sleepDip: 8,
            activityBoost: 25,
            driftSd: 2,
            noiseSd: 2,
            activity: ACTIVE,
          },
        },
        { type: 'steps', params: { dailySteps: 6000, activity: ACTIVE } },
        { type: 'spo2', params: { baseline: 97, sleepDip: 1, noiseSd: 0.8, sampling: SPOT_CHECKS } },
      ],
    },
  ],
  expectedAlerts: ['bp_high'],
};
