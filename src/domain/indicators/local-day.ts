/**
 * Patient-local calendar days (indicators.md, "Patient-local days"): a day is a
 * calendar day in the patient's IANA time zone, so it is 23 or 25 hours long at
 * the DST changes (Europe/Paris 2026-03-29 is 23 h, 2026-10-25 is 25 h). Local
 * dates come from Intl.DateTimeFormat (the tz database), never from adding 24 h.
 * An unknown time zone throws Intl's RangeError.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      // h23: midnight is 00, never 24.
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(at: number, timeZone: string): WallClock {
  const w: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type === 'year') w.year = Number(part.value);
    else if (part.type === 'month') w.month = Number(part.value);
    else if (part.type === 'day') w.day = Number(part.value);
    else if (part.type === 'hour') w.hour = Number(part.value);
    else if (part.type === 'minute') w.minute = Number(part.value);
    else if (part.type === 'second') w.second = Number(part.value);
  }
  return w;
}

/** Epoch ms of a wall-clock time read as if it were UTC (setUTCFullYear: Date.UTC maps years 0-99 to 1900s). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The local wall-clock time of `at` in `timeZone`, read as if it were UTC (epoch ms, milliseconds kept). */
export function wallClockMs(at: number, timeZone: string): number {
  const w = wallClock(at, timeZone);
  return utcMs(w.year, w.month, w.day, w.hour, w.minute, w.second) + (((at % 1000) + 1000) % 1000);
}

/** Offset of the zone at `at` (local wall clock − UTC), in ms, to the second. */
function offsetMs(at: number, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const wholeSecond = at - (((at % 1000) + 1000) % 1000);
  return utcMs(w.year, w.month, w.day, w.hour, w.minute, w.second) - wholeSecond;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function formatDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(date: string): { year: number; month: number; day: number } {
  const m = DATE.exec(date);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const check = new Date(utcMs(year, month, day));
    if (check.getUTCMonth() === month - 1 && check.getUTCDate() === day) return { year, month, day };
  }
  throw new RangeError(`not a calendar date YYYY-MM-DD: ${date}`);
}

/** The patient-local calendar date ('YYYY-MM-DD') of the instant `at` in `timeZone`. */
export function localDate(at: number, timeZone: string): string {
  const w = wallClock(at, timeZone);
  return formatDate(w.year, w.month, w.day);
}

/**
 * Epoch ms of the first instant of the local calendar day `date` in `timeZone`:
 * local midnight, or, where the zone skips midnight (a DST change at 00:00, e.g.
 * America/Santiago), the instant of the change (01:00 local); where midnight
 * occurs twice, the earlier one.
 *
 * Midnight read as UTC (`guess`) minus the zone's offset is the answer for the
 * offset in force then; the offsets a day earlier and a day later cover both
 * sides of a change near that day (as Temporal's GetPossibleEpochNanoseconds).
 */
export function startOfLocalDay(date: string, timeZone: string): number {
  const { year, month, day } = parseDate(date);
  const guess = utcMs(year, month, day);
  const before = offsetMs(guess - 86_400_000, timeZone);
  const after = offsetMs(guess + 86_400_000, timeZone);
  const candidates = [guess - before, guess - after].filter((t) => {
    const w = wallClock(t, timeZone);
    return utcMs(w.year, w.month, w.day, w.hour, w.minute, w.second) === guess;
  });
  if (candidates.length > 0) return Math.min(...candidates);
  // Midnight falls in a gap: the day starts at the change, where the earlier offset would have read midnight.
  return guess - before;
}

/** Calendar arithmetic on a 'YYYY-MM-DD' date: `date` plus `days` days (negative for earlier). */
export function addDays(date: string, days: number): string {
  const { year, month, day } = parseDate(date);
  const d = new Date(utcMs(year, month, day) + days * 86_400_000);
  return formatDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}
