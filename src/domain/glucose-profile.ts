/**
 * The ambulatory glucose profile and the daily glucose profiles (Battelino et al.,
 * Diabetes Care 2019;42:1593; the AGP report of the International Diabetes Center),
 * pure: CGM readings in, curves out, in the patient's time zone. The dashboard's
 * patient page and the glucose report (README, "Glucose report (AGP)") draw these.
 *
 * AGP: the readings folded onto one day; for each 15-minute slot, the 5th, 25th,
 * 50th, 75th and 95th percentiles of the readings within 30 minutes either side (a
 * one-hour window, wrapping at midnight, which smooths the curves as the consensus
 * report's AGP does); a slot with fewer than five readings has none.
 *
 * Which readings: those of the window of the CGM indicators, `from` < at ≤ `to`
 * (indicators.md), so that the profile counts the readings the time in ranges counts.
 */
import { inWindow } from './indicators/window.ts';
import { addDays, localDate, wallClockMs } from './indicators/local-day.ts';

export const AGP_SLOT_S = 15 * 60;
const SLOTS = 86_400 / AGP_SLOT_S;
const HALF_WINDOW_SLOTS = 2; // ±30 min
const MIN_SAMPLES = 5;
const HOUR_MS = 3_600_000;
/** A daily profile's line breaks where consecutive readings are more than this apart. */
export const DAILY_GAP_MS = 30 * 60_000;

/** One CGM reading: epoch ms and mg/dL. */
export interface GlucosePoint {
  at: number;
  value: number;
}

/** Percentile with linear interpolation between closest ranks (sorted input, at least one value). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 1) return sorted[0];
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface GlucoseProfile {
  /** Seconds since local midnight of each slot's centre, plus 86 400 to close the day. */
  x: number[];
  p5: (number | null)[];
  p25: (number | null)[];
  p50: (number | null)[];
  p75: (number | null)[];
  p95: (number | null)[];
  /** Patient-local calendar days with at least one reading. */
  days: number;
  /** Readings behind the profile. */
  n: number;
}

/**
 * Local wall-clock time of an instant, as ms since the epoch read as UTC. The zone's
 * offset is looked up once per UTC hour (offsets change on the hour in every zone
 * this service has met): 4,032 readings cost 337 look-ups, not 4,032.
 */
function localClock(timeZone: string): (at: number) => number {
  const offsets = new Map<number, number>();
  return (at) => {
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    let offset = offsets.get(hour);
    if (offset === undefined) {
      offset = wallClockMs(hour, timeZone) - hour;
      offsets.set(hour, offset);
    }
    return at + offset;
  };
}

/**
 * The AGP of `points`; with `window`, only the points with `from` < at ≤ `to` (the
 * window of the indicators it stands beside).
 */
export function glucoseProfile(
  points: readonly GlucosePoint[],
  timeZone: string,
  window?: { from: number; to: number },
): GlucoseProfile {
  const perSlot: number[][] = Array.from({ length: SLOTS }, () => []);
  const local = localClock(timeZone);
  const days = new Set<number>();
  let n = 0;
  for (const p of points) {
    if (window && !inWindow(p.at, window.from, window.to)) continue;
    const localMs = local(p.at);
    const secondOfDay = (((localMs / 1000) % 86_400) + 86_400) % 86_400;
    days.add(Math.floor(localMs / 86_400_000));
    perSlot[Math.floor(secondOfDay / AGP_SLOT_S)].push(p.value);
    n++;
  }
  const out: GlucoseProfile = { x: [], p5: [], p25: [], p50: [], p75: [], p95: [], days: days.size, n };
  for (let s = 0; s <= SLOTS; s++) {
    const pooled: number[] = [];
    for (let k = -HALF_WINDOW_SLOTS; k <= HALF_WINDOW_SLOTS; k++) {
      pooled.push(...perSlot[(((s + k) % SLOTS) + SLOTS) % SLOTS]);
    }
    pooled.sort((a, b) => a - b);
    const ok = pooled.length >= MIN_SAMPLES;
    out.x.push(s < SLOTS ? s * AGP_SLOT_S + AGP_SLOT_S / 2 : 86_400);
    out.p5.push(ok ? percentile(pooled, 5) : null);
    out.p25.push(ok ? percentile(pooled, 25) : null);
    out.p50.push(ok ? percentile(pooled, 50) : null);
    out.p75.push(ok ? percentile(pooled, 75) : null);
    out.p95.push(ok ? percentile(pooled, 95) : null);
  }
  // The last point closes the day at 24:00 with the values of the first slot.
  return out;
}

/** One patient-local calendar day of readings, as the AGP report's daily profiles draw it. */
export interface DailyProfile {
  /** YYYY-MM-DD in the patient's time zone. */
  date: string;
  /** Readings of the day, oldest first. */
  n: number;
  /**
   * Lines to draw: runs of [seconds since local midnight (wall clock), mg/dL], a new
   * run where readings are more than DAILY_GAP_MS apart. In the hour repeated when
   * summer time ends, the two hours overlap on the clock, as on the patient's watch.
   */
  runs: [number, number][][];
}

/**
 * The daily profiles of the `days` local calendar days ending with the day of `to`
 * (the last one ends at `to`), from the points inside (`to` − `windowMs`, `to`].
 * A day of the list before the window's first reading has no runs.
 */
export function dailyProfiles(
  points: readonly GlucosePoint[],
  timeZone: string,
  to: number,
  windowMs: number,
  days = 14,
): DailyProfile[] {
  const last = localDate(to, timeZone);
  const dates = Array.from({ length: days }, (_, i) => addDays(last, i - days + 1));
  const byDate = new Map<string, GlucosePoint[]>(dates.map((d) => [d, []]));
  const local = localClock(timeZone);
  for (const p of points) {
    if (!inWindow(p.at, to - windowMs, to)) continue;
    byDate.get(new Date(local(p.at)).toISOString().slice(0, 10))?.push(p);
  }
  return dates.map((date) => {
    const day = [...byDate.get(date)!].sort((a, b) => a.at - b.at);
    const runs: [number, number][][] = [];
    let previous: GlucosePoint | undefined;
    for (const p of day) {
      const second = (((local(p.at) / 1000) % 86_400) + 86_400) % 86_400;
      if (!previous || p.at - previous.at > DAILY_GAP_MS) runs.push([]);
      runs[runs.length - 1].push([second, p.value]);
      previous = p;
    }
    return { date, n: day.length, runs };
  });
}
