import { parseRfc3339 } from '../domain/timestamp.ts';
/**
 * The search parameters of GET /fhir/Observation (FHIR R4 search,
 * https://hl7.org/fhir/R4/search.html): `patient`, `code` (token), `date`
 * (repeatable, with the prefixes eq, ge, gt, le, lt) and `_count`.
 * Parsing errors are AppError('bad_request'), answered as a 400 OperationOutcome.
 */
import { AppError } from '../errors.ts';

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 1000;

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** `Patient/{id}` or `{id}`. */
export function parsePatient(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new AppError(
      'bad_request',
      'the search parameter patient is required (patient=Patient/{id} or patient={id})',
    );
  }
  const id = value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
  if (!ID.test(id)) throw new AppError('bad_request', `patient: "${value}" is not Patient/{id} or {id}`);
  return id;
}

/** One token of `code`: `system|code` (system given), `|code` (no system: matches nothing here) or `code` (any system). */
export interface CodeToken {
  /** undefined: any system; '': explicitly no system. */
  readonly system: string | undefined;
  readonly code: string;
}

/** `code`: a comma-separated list of tokens, any of which may match. */
export function parseCodes(value: string | undefined): CodeToken[] | undefined {
  if (value === undefined) return undefined;
  const tokens = value.split(',').map((t) => t.trim());
  return tokens.map((token) => {
    const bar = token.indexOf('|');
    const system = bar === -1 ? undefined : token.slice(0, bar);
    const code = bar === -1 ? token : token.slice(bar + 1);
    if (code === '' || code.includes('|')) {
      throw new AppError('bad_request', `code: "${token}" is not a token (system|code or code)`);
    }
    return { system, code };
  });
}

/** Whether a coding matches one of the tokens. */
export function codingMatches(
  tokens: readonly CodeToken[],
  codings: readonly { system: string; code: string }[],
): boolean {
  return tokens.some((t) =>
    codings.some((c) => c.code === t.code && (t.system === undefined || t.system === c.system)),
  );
}

export type DatePrefix = 'eq' | 'ge' | 'gt' | 'le' | 'lt';

/**
 * One `date` parameter. A date-time stands for the range of its precision
 * (https://hl7.org/fhir/R4/search.html#date): `2024-05-01T10:00:00Z` is
 * [10:00:00, 10:00:01), `...T10:00:00.5Z` is [10:00:00.500, 10:00:00.600).
 * `lo` inclusive and `hi` exclusive, epoch milliseconds.
 */
export interface DateBound {
  readonly prefix: DatePrefix;
  readonly lo: number;
  readonly hi: number;
}

// RFC 3339 date-time: seconds required, fraction optional, Z or an offset.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/;
const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

export function parseDate(raw: string): DateBound {
  let prefix: string = 'eq';
  let value = raw;
  if (/^[a-z]{2}/.test(raw) && PREFIXES.has(raw.slice(0, 2))) {
    prefix = raw.slice(0, 2);
    value = raw.slice(2);
  }
  if (!['eq', 'ge', 'gt', 'le', 'lt'].includes(prefix)) {
    throw new AppError('bad_request', `date: the prefix ${prefix} is not supported (eq, ge, gt, le, lt are)`);
  }
  // An unencoded "+" of an offset arrives as a space.
  value = value.replace(/ (\d{2}:\d{2})$/, '+$1');
  const m = DATE_TIME.exec(value);
  const lo = m ? Date.parse(value) : NaN;
  // parseRfc3339 refuses impossible dates (31 February) that Date.parse would roll over.
  if (!m || Number.isNaN(lo) || parseRfc3339(value) === undefined) {
    throw new AppError(
      'bad_request',
      `date: "${raw}" is not a prefix (eq, ge, gt, le, lt) and an RFC 3339 date-time such as ge2024-05-01T00:00:00Z`,
    );
  }
  const fraction = m[7] ?? '';
  const precision = fraction.length === 0 ? 1000 : Math.max(1, 10 ** (3 - fraction.length));
  return { prefix: prefix as DatePrefix, lo, hi: lo + precision };
}

export function parseDates(value: string | string[] | undefined): DateBound[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(parseDate);
}

/**
 * Whether a period [start, end] (an instant when start = end) matches a bound,
 * as FHIR compares ranges: eq when the period is within the value's range, ge
 * and le when it overlaps the range or what is above / below it, gt and lt when
 * it overlaps what is strictly above / below it.
 */
export function periodMatches(bound: DateBound, start: number, end: number): boolean {
  switch (bound.prefix) {
    case 'eq':
      return start >= bound.lo && end < bound.hi;
    case 'ge':
      return end >= bound.lo;
    case 'gt':
      return end >= bound.hi;
    case 'le':
      return start < bound.hi;
    case 'lt':
      return start < bound.lo;
  }
}

/**
 * The conditions on a reading's measured time that select the readings whose
 * instant matches a bound (periodMatches with start = end), ANDed.
 */
export function measuredAtBounds(b: DateBound): { op: '>=' | '<'; at: Date }[] {
  const lo = new Date(b.lo);
  const hi = new Date(b.hi);
  switch (b.prefix) {
    case 'eq':
      return [
        { op: '>=', at: lo },
        { op: '<', at: hi },
      ];
    case 'ge':
      return [{ op: '>=', at: lo }];
    case 'gt':
      return [{ op: '>=', at: hi }];
    case 'le':
      return [{ op: '<', at: hi }];
    case 'lt':
      return [{ op: '<', at: lo }];
  }
}

export function parseCount(value: string | undefined): number {
  if (value === undefined) return DEFAULT_COUNT;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) {
    throw new AppError('bad_request', `_count: "${value}" is not a whole number from 1 to ${MAX_COUNT}`);
  }
  return Number(value);
}
