import { createHash } from 'node:crypto';
import { parseRfc3339 } from './timestamp.ts';

/**
 * The Nightscout API v1 subset (README, "Nightscout uploads"): an entry as
 * Nightscout defines it (`type`, `sgv` in mg/dL, `date` in epoch ms,
 * `dateString`, `direction`, `device`, and more fields we keep only as sent).
 * Pure: what the routes map, with no I/O.
 */

/** What an uploader sends: the SHA-1 hex of its API secret (the `api-secret` header). */
export function apiSecretHash(secret: string): string {
  return createHash('sha1').update(secret, 'utf8').digest('hex');
}

const SHA1_HEX = /^[0-9a-fA-F]{40}$/;

/** The `api-secret` header as sent: the SHA-1 hex (any case), or the secret itself, which some apps send. */
export function normaliseApiSecret(header: string): string {
  return SHA1_HEX.test(header) ? header.toLowerCase() : apiSecretHash(header);
}

/** Reading ids of Nightscout entries: `ns:` and the entry's time (unique per device, so a replay is a duplicate). */
export const ENTRY_ID_PREFIX = 'ns:';

/** The entry's time in epoch ms: its `date`, else its `dateString` (RFC 3339); undefined when it has neither. */
export function entryTime(entry: Record<string, unknown>): number | undefined {
  if (typeof entry.date === 'number' && Number.isSafeInteger(entry.date)) return entry.date;
  if (typeof entry.dateString === 'string') return parseRfc3339(entry.dateString);
  return undefined;
}

/**
 * A Nightscout entry as a reading of the device protocol, to go through the
 * protocol's own validation (src/ingest/decode.ts): an `sgv` entry is a
 * `cgm_glucose` reading in mg/dL whose id is derived from its time. Nothing is
 * made up: a missing or non-numeric `sgv` stays missing or non-numeric (rejected
 * `invalid_reading`), a zero stays zero (`out_of_range`), an entry without a time
 * has no id and no `at` (`invalid_reading`), another type is passed on as
 * `nightscout_<type>` (`unknown_type`). The entry as sent rides along under
 * `nightscout` (an extra field, ignored by validation) so that a rejection keeps it.
 */
export function entryAsReading(entry: unknown): unknown {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
  const e = entry as Record<string, unknown>;
  const at = entryTime(e);
  const type = e.type === undefined || e.type === 'sgv' ? 'cgm_glucose' : `nightscout_${String(e.type)}`;
  return {
    ...(at !== undefined ? { id: `${ENTRY_ID_PREFIX}${at}`, at } : {}),
    type,
    ...(e.sgv !== undefined ? { value: e.sgv } : {}),
    unit: 'mg/dL',
    nightscout: e,
  };
}

/** Nightscout's trend arrows. */
export type Direction =
  'DoubleUp' | 'SingleUp' | 'FortyFiveUp' | 'Flat' | 'FortyFiveDown' | 'SingleDown' | 'DoubleDown' | 'NOT COMPUTABLE';

/** Readings further apart than this give no trend. */
export const MAX_TREND_GAP_MS = 15 * 60_000;

/**
 * The trend arrow of a glucose value from the one before it, by the slope in
 * mg/dL per minute with the thresholds xDrip+ uses (1, 2 and 3.5 mg/dL/min).
 * The service does not keep the arrow an app sent: `GET /entries` computes it.
 */
export function direction(
  previous: { mgdl: number; at: number } | undefined,
  current: { mgdl: number; at: number },
): Direction {
  if (!previous) return 'NOT COMPUTABLE';
  const minutes = (current.at - previous.at) / 60_000;
  if (minutes <= 0 || current.at - previous.at > MAX_TREND_GAP_MS) return 'NOT COMPUTABLE';
  const slope = (current.mgdl - previous.mgdl) / minutes;
  if (slope <= -3.5) return 'DoubleDown';
  if (slope <= -2) return 'SingleDown';
  if (slope <= -1) return 'FortyFiveDown';
  if (slope < 1) return 'Flat';
  if (slope < 2) return 'FortyFiveUp';
  if (slope < 3.5) return 'SingleUp';
  return 'DoubleUp';
}
