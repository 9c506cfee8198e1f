/** Shapes shared by the models: the protocol reading object and the generation options. */
import type { ReadingType } from '../../src/domain/reading-types.ts';
import type { Seed } from './random.ts';

export type GlucoseContext = 'fasting' | 'before_meal' | 'after_meal' | 'bedtime';

/** A reading object as a device publishes it (device-protocol.md, "A reading object"). */
export interface ProtocolReading {
  /** Unique per device forever: a type code and the epoch ms of `at`. */
  id: string;
  type: ReadingType;
  /** Measurement time, epoch milliseconds (whole seconds). */
  at: number;
  value?: number;
  systolic?: number;
  diastolic?: number;
  pulse?: number;
  unit: string;
  context?: GlucoseContext;
}

export interface GenerateOptions {
  seed: Seed;
  /** IANA time zone of the patient, e.g. Europe/Paris. */
  timeZone: string;
  /** Readings with start ≤ at < end are returned (epoch ms). */
  start: number;
  end: number;
  /**
   * Day 0 of the simulation, epoch ms (default `start`): episodes are placed in local
   * days from this origin, and slow drifts start from it. Keep it fixed when
   * generating one simulation in consecutive chunks.
   */
  origin?: number;
}

export function originOf(options: GenerateOptions): number {
  return options.origin ?? options.start;
}

/** A reading id: a code for the type and the measurement time (unique per device and type). */
export function readingId(code: string, at: number): string {
  return `${code}-${at}`;
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Rounds to a step, e.g. 0.1, without binary noise in the result (64.30000000000001). */
export function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

/** Local hour in the sleep period between `sleepHour` and `wakeHour` (across midnight or not). */
export function isAsleep(hour: number, wakeHour: number, sleepHour: number): boolean {
  return sleepHour > wakeHour ? hour >= sleepHour || hour < wakeHour : hour >= sleepHour && hour < wakeHour;
}
