/**
 * The search parameters of GET /fhir/Observation (FHIR R4 search,
 * https://hl7.org/fhir/R4/search.html): `patient` or `subject`, `code` and
 * `category` (tokens, comma = OR), `date` and `_lastUpdated` (repeatable, partial
 * dates, the prefixes eq ne gt lt ge le sa eb), `_count`, `_summary=count`, `_total`,
 * `_format`, and our own `_cursor` (the next link's). Any other parameter is refused
 * (400) unless the request says `Prefer: handling=lenient`, which ignores it (and it
 * is then left out of the self link). Parsing errors are AppError('bad_request'),
 * answered as a 400 OperationOutcome.
 */
import { AppError } from '../errors.ts';

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 1000;

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The query string as Fastify parses it: a repeated parameter is an array. */
export type RawQuery = Record<string, string | string[] | undefined>;

/** `Patient/{id}` or `{id}`. */
export function parsePatient(value: string | undefined, name = 'patient'): string {
  if (value === undefined || value === '') {
    throw new AppError(
      'bad_request',
      'the search parameter patient (or subject) is required (patient=Patient/{id} or patient={id})',
    );
  }
  const id = value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
  if (!ID.test(id)) throw new AppError('bad_request', `${name}: "${value}" is not Patient/{id} or {id}`);
  return id;
}

/** One token of `code`: `system|code` (system given), `|code` (no system: matches nothing here) or `code` (any system). */
export interface CodeToken {
  /** undefined: any system; '': explicitly no system. */
  readonly system: string | undefined;
  readonly code: string;
}

/** A token parameter (`code`, `category`): a comma-separated list of tokens, any of which may match. */
export function parseCodes(value: string | undefined, name = 'code'): CodeToken[] | undefined {
  if (value === undefined) return undefined;
  const tokens = value.split(',').map((t) => t.trim());
  return tokens.map((token) => {
    const bar = token.indexOf('|');
    const system = bar === -1 ? undefined : token.slice(0, bar);
    const code = bar === -1 ? token : token.slice(bar + 1);
    if (code === '' || code.includes('|')) {
      throw new AppError('bad_request', `${name}: "${token}" is not a token (system|code or code)`);
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

export const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

/**
 * One `date` (or `_lastUpdated`) parameter. A value stands for the range of its
 * precision (https://hl7.org/fhir/R4/search.html#date): `2026` is the year,
 * `2026-12` the month, `2026-12-01` the day (UTC, the server's zone: a value
 * without a time has no offset), `2026-12-01T10:00Z` the minute,
 * `…T10:00:00Z` [10:00:00, 10:00:01), `…T10:00:00.5Z` [10:00:00.500, 10:00:00.600).
 * `lo` inclusive and `hi` exclusive, epoch milliseconds.
 */
export interface DateBound {
  readonly prefix: DatePrefix;
  readonly lo: number;
  readonly hi: number;
}

// YYYY, YYYY-MM, YYYY-MM-DD, or a date-time with minutes, optional seconds and fraction, and a zone.
const PARTIAL = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

function refuseDate(name: string, raw: string): never {
  throw new AppError(
    'bad_request',
    `${name}: "${raw}" is not an optional prefix (${DATE_PREFIXES.join(', ')}) and a date (YYYY, YYYY-MM, YYYY-MM-DD) or a date-time with a zone (2026-12-01T10:00:00Z)`,
  );
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parseDate(raw: string, name = 'date'): DateBound {
  let prefix: string = 'eq';
  let value = raw;
  if (/^[a-z]{2}/.test(raw)) {
    prefix = raw.slice(0, 2);
    value = raw.slice(2);
    if (prefix === 'ap') {
      throw new AppError('bad_request', `${name}: the prefix ap is not supported (${DATE_PREFIXES.join(', ')} are)`);
    }
    if (!(DATE_PREFIXES as readonly string[]).includes(prefix)) refuseDate(name, raw);
  }
  // An unencoded "+" of an offset arrives as a space.
  value = value.replace(/ (\d{2}:\d{2})$/, '+$1');
  const partial = PARTIAL.exec(value);
  if (partial) {
    const year = Number(partial[1]);
    const month = partial[2] === undefined ? undefined : Number(partial[2]);
    const day = partial[3] === undefined ? undefined : Number(partial[3]);
    if (month !== undefined && (month < 1 || month > 12)) refuseDate(name, raw);
    if (month !== undefined && day !== undefined && (day < 1 || day > daysIn(year, month))) refuseDate(name, raw);
    const lo = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
    const hi =
      month === undefined
        ? Date.UTC(year + 1, 0, 1)
        : day === undefined
          ? Date.UTC(year, month, 1)
          : Date.UTC(year, month - 1, day + 1);
    return { prefix: prefix as DatePrefix, lo, hi };
  }
  const m = DATE_TIME.exec(value);
  if (!m) refuseDate(name, raw);
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    refuseDate(name, raw);
  }
  const fraction = m[7] ?? '';
  const zone = m[8];
  const offsetMin =
    zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const ms = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  const lo = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  const precision = m[6] === undefined ? 60_000 : fraction === '' ? 1000 : Math.max(1, 10 ** (3 - fraction.length));
  return { prefix: prefix as DatePrefix, lo, hi: lo + precision };
}

export function parseDates(value: string | string[] | undefined, name = 'date'): DateBound[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => parseDate(v, name));
}

/**
 * Whether a period [start, end] (an instant when start = end; end inclusive)
 * matches a bound, as R4 defines the prefixes over ranges: eq when the period is
 * within the value's range, ne when not; gt / lt when it overlaps what is above /
 * below the range; ge / le when it overlaps the range or what is above / below it;
 * sa / eb when it lies wholly after / before the range.
 */
export function periodMatches(bound: DateBound, start: number, end: number): boolean {
  switch (bound.prefix) {
    case 'eq':
      return start >= bound.lo && end < bound.hi;
    case 'ne':
      return !(start >= bound.lo && end < bound.hi);
    case 'ge':
      return end >= bound.lo;
    case 'gt':
      return end >= bound.hi;
    case 'le':
      return start < bound.hi;
    case 'lt':
      return start < bound.lo;
    case 'sa':
      return start >= bound.hi;
    case 'eb':
      return end < bound.lo;
  }
}

/** A half-open interval [lo, hi) of epoch ms; null is unbounded. */
export interface Interval {
  readonly lo: number | null;
  readonly hi: number | null;
}

/** The instants a bound admits (periodMatches with start = end), as disjoint intervals. */
function instantsOf(b: DateBound): Interval[] {
  switch (b.prefix) {
    case 'eq':
      return [{ lo: b.lo, hi: b.hi }];
    case 'ne':
      return [
        { lo: null, hi: b.lo },
        { lo: b.hi, hi: null },
      ];
    case 'ge':
      return [{ lo: b.lo, hi: null }];
    case 'gt':
    case 'sa':
      return [{ lo: b.hi, hi: null }];
    case 'le':
      return [{ lo: null, hi: b.hi }];
    case 'lt':
    case 'eb':
      return [{ lo: null, hi: b.lo }];
  }
}

function intersect(a: Interval, b: Interval): Interval | undefined {
  const lo = a.lo === null ? b.lo : b.lo === null ? a.lo : Math.max(a.lo, b.lo);
  const hi = a.hi === null ? b.hi : b.hi === null ? a.hi : Math.min(a.hi, b.hi);
  return lo !== null && hi !== null && lo >= hi ? undefined : { lo, hi };
}

/**
 * The instants that every bound admits (the parameters are ANDed), as disjoint
 * intervals, newest first: the readings of a search are read interval by interval,
 * each through the time index, so that a `ne` never scans the range it excludes.
 * No bound: one unbounded interval; contradictory bounds: none.
 */
export function instantIntervals(bounds: readonly DateBound[]): Interval[] {
  let set: Interval[] = [{ lo: null, hi: null }];
  for (const b of bounds) {
    const next: Interval[] = [];
    for (const x of set) {
      for (const y of instantsOf(b)) {
        const i = intersect(x, y);
        if (i) next.push(i);
      }
    }
    set = next;
  }
  return set.sort((a, b) => (b.hi ?? Infinity) - (a.hi ?? Infinity));
}

export function parseCount(value: string | undefined): number {
  if (value === undefined) return DEFAULT_COUNT;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) {
    throw new AppError('bad_request', `_count: "${value}" is not a whole number from 1 to ${MAX_COUNT}`);
  }
  return Number(value);
}

/** `_format` values and Accept media types that mean FHIR JSON (R4 http.html#mime-type). */
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);

/**
 * Whether `_format` (when given) and the Accept header (when given) allow FHIR JSON,
 * the one format served. `_format` wins over Accept, as R4 says.
 */
export function acceptsFhirJson(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return JSON_FORMATS.has(format.split(';')[0].trim().toLowerCase());
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return type === '*/*' || type === 'application/*' || JSON_FORMATS.has(type);
  });
}

/** Whether the Prefer header asks for lenient handling of unknown parameters. */
export function prefersLenient(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  return values.some((v) => v.split(/[,;]/).some((p) => p.trim().toLowerCase() === 'handling=lenient'));
}

/** The parameters of GET /fhir/Observation, and what the self and next links repeat. */
export interface ObservationSearch {
  readonly patientId: string;
  readonly codes: CodeToken[] | undefined;
  readonly categories: CodeToken[] | undefined;
  readonly dates: DateBound[];
  readonly lastUpdated: DateBound[];
  readonly count: number;
  /** `_summary=count`: Bundle.total only. */
  readonly summaryCount: boolean;
  /** `_total=accurate|estimate`: Bundle.total on the first page. */
  readonly total: boolean;
  readonly cursor: string | undefined;
  /** The honoured parameters as given (without `_cursor`), in order: the self link and the next link's base. */
  readonly echo: [string, string][];
}

/** The parameters Observation search honours, as GET /fhir/metadata states them. */
export const OBSERVATION_SEARCH_PARAM_SPECS: Readonly<
  Record<
    string,
    {
      type: 'reference' | 'token' | 'date' | 'number' | 'string' | 'special';
      definition?: string;
      documentation: string;
    }
  >
> = {
  patient: {
    type: 'reference',
    definition: 'clinical-patient',
    documentation: 'Patient/{id} or {id}; this or subject is required',
  },
  subject: { type: 'reference', definition: 'Observation-subject', documentation: 'Patient/{id} or {id}' },
  code: {
    type: 'token',
    definition: 'clinical-code',
    documentation: 'comma-separated tokens (OR): system|code or code, e.g. http://loinc.org|8867-4',
  },
  category: {
    type: 'token',
    definition: 'Observation-category',
    documentation: 'comma-separated tokens (OR): vital-signs, laboratory (glucose, CGM summaries), activity',
  },
  date: {
    type: 'date',
    definition: 'clinical-date',
    documentation:
      'repeatable (AND); YYYY, YYYY-MM, YYYY-MM-DD (UTC) or a date-time with a zone; prefixes eq, ne, gt, lt, ge, le, sa, eb (not ap)',
  },
  _lastUpdated: {
    type: 'date',
    definition: 'Resource-lastUpdated',
    documentation: 'as date, over meta.lastUpdated: when Vitalink stored the reading, or computed the CGM summary',
  },
  _count: { type: 'number', documentation: 'page size, 1 to 1000, default 50' },
  _summary: { type: 'token', documentation: 'count (Bundle.total only, no entries) or false' },
  _total: {
    type: 'token',
    documentation: 'accurate or estimate: Bundle.total on the first page (counts every match); none (default)',
  },
  _format: { type: 'token', documentation: 'json, application/json or application/fhir+json; anything else is a 406' },
};

export const OBSERVATION_SEARCH_DOCUMENTATION =
  'Readings (newest first) and, for patients with CGM data, the CGM summaries (first). Paging by next links (keyset).';

/** The parameters Observation search honours; `_cursor` is the next link's own. */
export const OBSERVATION_SEARCH_PARAMS: readonly string[] = [...Object.keys(OBSERVATION_SEARCH_PARAM_SPECS), '_cursor'];
const REPEATABLE = new Set(['date', '_lastUpdated']);

function single(query: RawQuery, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw new AppError('bad_request', `${name} is given ${v.length} times; give it once`);
  return v;
}

/**
 * Parses an Observation search. Parameters that are not honoured: refused with a
 * 400 naming them, or, when `lenient`, ignored (and not echoed). A modifier
 * (`code:text`, `date:missing`…) is a parameter not honoured either.
 */
export function parseObservationSearch(query: RawQuery, lenient: boolean): ObservationSearch {
  const known = new Set<string>(OBSERVATION_SEARCH_PARAMS);
  const unknown = Object.keys(query).filter((k) => !known.has(k));
  if (unknown.length > 0 && !lenient) {
    throw new AppError(
      'bad_request',
      `search parameters not supported: ${unknown.join(', ')} (supported: ${OBSERVATION_SEARCH_PARAMS.filter((p) => p !== '_cursor').join(', ')}; send Prefer: handling=lenient to have unsupported ones ignored)`,
    );
  }
  const patient = single(query, 'patient');
  const subject = single(query, 'subject');
  const fromPatient = patient === undefined ? undefined : parsePatient(patient);
  const fromSubject = subject === undefined ? undefined : parsePatient(subject, 'subject');
  if (fromPatient !== undefined && fromSubject !== undefined && fromPatient !== fromSubject) {
    throw new AppError('bad_request', 'patient and subject name different patients; give one of them');
  }
  const patientId = fromPatient ?? fromSubject ?? parsePatient(undefined);
  const summary = single(query, '_summary');
  if (summary !== undefined && summary !== 'count' && summary !== 'false') {
    throw new AppError('bad_request', `_summary: "${summary}" is not supported (count and false are)`);
  }
  const total = single(query, '_total');
  if (total !== undefined && !['none', 'estimate', 'accurate'].includes(total)) {
    throw new AppError('bad_request', `_total: "${total}" is not none, estimate or accurate`);
  }
  single(query, '_format');
  const echo: [string, string][] = [];
  for (const name of OBSERVATION_SEARCH_PARAMS) {
    if (name === '_cursor') continue;
    const v = query[name];
    if (v === undefined) continue;
    if (Array.isArray(v) && !REPEATABLE.has(name)) single(query, name);
    for (const one of Array.isArray(v) ? v : [v]) echo.push([name, one]);
  }
  return {
    patientId,
    codes: parseCodes(single(query, 'code')),
    categories: parseCodes(single(query, 'category'), 'category'),
    dates: parseDates(query.date),
    lastUpdated: parseDates(query._lastUpdated, '_lastUpdated'),
    count: parseCount(single(query, '_count')),
    summaryCount: summary === 'count',
    total: total === 'accurate' || total === 'estimate',
    cursor: single(query, '_cursor'),
    echo,
  };
}
