/**
 * Weight change (indicators.md, "Indicators"; ESC heart failure guidance: a gain
 * of more than 2 kg in 3 days suggests fluid retention). Weights in kg.
 */
import { makeIndicator } from './indicator-keys.ts';
import type { Indicator, Point } from './types.ts';
import { inWindowOnly, WINDOW_72H_MS, WINDOW_7D_MS } from './window.ts';

/** indicators.md: a weight change is sufficient with ≥ 2 readings. */
export const WEIGHT_MIN_READINGS = 2;

/**
 * The readings sorted by time (a stable sort: readings at the same instant keep
 * their input order, so the last of them in input order counts as the latest).
 */
function byTime(points: readonly Point[]): Point[] {
  return [...points].sort((a, b) => a.at - b.at);
}

/** Latest − earliest by time; null below 2 readings (a change needs two readings). */
function change(sorted: readonly Point[]): number | null {
  return sorted.length < WEIGHT_MIN_READINGS ? null : sorted[sorted.length - 1].value - sorted[0].value;
}

/**
 * weight_change_72h then weight_change_7d.
 *
 * weight_change_7d: latest − earliest weight with `to` − 7 d < at ≤ `to`.
 *
 * weight_change_72h: the 72 h window ends at the latest weight reading of the
 * last 7 days (`anchor`): anchor − 72 h < at ≤ anchor, and from/to are that
 * window. The window is the full 72 h even when it reaches before the last 7
 * days (a latest reading 6 days old looks back to 9 days). With no reading in
 * the last 7 days there is no anchor: the window is then the 72 h ending at
 * `to`, and the value null.
 *
 * With fewer than 2 readings the value is null (not 0) and not sufficient.
 */
export function weightIndicators(points: readonly Point[], to: number): Indicator[] {
  const from7d = to - WINDOW_7D_MS;
  const last7d = byTime(inWindowOnly(points, from7d, to));

  const anchor = last7d.length > 0 ? last7d[last7d.length - 1].at : to;
  const from72h = anchor - WINDOW_72H_MS;
  const last72h = last7d.length > 0 ? byTime(inWindowOnly(points, from72h, anchor)) : [];

  return [
    // ESC HF guidance / indicators.md: latest weight − earliest weight in the 72 h ending at the latest reading.
    makeIndicator(
      'weight_change_72h',
      change(last72h),
      from72h,
      anchor,
      last72h.length,
      last72h.length >= WEIGHT_MIN_READINGS,
    ),
    // indicators.md: latest weight − earliest weight in the last 7 days.
    makeIndicator('weight_change_7d', change(last7d), from7d, to, last7d.length, last7d.length >= WEIGHT_MIN_READINGS),
  ];
}
