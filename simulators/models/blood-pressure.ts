/**
 * Home blood pressure from a cuff (`blood_pressure`, mm[Hg], integers, with pulse):
 * one reading in the morning and one in the evening. Morning readings carry the
 * morning surge; a day-to-day variation, a per-reading noise and hypertensive episodes
 * (e.g. missed medication) add to the means.
 */
import { clamp, originOf, readingId, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed } from './random.ts';
import { DAY, localDay, resolveMoment, sampleTimes, type LocalMoment } from './time.ts';

export interface BloodPressureEpisode {
  at: LocalMoment;
  days: number;
  systolicRise: number;
  diastolicRise: number;
}

export interface BloodPressureParams {
  /** Mean evening systolic and diastolic, mm[Hg]. */
  systolic: number;
  diastolic: number;
  /** Extra systolic in the morning readings, mm[Hg]; diastolic gets 60 % of it. */
  morningSurge: number;
  /** SD of the day-to-day variation of the means, mm[Hg] (truncated at 2 SD). */
  dailySd: number;
  /** SD of the per-reading noise, mm[Hg] (truncated at 2.5 SD); diastolic gets 60 % of it. */
  readingSd: number;
  /** Mean pulse, /min. */
  pulse: number;
  /** Local hours of the two readings (default 7.5 and 21). */
  morningHour?: number;
  eveningHour?: number;
  jitterMin?: number;
  episodes?: readonly BloodPressureEpisode[];
}

export function bloodPressureReadings(options: GenerateOptions, params: BloodPressureParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const origin = originOf(options);
  const episodes = (params.episodes ?? []).map((e) => {
    const from = resolveMoment(e.at, origin, timeZone);
    return { from, to: from + e.days * DAY, e };
  });
  const sampling = {
    kind: 'daily',
    hours: [params.morningHour ?? 7.5, params.eveningHour ?? 21],
    jitterMin: params.jitterMin ?? 20,
  } as const;
  return sampleTimes(seed, sampling, start, end, timeZone).map(({ at, slot }) => {
    const day = createRng(deriveSeed(seed, 'day', localDay(at, timeZone)));
    const dayShift = day.truncatedNormal(0, params.dailySd, 2);
    const rng = createRng(deriveSeed(seed, 'reading', at));
    const surge = slot === 0 ? params.morningSurge : 0;
    let sys = params.systolic + surge + dayShift + rng.truncatedNormal(0, params.readingSd);
    let dia = params.diastolic + 0.6 * (surge + dayShift + rng.truncatedNormal(0, params.readingSd));
    for (const { from, to, e } of episodes) {
      if (at >= from && at < to) {
        sys += e.systolicRise;
        dia += e.diastolicRise;
      }
    }
    const systolic = clamp(Math.round(sys), 60, 280);
    const diastolic = clamp(Math.round(dia), 30, systolic - 15);
    const pulse = clamp(Math.round(rng.truncatedNormal(params.pulse, 5)), 35, 180);
    return { id: readingId('bp', at), type: 'blood_pressure', at, systolic, diastolic, pulse, unit: 'mm[Hg]' };
  });
}
