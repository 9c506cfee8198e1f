/**
 * Respiratory rate (`respiratory_rate`, /min, integer) from a wearable or a bed sensor:
 * a mean (higher in COPD), lower asleep, slow drift and noise, and an exacerbation
 * raising it over days.
 */
import { clamp, isAsleep, originOf, readingId, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed, smoothNoise } from './random.ts';
import { DAY, HOUR, localHour, resolveMoment, sampleTimes, type LocalMoment, type Sampling } from './time.ts';

export interface RespiratoryRateParams {
  mean: number;
  sleepDip: number;
  driftSd: number;
  noiseSd: number;
  sampling: Sampling;
  wakeHour?: number;
  sleepHour?: number;
  exacerbation?: { at: LocalMoment; days: number; rise: number };
}

export function respiratoryRateReadings(options: GenerateOptions, params: RespiratoryRateParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const origin = originOf(options);
  const ex = params.exacerbation;
  const exFrom = ex ? resolveMoment(ex.at, origin, timeZone) : 0;
  return sampleTimes(seed, params.sampling, start, end, timeZone).map(({ at }) => {
    const asleep = isAsleep(localHour(at, timeZone), params.wakeHour ?? 7, params.sleepHour ?? 23);
    let r = params.mean - (asleep ? params.sleepDip : 0);
    r += params.driftSd * smoothNoise(deriveSeed(seed, 'drift'), at, 4 * HOUR);
    r += createRng(deriveSeed(seed, 'noise', at)).truncatedNormal(0, params.noiseSd);
    if (ex) {
      const t = (at - exFrom) / (ex.days * DAY);
      if (t > 0 && t < 1) r += ex.rise * Math.sin(Math.PI * t);
    }
    const value = clamp(Math.round(r), 6, 60);
    return { id: readingId('rr', at), type: 'respiratory_rate', at, value, unit: '/min' };
  });
}
