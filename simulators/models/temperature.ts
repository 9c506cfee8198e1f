/**
 * Body temperature from a thermometer (`body_temperature`, Cel, 0.1 °C): spot checks
 * (morning and evening by default), a circadian rhythm (highest around 18:00), noise,
 * and a fever episode rising over hours, lasting days, and falling back.
 */
import { clamp, originOf, readingId, roundTo, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed } from './random.ts';
import { DAY, HOUR, localHour, resolveMoment, sampleTimes, type LocalMoment, type Sampling } from './time.ts';

export interface FeverEpisode {
  at: LocalMoment;
  days: number;
  /** Highest temperature, °C. */
  peak: number;
}

export interface TemperatureParams {
  baseline: number;
  /** Half the peak-to-trough swing of the 24 h rhythm, °C. */
  circadianAmplitude: number;
  /** SD of the noise, °C (truncated at 2.5 SD). */
  noiseSd: number;
  sampling?: Sampling;
  fever?: FeverEpisode;
}

/** Share of the fever at `t` ms into an episode of `length` ms: 6 h rise, plateau, 12 h fall. */
export function feverShare(t: number, length: number): number {
  if (t <= 0 || t >= length) return 0;
  return Math.min(1, t / (6 * HOUR), (length - t) / (12 * HOUR));
}

export function temperatureReadings(options: GenerateOptions, params: TemperatureParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const origin = originOf(options);
  const fever = params.fever;
  const feverFrom = fever ? resolveMoment(fever.at, origin, timeZone) : 0;
  const sampling = params.sampling ?? { kind: 'daily', hours: [8, 20], jitterMin: 30 };
  return sampleTimes(seed, sampling, start, end, timeZone).map(({ at }) => {
    const hour = localHour(at, timeZone);
    let c = params.baseline + params.circadianAmplitude * Math.cos((2 * Math.PI * (hour - 18)) / 24);
    if (fever) c += feverShare(at - feverFrom, fever.days * DAY) * (fever.peak - params.baseline);
    c += createRng(deriveSeed(seed, 'noise', at)).truncatedNormal(0, params.noiseSd);
    const value = clamp(roundTo(c, 0.1), 32, 43);
    return { id: readingId('temp', at), type: 'body_temperature', at, value, unit: 'Cel' };
  });
}
