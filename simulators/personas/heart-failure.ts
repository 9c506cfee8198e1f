import { EVERY_5_MIN, SEDENTARY, SPOT_CHECKS } from './common.ts';
import type { Persona } from './persona.ts';

/** Heart failure (HFrEF on a beta-blocker): a decompensation, +2.5 kg of fluid over 3 days from day 9. */
export const HEART_FAILURE: Persona = {
  key: 'heart_failure',
  description:
    'Heart failure patient weighing each morning; fluid retention of +2.5 kg over 3 days from day 9 (06:00), treated from day 14.',
  periodDays: 21,
  thresholds: {},
  devices: [
    {
      suffix: 'scale',
      kind: 'bathroom scale',
      models: [
        {
          type: 'body_weight',
          params: {
            baselineKg: 82,
            driftKgPerWeek: -0.05,
            dailySdKg: 0.15,
            decompensation: { at: { day: 9, hour: 6 }, days: 3, gainKg: 2.5, holdDays: 2, recoveryDays: 4 },
          },
        },
      ],
    },
    {
      suffix: 'cuff',
      kind: 'blood pressure monitor',
      models: [
        {
          type: 'blood_pressure',
          params: { systolic: 118, diastolic: 72, morningSurge: 8, dailySd: 4, readingSd: 5, pulse: 66 },
        },
      ],
    },
    {
      suffix: 'oxi',
      kind: 'finger pulse oximeter',
      models: [{ type: 'spo2', params: { baseline: 96, sleepDip: 1, noiseSd: 0.8, sampling: SPOT_CHECKS } }],
    },
    {
      suffix: 'watch',
      kind: 'wrist wearable',
      models: [
        {
          type: 'heart_rate',
          params: {
            mean: 66,
            circadianAmplitude: 4,
            sleepDip: 6,
            activityBoost: 18,
            driftSd: 2,
            noiseSd: 2,
            intervalMin: 5,
            activity: SEDENTARY,
          },
        },
        { type: 'steps', params: { dailySteps: 3500, activity: SEDENTARY, cadence: 80 } },
        {
          type: 'respiratory_rate',
          params: { mean: 17, sleepDip: 1.5, driftSd: 1, noiseSd: 1, sampling: EVERY_5_MIN },
        },
      ],
    },
  ],
  expectedAlerts: ['weight_gain'],
};
