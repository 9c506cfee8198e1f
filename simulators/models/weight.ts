/**
 * Body weight from a scale (`body_weight`, kg, 0.1 kg): each morning after waking.
 * A baseline with a slow drift from the origin, day-to-day variation (hydration,
 * meals), and for heart failure a decompensation: fluid accumulating faster and faster
 * (cubic) to `gainKg` over `days`, held, then lost again with treatment.
 */
import { clamp, originOf, readingId, roundTo, type GenerateOptions, type ProtocolReading } from './common.ts';
import { createRng, deriveSeed } from './random.ts';
import { DAY, resolveMoment, sampleTimes, type LocalMoment } from './time.ts';

export interface Decompensation {
  at: LocalMoment;
  /** Days over which the fluid accumulates. */
  days: number;
  gainKg: number;
  /** Days the gain is kept before treatment works (default 2). */
  holdDays?: number;
  /** Days to lose it again (default 3). */
  recoveryDays?: number;
}

export interface WeightParams {
  baselineKg: number;
  /** Slow trend from the origin, kg a week (negative to lose weight). */
  driftKgPerWeek: number;
  /** SD of the day-to-day variation, kg (truncated at 2 SD). */
  dailySdKg: number;
  /** Local hour of weighing (default 7). */
  hour?: number;
  jitterMin?: number;
  decompensation?: Decompensation;
}

/** Fluid gained at `t` ms into a decompensation, kg. */
export function decompensationGain(d: Decompensation, t: number): number {
  const ramp = d.days * DAY;
  const hold = (d.holdDays ?? 2) * DAY;
  const recovery = (d.recoveryDays ?? 3) * DAY;
  if (t <= 0) return 0;
  if (t < ramp) return d.gainKg * (t / ramp) ** 3;
  if (t < ramp + hold) return d.gainKg;
  if (t < ramp + hold + recovery) return d.gainKg * (1 - (t - ramp - hold) / recovery);
  return 0;
}

export function weightReadings(options: GenerateOptions, params: WeightParams): ProtocolReading[] {
  const { seed, timeZone, start, end } = options;
  const origin = originOf(options);
  const d = params.decompensation;
  const dStart = d ? resolveMoment(d.at, origin, timeZone) : 0;
  const sampling = { kind: 'daily', hours: [params.hour ?? 7], jitterMin: params.jitterMin ?? 20 } as const;
  return sampleTimes(seed, sampling, start, end, timeZone).map(({ at }) => {
    const noise = createRng(deriveSeed(seed, 'reading', at)).truncatedNormal(0, params.dailySdKg, 2);
    const drift = (params.driftKgPerWeek * (at - origin)) / (7 * DAY);
    const fluid = d ? decompensationGain(d, at - dStart) : 0;
    const value = clamp(roundTo(params.baselineKg + drift + fluid + noise, 0.1), 1, 400);
    return { id: readingId('wt', at), type: 'body_weight', at, value, unit: 'kg' };
  });
}
