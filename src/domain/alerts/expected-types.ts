/**
 * The expected types of the `no_data` rule (indicators.md line 63): "a type that a
 * device now assigned to the patient sent in the last 30 days". Pure: `now` is a
 * parameter.
 */

const DAY_MS = 24 * 3_600_000;
/** indicators.md line 63: "in the last 30 days", a rolling window of 30 × 24 h (line 20-22). */
export const EXPECTED_TYPES_WINDOW_MS = 30 * DAY_MS;

export interface DeviceReading {
  deviceId: string;
  type: string;
  /** Measurement time, epoch milliseconds. */
  at: number;
}

/**
 * The types, sorted, of the readings sent by one of `assignedDeviceIds` (the devices
 * assigned to the patient now) inside the window (`now` − 30 days, `now`] — line 22:
 * a reading is inside when `from` < `at` ≤ `to`. A device unassigned since, or a type
 * last sent more than 30 days ago, makes no type expected. Pass the patient's readings.
 */
export function expectedTypes(
  assignedDeviceIds: Iterable<string>,
  readings: readonly DeviceReading[],
  now: number,
): string[] {
  const assigned = new Set(assignedDeviceIds);
  const from = now - EXPECTED_TYPES_WINDOW_MS;
  const types = new Set<string>();
  for (const r of readings) {
    if (assigned.has(r.deviceId) && r.at > from && r.at <= now) types.add(r.type);
  }
  return [...types].sort();
}
