/**
 * Continuous glucose monitor (`cgm_glucose`, mg/dL, integer): the patient's glucose
 * every 5 minutes, with sensor error (a slow calibration drift and noise), reported
 * within the sensor's range of 40 to 400 mg/dL.
 */
import { clamp, readingId, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createGlucose, type GlucoseParams } from './glucose.ts';
import { createRng, deriveSeed, smoothNoise } from './random.ts';
import { HOUR, sampleTimes } from './time.ts';

export interface CgmParams extends GlucoseParams {
  /** SD of the sensor noise, mg/dL (truncated at 2.5 SD). */
  sensorNoiseSd?: number;
  /** SD of the slow sensor drift, as a fraction of the value. */
  sensorDriftSd?: number;
  intervalMin?: number;
}

export const CGM_REPORTED_RANGE = { min: 40, max: 400 };

export function cgmReadings(options: GenerateOptions, params: CgmParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const glucose = createGlucose(options, params);
  const sampling = { kind: 'interval', intervalMin: params.intervalMin ?? 5 } as const;
  return sampleTimes(seed, sampling, start, end, timeZone).map(({ at }) => {
    const drift = 1 + (params.sensorDriftSd ?? 0.02) * smoothNoise(deriveSeed(seed, 'sensor'), at, 12 * HOUR);
    const noise = createRng(deriveSeed(seed, 'noise', at)).truncatedNormal(0, params.sensorNoiseSd ?? 3);
    const value = clamp(Math.round(glucose.at(at) * drift + noise), CGM_REPORTED_RANGE.min, CGM_REPORTED_RANGE.max);
    return { id: readingId('cgm', at), type: 'cgm_glucose', at, value, unit: 'mg/dL' };
  });
}
