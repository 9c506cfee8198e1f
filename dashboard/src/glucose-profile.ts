/**
 * The ambulatory glucose profile (Battelino et al., Diabetes Care 2019;42:1593): the
 * CGM readings of the last 14 days folded onto one day in the patient's time zone;
 * for each 15-minute slot, the 5th, 25th, 50th, 75th and 95th percentiles of the
 * readings within 30 minutes either side (a one-hour window, wrapping at
 * midnight, which smooths the curves as the consensus report's AGP does).
 */
import { zoneOffsetMinutes } from './format.ts';
import type { Reading } from './types.ts';

const SLOT_S = 15 * 60;
const SLOTS = 86_400 / SLOT_S;
const HALF_WINDOW_SLOTS = 2; // ±30 min
const MIN_SAMPLES = 5;

/** Percentile with linear interpolation between closest ranks (sorted input). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 1) return sorted[0];
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface Profile {
  /** Seconds since local midnight of each slot's centre, plus 86 400 to close the day. */
  x: number[];
  p5: (number | null)[];
  p25: (number | null)[];
  p50: (number | null)[];
  p75: (number | null)[];
  p95: (number | null)[];
  days: number;
  n: number;
}

export function glucoseProfile(readings: readonly Reading[], timeZone: string): Profile {
  const perSlot: number[][] = Array.from({ length: SLOTS }, () => []);
  const offsets = new Map<number, number>();
  const days = new Set<number>();
  let n = 0;
  for (const r of readings) {
    if (r.value === undefined) continue;
    const at = Date.parse(r.at);
    const hour = Math.floor(at / 3_600_000);
    let offset = offsets.get(hour);
    if (offset === undefined) {
      offset = zoneOffsetMinutes(timeZone, hour * 3_600_000);
      offsets.set(hour, offset);
    }
    const local = at / 1000 + offset * 60;
    const secondOfDay = ((local % 86_400) + 86_400) % 86_400;
    days.add(Math.floor(local / 86_400));
    perSlot[Math.floor(secondOfDay / SLOT_S)].push(r.value);
    n++;
  }
  const out: Profile = { x: [], p5: [], p25: [], p50: [], p75: [], p95: [], days: days.size, n };
  for (let s = 0; s <= SLOTS; s++) {
    const pooled: number[] = [];
    for (let k = -HALF_WINDOW_SLOTS; k <= HALF_WINDOW_SLOTS; k++) {
      pooled.push(...perSlot[(((s + k) % SLOTS) + SLOTS) % SLOTS]);
    }
    pooled.sort((a, b) => a - b);
    const ok = pooled.length >= MIN_SAMPLES;
    out.x.push(Math.min(s * SLOT_S + (s < SLOTS ? SLOT_S / 2 : 0), 86_400));
    out.p5.push(ok ? percentile(pooled, 5) : null);
    out.p25.push(ok ? percentile(pooled, 25) : null);
    out.p50.push(ok ? percentile(pooled, 50) : null);
    out.p75.push(ok ? percentile(pooled, 75) : null);
    out.p95.push(ok ? percentile(pooled, 95) : null);
  }
  // The last point closes the day at 24:00 with the values of the first slot.
  out.x[SLOTS] = 86_400;
  return out;
}
