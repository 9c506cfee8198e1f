/**
 * A patient's readings as CSV, built in the browser from the readings API
 * (GET /patients/{id}/readings, every page): RFC 4180 (a header line, CRLF line
 * ends, a field with a comma, a quote or a line break quoted and its quotes
 * doubled), times in RFC 3339 UTC and in the patient's zone, values in the
 * stored unit. A text cell that a spreadsheet would run as a formula (starting
 * with = + - @, a tab or a carriage return) is prefixed with an apostrophe
 * (OWASP, "CSV injection"); numbers are written as they are.
 */
import type { Reading } from './types.ts';

export const READING_COLUMNS = [
  'measuredAt',
  'measuredAtLocal',
  'type',
  'value',
  'systolic',
  'diastolic',
  'pulse',
  'unit',
  'deviceId',
  'readingId',
  'receivedAt',
] as const;

/** One CSV field: null and undefined are empty, numbers as JavaScript writes them. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** "2026-12-01 09:10:00" in the zone: a local time a spreadsheet reads as a date. */
export function localTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** The readings, oldest first, as CSV text. */
export function readingsCsv(readings: readonly Reading[], timeZone: string): string {
  const sorted = [...readings].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id.localeCompare(b.id));
  const lines = sorted.map((r) =>
    [
      r.at,
      localTime(r.at, timeZone),
      r.type,
      r.value,
      r.systolic,
      r.diastolic,
      r.pulse,
      r.unit,
      r.deviceId,
      r.id,
      r.receivedAt,
    ]
      .map(csvField)
      .join(','),
  );
  return [READING_COLUMNS.join(','), ...lines].map((l) => `${l}\r\n`).join('');
}
