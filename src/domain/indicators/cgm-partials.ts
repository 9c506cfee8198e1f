/**
 * The CGM indicators of cgm.ts from partial aggregates instead of the readings of
 * 14 days (architecture.md, decision 6: a run's cost must not grow with history).
 *
 * A partial covers one device's `cgm_glucose` readings of one UTC hour: count, sum,
 * sum of squared deviations from its own mean (m2), the counts in the ranges of
 * Battelino 2019, its first and last reading time and the positive gaps between its
 * consecutive readings. The window (`to` − 14 d, `to`] is the stored partials of the
 * whole hours strictly inside it plus partials built here from the raw readings of
 * the two edge hours (the hours of `from` and of `to`), so that the result is the
 * one cgmIndicators computes from all the readings:
 *   - the counts, hence n and every percentage and sensor_active, are exact;
 *   - the mean is Σ sums / n and the SD combines the m2 of the parts (Chan, Golub and
 *     LeVeque's parallel formula): equal to the two-pass values up to floating-point
 *     rounding (relative 1e-12 in the tests), not bit for bit;
 *   - the median sampling interval of the busiest device is exact: its gaps are the
 *     gaps inside each of its hours plus, across hours, first reading of an hour minus
 *     last reading of the previous non-empty one.
 */
import {
  above180,
  above250,
  below54,
  below70,
  type CgmSummary,
  cgmIndicators,
  cgmIndicatorsOfSummary,
  inRange70To180,
  medianSamplingIntervalMs,
} from './cgm.ts';
import type { Indicator } from './types.ts';
import { HOUR_MS, inWindow, WINDOW_14D_MS } from './window.ts';

/** One CGM reading with its device. */
export interface CgmReading {
  deviceId: string;
  at: number;
  value: number;
}

/**
 * One device's CGM readings of one UTC hour, aggregated; or of a run of consecutive
 * hours merged (the store merges the whole hours of the window per device), whose
 * gaps then include those from one non-empty hour to the next. Partials of a device
 * cover disjoint spans of time.
 */
export interface CgmPartial {
  deviceId: string;
  /** Start of the (first) UTC hour, epoch ms. */
  hourStart: number;
  n: number;
  sum: number;
  /** Σ (value − mean of the part)². */
  m2: number;
  below54: number;
  below70: number;
  in70to180: number;
  above180: number;
  above250: number;
  /** First and last reading time, epoch ms. */
  firstAt: number;
  lastAt: number;
  /** Positive gaps between consecutive readings of the part, ms, in any order. */
  gaps: readonly number[];
}

/** Start of the UTC hour of `at`. */
export function utcHourStart(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

/**
 * The whole hours of the window (`to` − 14 d, `to`] whose partials are read from the
 * store: hour starts in [first, last]. The hours of `from` and `to` themselves are the
 * edges, read from raw readings.
 */
export function cgmWindowHours(to: number): { from: number; first: number; last: number } {
  const from = to - WINDOW_14D_MS;
  return { from, first: utcHourStart(from) + HOUR_MS, last: utcHourStart(to) - HOUR_MS };
}

/** Partials of some readings, one per device and UTC hour (two passes per part for m2). */
export function cgmPartialsOf(readings: readonly CgmReading[]): CgmPartial[] {
  const groups = new Map<string, CgmReading[]>();
  for (const r of readings) {
    const key = `${utcHourStart(r.at)}\u0000${r.deviceId}`;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  const parts: CgmPartial[] = [];
  for (const list of groups.values()) {
    const values = list.map((r) => r.value);
    let sum = 0;
    for (const v of values) sum += v;
    const m = sum / values.length;
    let m2 = 0;
    for (const v of values) m2 += (v - m) * (v - m);
    const times = list.map((r) => r.at).sort((a, b) => a - b);
    const gaps: number[] = [];
    for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) gaps.push(times[i] - times[i - 1]);
    const count = (test: (g: number) => boolean): number => values.filter(test).length;
    parts.push({
      deviceId: list[0].deviceId,
      hourStart: utcHourStart(list[0].at),
      n: values.length,
      sum,
      m2,
      below54: count(below54),
      below70: count(below70),
      in70to180: count(inRange70To180),
      above180: count(above180),
      above250: count(above250),
      firstAt: times[0],
      lastAt: times[times.length - 1],
      gaps,
    });
  }
  return parts;
}

/**
 * The device whose median sampling interval counts (indicators.md: "the device's
 * median sampling interval"): the one with the most readings in the window; on a tie
 * the one whose first reading in the window is earliest, then the smallest device id.
 */
export function busiestDevice(devices: Iterable<{ deviceId: string; n: number; firstAt: number }>): string | undefined {
  let best: { deviceId: string; n: number; firstAt: number } | undefined;
  for (const d of devices) {
    if (
      !best ||
      d.n > best.n ||
      (d.n === best.n && (d.firstAt < best.firstAt || (d.firstAt === best.firstAt && d.deviceId < best.deviceId)))
    ) {
      best = d;
    }
  }
  return best?.deviceId;
}

/** Median of some positive numbers (the middle two averaged for an even count); undefined for none. */
function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  const mid = Math.floor(values.length / 2);
  return values.length % 2 === 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

/**
 * The CGM indicators at `to` from partials that cover the window exactly: stored
 * partials of the whole hours strictly inside it (see cgmWindowHours) and the raw
 * readings of the two edge hours, which are filtered to the window here.
 */
export function cgmIndicatorsFromPartials(
  stored: readonly CgmPartial[],
  edgeReadings: readonly CgmReading[],
  to: number,
): Indicator[] {
  const from = to - WINDOW_14D_MS;
  const parts = [...stored, ...cgmPartialsOf(edgeReadings.filter((r) => inWindow(r.at, from, to)))];
  parts.sort((a, b) => a.hourStart - b.hourStart || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));

  // Chan et al.: merging (n_a, mean_a, M2_a) with (n_b, mean_b, M2_b) gives
  // M2 = M2_a + M2_b + δ² n_a n_b / n, δ = mean_b − mean_a.
  let n = 0;
  let sum = 0;
  let m2 = 0;
  const s: Omit<CgmSummary, 'n' | 'mean' | 'sd'> = { below54: 0, below70: 0, in70to180: 0, above180: 0, above250: 0 };
  const devices = new Map<string, { deviceId: string; n: number; firstAt: number; parts: CgmPartial[] }>();
  for (const p of parts) {
    if (p.n === 0) continue;
    if (n > 0) {
      const delta = p.sum / p.n - sum / n;
      m2 += p.m2 + (delta * delta * n * p.n) / (n + p.n);
    } else {
      m2 = p.m2;
    }
    n += p.n;
    sum += p.sum;
    s.below54 += p.below54;
    s.below70 += p.below70;
    s.in70to180 += p.in70to180;
    s.above180 += p.above180;
    s.above250 += p.above250;
    const d = devices.get(p.deviceId);
    if (d) {
      d.n += p.n;
      d.parts.push(p);
    } else {
      devices.set(p.deviceId, { deviceId: p.deviceId, n: p.n, firstAt: p.firstAt, parts: [p] });
    }
  }

  // The busiest device's gaps: inside its hours, and between consecutive non-empty hours.
  const busiest = devices.get(busiestDevice(devices.values()) ?? '');
  let interval: number | undefined;
  if (busiest) {
    const gaps: number[] = [];
    let previous: CgmPartial | undefined;
    for (const p of busiest.parts) {
      for (const g of p.gaps) gaps.push(g);
      if (previous && p.firstAt > previous.lastAt) gaps.push(p.firstAt - previous.lastAt);
      previous = p;
    }
    interval = median(gaps);
  }
  return cgmIndicatorsOfSummary(
    { n, mean: n === 0 ? null : sum / n, sd: n < 2 ? null : Math.sqrt(Math.max(0, m2) / (n - 1)), ...s },
    to,
    interval,
  );
}

/**
 * The reference: the same indicators from all the readings, as indicators.md defines
 * them (cgmIndicators over the window, sampling interval of the busiest device).
 */
export function cgmIndicatorsFromReadings(
  readings: readonly CgmReading[],
  to: number,
  windowMs: number = WINDOW_14D_MS,
): Indicator[] {
  const from = to - windowMs;
  const inside = readings.filter((r) => inWindow(r.at, from, to));
  const devices = new Map<
    string,
    { deviceId: string; n: number; firstAt: number; points: { at: number; value: number }[] }
  >();
  for (const r of inside) {
    const d = devices.get(r.deviceId);
    if (d) {
      d.n++;
      d.firstAt = Math.min(d.firstAt, r.at);
      d.points.push(r);
    } else {
      devices.set(r.deviceId, { deviceId: r.deviceId, n: 1, firstAt: r.at, points: [r] });
    }
  }
  const busiest = devices.get(busiestDevice(devices.values()) ?? '');
  const points = [...inside].sort((a, b) => a.at - b.at);
  return cgmIndicators(points, to, busiest ? medianSamplingIntervalMs(busiest.points) : undefined, windowMs);
}
