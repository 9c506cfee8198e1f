/**
 * What an alert shows of its event (issue #14, item 3): the time and the value(s)
 * of the reading(s) of its most recent occurrence, kept with the alert when the
 * aggregation job opens or updates it, so that reading an alert never reads the
 * readings. Pure.
 */
import { readingTypeSpec } from '../reading-types.ts';

/** One reading of an alert's event, values in the stored unit (device-protocol.md). */
export interface AlertEventReading {
  deviceId: string;
  readingId: string;
  type: string;
  /** Measurement time, RFC 3339 UTC. */
  at: string;
  /** UCUM code of the stored unit. */
  unit: string;
  value?: number;
  systolic?: number;
  diastolic?: number;
}

/** A reading as the aggregation job holds it (src/store/aggregation.repository.ts, PatientReading). */
export interface HeldReading {
  id: string;
  deviceId: string;
  type: string;
  at: number;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
}

/**
 * The event readings of an occurrence, in the order of `readingIds`
 * ("deviceId/readingId", as the evaluation names them), from the readings the job
 * holds; null when one of them is not among those (never expected: the evaluation
 * only names readings it was given).
 */
export function eventReadings(
  readingIds: readonly string[],
  held: ReadonlyMap<string, HeldReading>,
): AlertEventReading[] | null {
  const out: AlertEventReading[] = [];
  for (const id of readingIds) {
    const r = held.get(id);
    if (!r) return null;
    out.push({
      deviceId: r.deviceId,
      readingId: r.id,
      type: r.type,
      at: new Date(r.at).toISOString(),
      unit: readingTypeSpec(r.type)?.storedUnit ?? '',
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.systolic !== null ? { systolic: r.systolic } : {}),
      ...(r.diastolic !== null ? { diastolic: r.diastolic } : {}),
    });
  }
  return out;
}
