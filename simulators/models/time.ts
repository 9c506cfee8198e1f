/**
 * Patient-local time for the simulators, with Intl only (no clock): local hour of
 * day, local calendar days, and the instants of local wall-clock times, DST included.
 */
import { wallClockMs } from '../../src/domain/indicators/local-day.ts';
import { createRng, deriveSeed, type Seed } from './random.ts';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The local wall-clock time of `at` read as if it were UTC, epoch ms. */
function wallClock(at: number, timeZone: string): number {
  return wallClockMs(at, timeZone);
}

/** Offset of the time zone from UTC at `at`, ms (e.g. 3 600 000 for Paris in winter). */
export function offsetMs(at: number, timeZone: string): number {
  return wallClock(at, timeZone) - at;
}

/** Local hour of day of `at`, fractional, in [0, 24). */
export function localHour(at: number, timeZone: string): number {
  const wall = wallClock(at, timeZone);
  return (((wall % DAY) + DAY) % DAY) / HOUR;
}

/** The local calendar day of `at`, as a day number (days since 1970-01-01). */
export function localDay(at: number, timeZone: string): number {
  return Math.floor(wallClock(at, timeZone) / DAY);
}

/**
 * The instant at which the local clock shows `hour` (fractional) on local day `day`.
 * In the spring-forward gap the clock time does not exist: the instant returned is
 * the one an hour later, as a device clock would do.
 */
export function localTimeToEpoch(day: number, hour: number, timeZone: string): number {
  const wall = day * DAY + Math.round(hour * HOUR);
  const guess = wall - offsetMs(wall, timeZone);
  return wall - offsetMs(guess, timeZone);
}

/** A moment given in patient-local terms: `day` counts local days from the origin's local day. */
export interface LocalMoment {
  day: number;
  /** Local hour of day, fractional (7.5 is 07:30). */
  hour: number;
}

export function resolveMoment(moment: LocalMoment, origin: number, timeZone: string): number {
  return localTimeToEpoch(localDay(origin, timeZone) + moment.day, moment.hour, timeZone);
}

/** Local days whose events may fall in [start, end), with a day of margin on each side. */
export function localDaysCovering(start: number, end: number, timeZone: string): number[] {
  const days: number[] = [];
  for (let d = localDay(start, timeZone) - 1; d <= localDay(end, timeZone) + 1; d++) days.push(d);
  return days;
}

/** How a device samples. */
export type Sampling =
  /** Continuous: every `intervalMin` minutes on a fixed grid (phase from the seed). */
  | { kind: 'interval'; intervalMin: number }
  /** Spot checks at local hours of day, each moved by up to ± `jitterMin` minutes. */
  | { kind: 'daily'; hours: readonly number[]; jitterMin: number };

export interface SampleTime {
  at: number;
  /** Index of the scheduled hour for daily sampling; 0 for interval sampling. */
  slot: number;
}

/** Instants of a grid `phase + k × interval` inside [start, end). */
export function gridTimes(start: number, end: number, intervalMs: number, phaseMs: number): number[] {
  const times: number[] = [];
  let k = Math.ceil((start - phaseMs) / intervalMs);
  for (let at = phaseMs + k * intervalMs; at < end; at = phaseMs + ++k * intervalMs) times.push(at);
  return times;
}

/** The sample instants of a device in [start, end), whole seconds, strictly increasing. */
export function sampleTimes(
  seed: Seed,
  sampling: Sampling,
  start: number,
  end: number,
  timeZone: string,
): SampleTime[] {
  if (sampling.kind === 'interval') {
    const intervalMs = Math.round(sampling.intervalMin * MINUTE);
    const phase = createRng(deriveSeed(seed, 'phase')).int(0, Math.floor(intervalMs / SECOND) - 1) * SECOND;
    return gridTimes(start, end, intervalMs, phase).map((at) => ({ at, slot: 0 }));
  }
  const out: SampleTime[] = [];
  for (const day of localDaysCovering(start, end, timeZone)) {
    sampling.hours.forEach((hour, slot) => {
      const jitter = createRng(deriveSeed(seed, 'slot', day, slot)).uniform(-1, 1) * sampling.jitterMin * MINUTE;
      const at = Math.round((localTimeToEpoch(day, hour, timeZone) + jitter) / SECOND) * SECOND;
      if (at >= start && at < end) out.push({ at, slot });
    });
  }
  return strictlyIncreasing(out);
}

/** Sorts by time and moves any instant equal to or before its predecessor one second later. */
export function strictlyIncreasing<T extends { at: number }>(items: T[]): T[] {
  items.sort((a, b) => a.at - b.at);
  for (let i = 1; i < items.length; i++) {
    if (items[i].at <= items[i - 1].at) items[i] = { ...items[i], at: items[i - 1].at + SECOND };
  }
  return items;
}

/** A smooth bump over [0, 1]: 0 at both ends, 1 in the middle. */
export function bump(u: number): number {
  return u <= 0 || u >= 1 ? 0 : Math.sin(Math.PI * u) ** 2;
}
