/**
 * Parsing of the `at` field (device-protocol.md, "A reading object"): an RFC 3339
 * date-time with an offset, or integer epoch milliseconds. Returns epoch
 * milliseconds, or undefined when the text is not such a time.
 */

// RFC 3339 section 5.6 `date-time`: full-date "T" full-time, time-offset required.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Latest epoch millisecond that JavaScript dates represent (ECMA-262 21.4.1.1). */
const MAX_EPOCH_MS = 8.64e15;

/**
 * Date.UTC reads years 0 to 99 as 1900 to 1999; the Gregorian calendar repeats
 * every 400 years (146097 days), so compute 400 years later and shift back.
 */
const GREGORIAN_CYCLE_YEARS = 400;
const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year + GREGORIAN_CYCLE_YEARS, month, 0)).getUTCDate();
}

export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // RFC 3339 allows second 60 for a leap second; it is taken as the next second.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  // RFC 3339 time-secfrac is "." 1*DIGIT; keep the first three digits (truncate), from the text, not a float.
  const millis = m[7] ? Number(m[7].slice(1, 4).padEnd(3, '0')) : 0;
  let offsetMinutes = 0;
  if (!m[8]) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  const utc = Date.UTC(year + GREGORIAN_CYCLE_YEARS, month - 1, day, hour, minute, second, millis) - GREGORIAN_CYCLE_MS;
  return utc - offsetMinutes * 60_000;
}

export function parseMeasuredAt(at: unknown): number | undefined {
  if (typeof at === 'number') {
    return Number.isSafeInteger(at) && Math.abs(at) <= MAX_EPOCH_MS ? at : undefined;
  }
  if (typeof at === 'string') return parseRfc3339(at);
  return undefined;
}
