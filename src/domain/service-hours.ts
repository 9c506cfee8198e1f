import { wallClockMs } from './indicators/local-day.ts';

/**
 * A care team's service hours (README, "Care teams"): télésurveillance is not
 * emergency care, so a team reads alerts during its hours, in its own time zone;
 * an alert that opens outside them is notified at the next opening. A team
 * without hours is always on duty.
 *
 * The spec is a list of entries separated by `;`, each a set of days and one or
 * more time ranges, local wall-clock times:
 *
 *   mon-fri 08:00-18:00; sat 09:00-12:00
 *   mon,wed,fri 08:00-12:00 14:00-18:00
 *   sat-sun 20:00-08:00        (a range that ends at or before its start runs past midnight)
 *   mon-sun 00:00-24:00        (always)
 *
 * Days are mon tue wed thu fri sat sun; a range `a-b` of days wraps past sunday
 * (`fri-mon`). At a DST change a range is its wall-clock times on that day: a
 * night shift 20:00-08:00 is 11 or 13 hours long.
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const WEEK_MINUTES = 7 * 24 * 60;

/** Minutes of the week, Monday 00:00 local = 0, as half-open [start, end) intervals, sorted, merged. */
export interface ServiceHours {
  readonly spec: string;
  readonly intervals: readonly (readonly [number, number])[];
}

export type ParsedServiceHours = { ok: true; hours: ServiceHours } | { ok: false; message: string };

const EXAMPLE = 'e.g. "mon-fri 08:00-18:00; sat 09:00-12:00"';

function parseDays(text: string): number[] | string {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const range = /^([a-z]{3})(?:-([a-z]{3}))?$/.exec(part.trim().toLowerCase());
    if (!range) return `"${part}" is not a day or a range of days (mon, tue, wed, thu, fri, sat, sun; mon-fri)`;
    const from = DAYS.indexOf(range[1] as (typeof DAYS)[number]);
    const to = range[2] === undefined ? from : DAYS.indexOf(range[2] as (typeof DAYS)[number]);
    if (from < 0 || to < 0) return `"${part}" is not a day or a range of days (mon, tue, wed, thu, fri, sat, sun)`;
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function parseTime(text: string, allow24: boolean): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (minute > 59) return undefined;
  if (hour === 24 && minute === 0 && allow24) return 24 * 60;
  if (hour > 23) return undefined;
  return hour * 60 + minute;
}

function merge(intervals: [number, number][]): [number, number][] {
  intervals.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of intervals) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Parses a service hours spec; the message says what is wrong and shows the form. */
export function parseServiceHours(spec: string): ParsedServiceHours {
  const entries = spec
    .split(';')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (entries.length === 0) return { ok: false, message: `service hours are empty; give days and times, ${EXAMPLE}` };
  const intervals: [number, number][] = [];
  for (const entry of entries) {
    const [dayText, ...ranges] = entry.split(/\s+/);
    const days = parseDays(dayText);
    if (typeof days === 'string') return { ok: false, message: `service hours: ${days}; ${EXAMPLE}` };
    if (ranges.length === 0) {
      return { ok: false, message: `service hours: "${entry}" has no time range; ${EXAMPLE}` };
    }
    for (const range of ranges) {
      const m = /^([^-]+)-([^-]+)$/.exec(range);
      const start = m ? parseTime(m[1], false) : undefined;
      const end = m ? parseTime(m[2], true) : undefined;
      if (start === undefined || end === undefined) {
        return { ok: false, message: `service hours: "${range}" is not a time range HH:MM-HH:MM; ${EXAMPLE}` };
      }
      // A range ending at or before its start runs past midnight into the next day.
      const length = end > start ? end - start : end + 24 * 60 - start;
      for (const day of days) {
        const from = day * 24 * 60 + start;
        const to = from + length;
        if (to <= WEEK_MINUTES) intervals.push([from, to]);
        else intervals.push([from, WEEK_MINUTES], [0, to - WEEK_MINUTES]);
      }
    }
  }
  return { ok: true, hours: { spec: entries.join('; '), intervals: merge(intervals) } };
}

/** Minute of the local week (Monday 00:00 = 0) of the instant `at` in `timeZone`, with the fraction. */
function weekMinute(at: number, timeZone: string): number {
  const wall = wallClockMs(at, timeZone);
  // 1970-01-05 was a Monday.
  const sinceMonday = (((wall - 4 * 86_400_000) % (7 * 86_400_000)) + 7 * 86_400_000) % (7 * 86_400_000);
  return sinceMonday / 60_000;
}

/** Whether the team is on duty at `at`; always when it has no hours (null). */
export function isOnDuty(hours: ServiceHours | null, timeZone: string, at: Date): boolean {
  if (hours === null) return true;
  const m = weekMinute(at.getTime(), timeZone);
  return hours.intervals.some(([s, e]) => m >= s && m < e);
}

/**
 * The first instant at or after `at` when the team is on duty: `at` itself when on
 * duty now. Where the opening time does not exist on that day (a DST gap), the
 * first instant after the gap.
 */
export function nextOpening(hours: ServiceHours | null, timeZone: string, at: Date): Date {
  if (isOnDuty(hours, timeZone, at) || hours === null || hours.intervals.length === 0) return at;
  const now = weekMinute(at.getTime(), timeZone);
  const starts = hours.intervals.map(([s]) => s);
  const ahead = starts.map((s) => (s > now ? s - now : s + WEEK_MINUTES - now));
  const minutes = Math.min(...ahead);
  // Assume the offset holds, then correct by the change of offset on the way.
  let guess = at.getTime() + minutes * 60_000;
  const drift = wallClockMs(guess, timeZone) - guess - (wallClockMs(at.getTime(), timeZone) - at.getTime());
  guess -= drift;
  guess = Math.ceil(guess / 60_000) * 60_000;
  if (isOnDuty(hours, timeZone, new Date(guess)) && !isOnDuty(hours, timeZone, new Date(guess - 60_000))) {
    return new Date(guess);
  }
  // A DST gap or an unusual offset: find the first on-duty minute around the guess.
  for (let t = Math.max(at.getTime(), guess - 3 * 3_600_000); t <= guess + 3 * 3_600_000; t += 60_000) {
    const minute = Math.ceil(t / 60_000) * 60_000;
    if (isOnDuty(hours, timeZone, new Date(minute))) return new Date(Math.max(minute, at.getTime()));
  }
  return new Date(guess);
}
