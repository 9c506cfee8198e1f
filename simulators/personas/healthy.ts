import { ACTIVE, EVERY_15_MIN, MEALS, SPOT_CHECKS } from './common.ts';
import type { Persona } from './persona.ts';

/** A healthy adult wearing every device: the control persona, which raises no alert. */
export const HEALTHY: Persona = {
  key: 'healthy',
  description: 'Healthy active adult with a wellness CGM, a wearable, a cuff, a scale, an oximeter and a thermometer.',
  periodDays: 14,
  thresholds: {},
  devices: [
    {
      suffix: 'cgm',
      kind: 'continuous glucose monitor',
      models: [
        {
          type: 'cgm_glucose',
          params: {
            basal: 92,
            dawnRise: 8,
            meals: MEALS,
            mealJitterMin: 40,
            carbsSd: 0.2,
            mgdlPerGram: 1.1,
            insulinCoverage: 0.55,
            coverageSd: 0.05,
            driftSd: 5,
            sensorNoiseSd: 3,
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
            mean: 68,
            circadianAmplitude: 5,
            sleepDip: 7,
            activityBoost: 35,
            driftSd: 2,
            noiseSd: 2,
            activity: ACTIVE,
          },
        },
        { type: 'steps', params: { dailySteps: 9000, activity: ACTIVE } },
        {
          type: 'respiratory_rate',
          params: { mean: 14, sleepDip: 1.5, driftSd: 0.8, noiseSd: 0.8, sampling: EVERY_15_MIN },
        },
      ],
    },
    {
      suffix: 'cuff',
      kind: 'blood pressure monitor',
      models: [
        {
          type: 'blood_pressure',
          params: { systolic: 116, diastolic: 74, morningSurge: 6, dailySd: 4, readingSd: 5, pulse: 64 },
        },
      ],
    },
    {
      suffix: 'scale',
      kind: 'bathroom scale',
      models: [{ type: 'body_weight', params: { baselineKg: 70, driftKgPerWeek: 0, dailySdKg: 0.3 } }],
    },
    {
      suffix: 'oxi',
      kind: 'finger pulse oximeter',
      models: [{ type: 'spo2', params: { baseline: 97.5, sleepDip: 1, noiseSd: 0.8, sampling: SPOT_CHECKS } }],
    },
    {
      suffix: 'thermo',
      kind: 'thermometer',
      models: [{ type: 'body_temperature', params: { baseline: 36.6, circadianAmplitude: 0.25, noiseSd: 0.1 } }],
    },
  ],
  expectedAlerts: [],
};
