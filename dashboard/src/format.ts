/**
 * Numbers and dates with Intl, in the browser's locale and, for a patient's data,
 * in the patient's time zone. Formatters are cached: building one is the slow part.
 */
import { isReadingType, type ReadingType } from '../../src/domain/reading-types.ts';
import { lang, locale, t, unitLabel } from './i18n.ts';
import type { ThresholdValue } from './types.ts';

const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(min: number, max: number): Intl.NumberFormat {
  const key = `${min}/${max}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { minimumFractionDigits: min, maximumFractionDigits: max });
    numberFormats.set(key, f);
  }
  return f;
}

export function dateFormat(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    } catch {
      // An unknown zone name: the browser's own zone rather than no date at all.
      f = new Intl.DateTimeFormat(locale, options);
    }
    dateFormats.set(key, f);
  }
  return f;
}

/** A number with exactly `digits` decimals (indicators.md: show one decimal). */
export function fmtFixed(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return t('none');
  return numberFormat(digits, digits).format(value);
}

/** A number with at most `digits` decimals. */
export function fmtNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return t('none');
  return numberFormat(0, digits).format(value);
}

export function fmtInteger(value: number | null | undefined): string {
  return fmtNumber(value === null || value === undefined ? value : Math.round(value), 0);
}

/** Decimals that suit a reading type's values. */
/** Decimals a value of each type is shown with. */
const DIGITS: Readonly<Record<ReadingType, number>> = {
  heart_rate: 0,
  spo2: 0,
  blood_pressure: 0,
  body_weight: 1,
  body_temperature: 1,
  blood_glucose: 0,
  cgm_glucose: 0,
  respiratory_rate: 0,
  steps: 0,
};

export function digitsOf(type: string): number {
  return isReadingType(type) ? DIGITS[type] : 0;
}

export function fmtValue(value: number | null | undefined, unit: string, digits = 1): string {
  const u = unitLabel(unit);
  const n = fmtNumber(value, digits);
  if (!u) return n;
  return u === '%' && lang === 'en' ? `${n}%` : `${n}\u202f${u}`;
}

/** A percentage with one decimal, as each language writes it: 78.3% or 78,3 %. */
export function fmtPercent(value: number | null | undefined, digits = 1): string {
  const n = fmtFixed(value, digits);
  if (value === null || value === undefined || !Number.isFinite(value)) return n;
  return lang === 'en' ? `${n}%` : `${n}\u202f%`;
}

export function fmtThreshold(value: ThresholdValue, unit: string): string {
  if (typeof value === 'number') return fmtValue(value, unit, 1);
  return `${fmtNumber(value.systolic, 0)}/${fmtNumber(value.diastolic, 0)}\u202f${unitLabel(unit)}`;
}

export function fmtDateTime(iso: string | number | null | undefined, timeZone?: string): string {
  if (iso === null || iso === undefined) return t('none');
  return dateFormat(timeZone, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function fmtDate(iso: string | number, timeZone?: string): string {
  return dateFormat(timeZone, { day: 'numeric', month: 'short' }).format(new Date(iso));
}

export function fmtTime(iso: string | number, timeZone?: string, seconds = false): string {
  return dateFormat(timeZone, {
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
  }).format(new Date(iso));
}

const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'long' });

/** "5 minutes ago", "il y a 3 heures". */
export function fmtRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return t('never');
  const seconds = (Date.parse(iso) - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(Math.round(seconds), 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86400), 'day');
}

export function fmtBytes(bytes: number): string {
  if (bytes < 1024) return `${fmtInteger(bytes)} B`;
  if (bytes < 1024 * 1024) return `${fmtNumber(bytes / 1024, 1)} KiB`;
  return `${fmtNumber(bytes / 1024 / 1024, 1)} MiB`;
}

/** The offset of a time zone at an instant, in minutes east of UTC (for uPlot's time-of-day maths). */
export function zoneOffsetMinutes(timeZone: string, at: number): number {
  const parts = dateFormat(timeZone, {
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}
