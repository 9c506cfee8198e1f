/**
 * Rolling windows (indicators.md, "Indicators"): each ends at the moment of
 * computation `to` and starts the stated duration before it; a reading is
 * inside when `from` < `at` ≤ `to`.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
/** 24 hours; a patient-local day can be 23 or 25 hours long, see local-day.ts. */
export const DAY_MS = 24 * HOUR_MS;

/** CGM indicators: last 14 days. */
export const WINDOW_14D_MS = 14 * DAY_MS;
/** Home blood pressure and weight change 7 d: last 7 days. */
export const WINDOW_7D_MS = 7 * DAY_MS;
/** SpO2, heart rate and temperature: last 24 h. */
export const WINDOW_24H_MS = 24 * HOUR_MS;
/** Weight change 72 h: the 72 h ending at the latest weight reading. */
export const WINDOW_72H_MS = 72 * HOUR_MS;
/** Adherence: the 30 patient-local calendar days ending with the current one (not 30 × 24 h). */
export const ADHERENCE_WINDOW_DAYS = 30;

// indicators.md: "A reading is inside when from < at ≤ to".
export function inWindow(at: number, from: number, to: number): boolean {
  return from < at && at <= to;
}

/** The readings inside (`from`, `to`], in input order; the input is not modified. */
export function inWindowOnly<T extends { at: number }>(readings: readonly T[], from: number, to: number): T[] {
  return readings.filter((r) => inWindow(r.at, from, to));
}
