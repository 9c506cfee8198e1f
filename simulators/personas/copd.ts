import { EVERY_5_MIN, SEDENTARY, SPOT_CHECKS } from './common.ts';
import type { Persona } from './persona.ts';

/** COPD with chronic hypoxaemia: SpO2 around 92 % on a continuous oximeter, threshold set to 88 %. */
export const COPD: Persona = {
  key: 'copd',
  description:
    'COPD patient with a low baseline SpO2 (target 88-92 %, spo2_low threshold 88 %), two desaturations (days 5 and 10).',
  periodDays: 14,
  thresholds: { spo2_low: 88 },
  devices: [
    {
      suffix: 'oxi',
      kind: 'wrist pulse oximeter (continuous)',
      models: [
        {
          type: 'spo2',
          params: {
            baseline: 92,
            sleepDip: 1,
            noiseSd: 0.6,
            noiseLimit: 2,
            sampling: EVERY_5_MIN,
            desaturations: [
              { at: { day: 5, hour: 15 }, durationMin: 90, nadir: 84 },
              { at: { day: 10, hour: 3 }, durationMin: 60, nadir: 86 },
            ],
          },
        },
        {
          type: 'respiratory_rate',
          params: {
            mean: 20,
            sleepDip: 2,
            driftSd: 1,
            noiseSd: 1,
            sampling: EVERY_5_MIN,
            exacerbation: { at: { day: 9, hour: 18 }, days: 3, rise: 5 },
          },
        },
        {
          type: 'heart_rate',
          params: {
            mean: 80,
            circadianAmplitude: 4,
            sleepDip: 6,
            activityBoost: 16,
            driftSd: 2,
            noiseSd: 2,
            activity: SEDENTARY,
          },
        },
      ],
    },
    {
      suffix: 'thermo',
      kind: 'thermometer',
      models: [
        {
          type: 'body_temperature',
          params: { baseline: 36.7, circadianAmplitude: 0.25, noiseSd: 0.1, sampling: SPOT_CHECKS },
        },
      ],
    },
    {
      suffix: 'scale',
      kind: 'bathroom scale',
      models: [{ type: 'body_weight', params: { baselineKg: 64, driftKgPerWeek: -0.1, dailySdKg: 0.25 } }],
    },
  ],
  expectedAlerts: ['spo2_low'],
};
