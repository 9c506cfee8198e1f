import { describe, expect, it } from 'vitest';
import {
  codingMatches,
  parseCodes,
  parseCount,
  acceptsFhirJson,
  instantIntervals,
  parseDate,
  parseObservationSearch,
  prefersLenient,
  parsePatient,
  periodMatches,
} from '../../../src/fhir/search-params.ts';

const t = (s: string) => Date.parse(s);

describe('FHIR search parameters', () => {
  it('patient: Patient/{id} or {id}, required', () => {
    expect(parsePatient('Patient/p-1')).toBe('p-1');
    expect(parsePatient('p-1')).toBe('p-1');
    for (const bad of [undefined, '', 'Patient/', 'Device/x', 'a b']) {
      expect(() => parsePatient(bad)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });

  it('code: comma-separated tokens with or without a system', () => {
    expect(parseCodes(undefined)).toBeUndefined();
    expect(parseCodes('http://loinc.org|8867-4,29463-7')).toEqual([
      { system: 'http://loinc.org', code: '8867-4' },
      { system: undefined, code: '29463-7' },
    ]);
    const loinc = [{ system: 'http://loinc.org', code: '8867-4' }];
    expect(codingMatches(parseCodes('8867-4')!, loinc)).toBe(true);
    expect(codingMatches(parseCodes('http://loinc.org|8867-4')!, loinc)).toBe(true);
    expect(codingMatches(parseCodes('http://snomed.info/sct|8867-4')!, loinc)).toBe(false);
    expect(codingMatches(parseCodes('|8867-4')!, loinc)).toBe(false);
    expect(codingMatches(parseCodes('8480-6,8867-4')!, loinc)).toBe(true);
    for (const bad of ['', '8867-4,', 'a|b|c', 'http://loinc.org|']) {
      expect(() => parseCodes(bad)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });

  it('date: prefixes and the range of the precision', () => {
    expect(parseDate('2024-05-01T10:00:00Z')).toEqual({
      prefix: 'eq',
      lo: t('2024-05-01T10:00:00Z'),
      hi: t('2024-05-01T10:00:01Z'),
    });
    expect(parseDate('ge2024-05-01T12:00:00+02:00')).toMatchObject({ prefix: 'ge', lo: t('2024-05-01T10:00:00Z') });
    // An unencoded "+" arrives as a space.
    expect(parseDate('ge2024-05-01T12:00:00 02:00').lo).toBe(t('2024-05-01T10:00:00Z'));
    expect(parseDate('lt2024-05-01T10:00:00.5Z')).toMatchObject({
      lo: t('2024-05-01T10:00:00.500Z'),
      hi: t('2024-05-01T10:00:00.600Z'),
    });
    // Partial dates: the year, the month, the day (UTC); minutes with a zone.
    expect(parseDate('2024')).toEqual({ prefix: 'eq', lo: t('2024-01-01T00:00:00Z'), hi: t('2025-01-01T00:00:00Z') });
    expect(parseDate('ge2024-02')).toEqual({
      prefix: 'ge',
      lo: t('2024-02-01T00:00:00Z'),
      hi: t('2024-03-01T00:00:00Z'),
    });
    expect(parseDate('2024-12-31')).toMatchObject({ lo: t('2024-12-31T00:00:00Z'), hi: t('2025-01-01T00:00:00Z') });
    expect(parseDate('sa2024-05-01T10:00+02:00')).toEqual({
      prefix: 'sa',
      lo: t('2024-05-01T08:00:00Z'),
      hi: t('2024-05-01T08:01:00Z'),
    });
    expect(parseDate('ne2024-05-01T10:00:00Z').prefix).toBe('ne');
    for (const bad of [
      'ap2024-05-01',
      '2024-05-01T10:00:00',
      '2024-02-30',
      'xx',
      '2024-13-01T00:00:00Z',
      '2024-05-01T24:00:00Z',
      'zz2024',
      '24',
    ]) {
      expect(() => parseDate(bad), bad).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });

  it('date: instants and periods compare as FHIR ranges', () => {
    const at = t('2024-05-01T10:00:00.400Z');
    const m = (raw: string, start: number, end = start) => periodMatches(parseDate(raw), start, end);
    expect(m('eq2024-05-01T10:00:00Z', at)).toBe(true);
    expect(m('eq2024-05-01T10:00:01Z', at)).toBe(false);
    expect(m('ge2024-05-01T10:00:00Z', at)).toBe(true);
    expect(m('gt2024-05-01T10:00:00Z', at)).toBe(false);
    expect(m('gt2024-05-01T09:59:59Z', at)).toBe(true);
    expect(m('le2024-05-01T10:00:00Z', at)).toBe(true);
    expect(m('lt2024-05-01T10:00:00Z', at)).toBe(false);
    expect(m('lt2024-05-01T10:00:01Z', at)).toBe(true);
    const [s, e] = [t('2024-05-01T00:00:00Z'), t('2024-05-15T00:00:00Z')];
    expect(m('ge2024-05-10T00:00:00Z', s, e)).toBe(true);
    expect(m('ge2024-05-16T00:00:00Z', s, e)).toBe(false);
    expect(m('lt2024-05-01T00:00:00Z', s, e)).toBe(false);
    expect(m('le2024-05-01T00:00:00Z', s, e)).toBe(true);
    expect(m('eq2024-05-10T00:00:00Z', s, e)).toBe(false);
    // Over periods (R4 search.html#prefix): eq within, ne not within, sa wholly after, eb wholly before.
    expect(m('eq2024-05', s, e)).toBe(true);
    expect(m('ne2024-05', s, e)).toBe(false);
    expect(m('ne2024-05-10', s, e)).toBe(true);
    expect(m('sa2024-04', s, e)).toBe(true);
    expect(m('sa2024-04-30T12:00:00Z', s, e)).toBe(true);
    expect(m('sa2024-05-01', s, e)).toBe(false);
    expect(m('eb2024-05-16', s, e)).toBe(true);
    expect(m('eb2024-05-14', s, e)).toBe(false);
  });

  it('date: the instants several parameters admit, as intervals newest first', () => {
    const day = (d: string) => t(`${d}T00:00:00Z`);
    expect(instantIntervals([])).toEqual([{ lo: null, hi: null }]);
    expect(instantIntervals([parseDate('ne2024-05-10')])).toEqual([
      { lo: day('2024-05-11'), hi: null },
      { lo: null, hi: day('2024-05-10') },
    ]);
    expect(instantIntervals([parseDate('ge2024-05'), parseDate('ne2024-05-10'), parseDate('lt2024-06')])).toEqual([
      { lo: day('2024-05-11'), hi: day('2024-06-01') },
      { lo: day('2024-05-01'), hi: day('2024-05-10') },
    ]);
    expect(instantIntervals([parseDate('gt2024'), parseDate('lt2024')])).toEqual([]);
    // Every instant an interval holds is one that every bound admits (periodMatches with start = end).
    const bounds = [parseDate('ne2024-05-10'), parseDate('le2024-05-20'), parseDate('sa2024-04-30')];
    const intervals = instantIntervals(bounds);
    for (let at = day('2024-04-28'); at < day('2024-05-25'); at += 6 * 3_600_000) {
      const inside = intervals.some((i) => (i.lo === null || at >= i.lo) && (i.hi === null || at < i.hi));
      expect(inside, new Date(at).toISOString()).toBe(bounds.every((b) => periodMatches(b, at, at)));
    }
  });

  it('search: unknown parameters refused unless lenient, then left out of the echo', () => {
    expect(() => parseObservationSearch({ patient: 'p-1', _sort: 'date' }, false)).toThrow(
      expect.objectContaining({ code: 'bad_request', message: expect.stringContaining('_sort') }),
    );
    const lenient = parseObservationSearch({ patient: 'p-1', _sort: 'date', category: 'vital-signs' }, true);
    expect(lenient.echo).toEqual([
      ['patient', 'p-1'],
      ['category', 'vital-signs'],
    ]);
    expect(parseObservationSearch({ subject: 'Patient/p-1', _summary: 'count' }, false)).toMatchObject({
      patientId: 'p-1',
      summaryCount: true,
    });
    for (const bad of [
      { patient: 'p-1', subject: 'p-2' },
      { patient: ['p-1', 'p-1'] },
      { patient: 'p-1', _summary: 'true' },
      { patient: 'p-1', 'code:text': 'x' },
    ]) {
      expect(() => parseObservationSearch(bad, false), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'bad_request' }),
      );
    }
  });

  it('format: FHIR JSON only, _format over Accept', () => {
    for (const [format, accept] of [
      [undefined, undefined],
      ['json', undefined],
      ['application/fhir+json', 'application/fhir+xml'],
      [undefined, 'application/fhir+json'],
      [undefined, 'application/fhir+xml;q=0.9, */*;q=0.1'],
      [undefined, 'application/json, text/plain'],
    ] as const) {
      expect(acceptsFhirJson(format, accept), `${format} ${accept}`).toBe(true);
    }
    for (const [format, accept] of [
      ['xml', undefined],
      ['application/fhir+xml', 'application/fhir+json'],
      ['ttl', undefined],
      [undefined, 'application/fhir+xml'],
      [undefined, 'text/html, application/json;q=0'],
    ] as const) {
      expect(acceptsFhirJson(format, accept), `${format} ${accept}`).toBe(false);
    }
    expect(prefersLenient('respond-async, handling=lenient')).toBe(true);
    expect(prefersLenient('handling=strict')).toBe(false);
  });

  it('_count: 1 to 1000, 50 by default', () => {
    expect(parseCount(undefined)).toBe(50);
    expect(parseCount('1000')).toBe(1000);
    for (const bad of ['0', '1001', '-1', '2.5', 'ten']) {
      expect(() => parseCount(bad)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });
});
