import { describe, expect, it } from 'vitest';
import {
  codingMatches,
  parseCodes,
  parseCount,
  parseDate,
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
    for (const bad of ['2024-05-01', 'ge2024-05-01T10:00Z', 'ne2024-05-01T10:00:00Z', 'xx', '2024-13-01T00:00:00Z']) {
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
  });

  it('_count: 1 to 1000, 50 by default', () => {
    expect(parseCount(undefined)).toBe(50);
    expect(parseCount('1000')).toBe(1000);
    for (const bad of ['0', '1001', '-1', '2.5', 'ten']) {
      expect(() => parseCount(bad)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });
});
