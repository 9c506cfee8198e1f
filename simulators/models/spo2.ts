/**
 * Oxygen saturation from a pulse oximeter (`spo2`, %, integer): a baseline (lower in
 * COPD), a small dip asleep, noise, and desaturation events pulling it down to a
 * nadir. Spot checks a few times a day, or continuous (e.g. every 5 minutes) for COPD.
 */
import { clamp, isAsleep, originOf, readingId, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed } from './random.ts';
import { bump, localHour, MINUTE, resolveMoment, sampleTimes, type LocalMoment, type Sampling } from './time.ts';

export interface Desaturation {
  at: LocalMoment;
  durationMin: number;
  /** Lowest SpO2 of the event, %. */
  nadir: number;
}

export interface Spo2Params {
  baseline: number;
  /** Drop while asleep (23:00 to 07:00 by default), %. */
  sleepDip: number;
  /** SD of the noise, % (truncated at `noiseLimit` SD, default 2). */
  noiseSd: number;
  noiseLimit?: number;
  sampling: Sampling;
  wakeHour?: number;
  sleepHour?: number;
  desaturations?: readonly Desaturation[];
}

export function spo2Readings(options: GenerateOptions, params: Spo2Params): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const origin = originOf(options);
  const events = (params.desaturations ?? []).map((d) => {
    const from = resolveMoment(d.at, origin, timeZone);
    return { from, length: d.durationMin * MINUTE, nadir: d.nadir };
  });
  return sampleTimes(seed, params.sampling, start, end, timeZone).map(({ at }) => {
    const asleep = isAsleep(localHour(at, timeZone), params.wakeHour ?? 7, params.sleepHour ?? 23);
    let s = params.baseline - (asleep ? params.sleepDip : 0);
    s += createRng(deriveSeed(seed, 'noise', at)).truncatedNormal(0, params.noiseSd, params.noiseLimit ?? 2);
    for (const e of events) {
      // flat-topped: at the nadir over the middle half of the event
      const w = Math.min(1, 2 * bump((at - e.from) / e.length));
      s += w * (e.nadir - s);
    }
    const value = clamp(Math.round(s), 70, 100);
    return { id: readingId('spo2', at), type: 'spo2', at, value, unit: '%' };
  });
}
