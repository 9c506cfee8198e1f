/**
 * The ambulatory glucose profile of the patient page, computed by the service's own
 * code (src/domain/glucose-profile.ts, which the glucose report uses too) from the
 * readings the API returned.
 *
 * `window` is the window of the CGM indicators the time-in-ranges panel shows
 * (`from` < at ≤ `to`, indicators.md): with it, the two panels count the same
 * readings. Without it, every reading given counts.
 */
import { glucoseProfile as profileOf, type GlucoseProfile, percentile } from '../../src/domain/glucose-profile.ts';
import type { Reading } from './types.ts';

export { percentile };
export type Profile = GlucoseProfile;

export function glucoseProfile(
  readings: readonly Reading[],
  timeZone: string,
  window?: { from: string; to: string },
): Profile {
  const points: { at: number; value: number }[] = [];
  for (const r of readings) if (r.value !== undefined) points.push({ at: Date.parse(r.at), value: r.value });
  return profileOf(points, timeZone, window && { from: Date.parse(window.from), to: Date.parse(window.to) });
}
