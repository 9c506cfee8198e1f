import { ACTIVE, EVERY_15_MIN, MEALS } from './common.ts';
import type { Persona } from './persona.ts';
import type { GlucoseParams } from '../models/glucose.ts';

/** Type 1 diabetes: large meal-to-meal variability of the boluses. */
const glucose: GlucoseParams = {
  basal: 160,
  dawnRise: 25,
  meals: MEALS,
  mealJitterMin: 40,
  carbsSd: 0.25,
  mgdlPerGram: 3,
  insulinCoverage: 0.8,
  coverageSd: 0.2,
  driftSd: 15,
  episodes: [
    // nocturnal hypoglycaemia (basal insulin too high after evening exercise)
    { at: { day: 4, hour: 2.5 }, durationMin: 80, target: 45 },
    // missed lunch bolus
    { at: { day: 9, hour: 12.75 }, durationMin: 240, target: 310 },
  ],
};

export const TYPE1_DIABETES: Persona = {
  key: 'type1_diabetes',
  description:
    'Adult with type 1 diabetes on a CGM and a meter, one nocturnal hypoglycaemia (day 4) and one missed bolus (day 9).',
  periodDays: 14,
  thresholds: {},
  devices: [
    {
      suffix: 'cgm',
      kind: 'continuous glucose monitor',
      models: [{ type: 'cgm_glucose', params: { ...glucose, sensorNoiseSd: 4 } }],
    },
    {
      suffix: 'meter',
      kind: 'blood glucose meter',
      models: [
        {
          type: 'blood_glucose',
          params: {
            ...glucose,
            checks: [
              { context: 'fasting', hour: 7 },
              { context: 'before_meal', meal: 1 },
              { context: 'before_meal', meal: 2 },
              { context: 'bedtime', hour: 22.5 },
            ],
          },
        },
      ],
    },
    {
      suffix: 'watch',
      kind: 'wrist wearable',
      models: [
        {
          type: 'heart_rate',
          params: {
            mean: 72,
            circadianAmplitude: 5,
            sleepDip: 8,
            activityBoost: 30,
            driftSd: 2,
            noiseSd: 2,
            activity: ACTIVE,
          },
        },
        { type: 'steps', params: { dailySteps: 8000, activity: ACTIVE, intervalMin: 15 } },
      ],
    },
    {
      suffix: 'thermo',
      kind: 'thermometer',
      models: [{ type: 'body_temperature', params: { baseline: 36.6, circadianAmplitude: 0.25, noiseSd: 0.1 } }],
    },
    {
      suffix: 'resp',
      kind: 'bed sensor',
      models: [
        {
          type: 'respiratory_rate',
          params: { mean: 14, sleepDip: 1.5, driftSd: 0.8, noiseSd: 0.8, sampling: EVERY_15_MIN },
        },
      ],
    },
  ],
  expectedAlerts: ['hypoglycemia', 'hyperglycemia'],
};
