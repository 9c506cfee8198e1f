import { describe, expect, it } from 'vitest';
import { parseMeasuredAt, parseRfc3339 } from '../../../src/domain/timestamp.ts';

/** 2026-11-22T08:15:00Z, computed independently of the parser. */
const T_0815Z = Date.UTC(2026, 10, 22, 8, 15, 0, 0);

describe('parseRfc3339', () => {
  describe('accepts', () => {
    it('UTC with Z', () => {
      expect(parseRfc3339('2026-11-22T08:15:00Z')).toBe(T_0815Z);
      expect(parseRfc3339('2026-11-22T08:15:00Z')).toBe(1795335300000);
    });

    it('a positive offset (+01:00 is one hour ahead of UTC)', () => {
      expect(parseRfc3339('2026-11-22T08:15:00+01:00')).toBe(Date.UTC(2026, 10, 22, 7, 15, 0));
      expect(parseRfc3339('2026-11-22T09:15:00+01:00')).toBe(T_0815Z);
    });

    it('a negative offset with minutes (-05:30)', () => {
      expect(parseRfc3339('2026-11-22T08:15:00-05:30')).toBe(Date.UTC(2026, 10, 22, 13, 45, 0));
      expect(parseRfc3339('2026-11-22T02:45:00-05:30')).toBe(T_0815Z);
    });

    it('+00:00 and -00:00 as UTC', () => {
      expect(parseRfc3339('2026-11-22T08:15:00+00:00')).toBe(T_0815Z);
      expect(parseRfc3339('2026-11-22T08:15:00-00:00')).toBe(T_0815Z);
    });

    it('the largest offsets (+23:59, -23:59)', () => {
      expect(parseRfc3339('2026-11-22T08:15:00+23:59')).toBe(T_0815Z - (23 * 60 + 59) * 60_000);
      expect(parseRfc3339('2026-11-22T08:15:00-23:59')).toBe(T_0815Z + (23 * 60 + 59) * 60_000);
    });

    it('an offset that moves the instant into the previous day and year', () => {
      expect(parseRfc3339('2026-01-01T00:30:00+01:00')).toBe(Date.UTC(2025, 11, 31, 23, 30, 0));
    });

    it('lower-case t and z', () => {
      expect(parseRfc3339('2026-11-22t08:15:00z')).toBe(T_0815Z);
      expect(parseRfc3339('2026-11-22t08:15:00Z')).toBe(T_0815Z);
      expect(parseRfc3339('2026-11-22T08:15:00z')).toBe(T_0815Z);
      expect(parseRfc3339('2026-11-22t09:15:00+01:00')).toBe(T_0815Z);
    });

    it.each([
      ['.5', 500],
      ['.1', 100],
      ['.12', 120],
      ['.123', 123],
      ['.007', 7],
      ['.070', 70],
      ['.999', 999],
      ['.000', 0],
    ])('fractional seconds %s as %i ms', (fraction, ms) => {
      expect(parseRfc3339(`2026-11-22T08:15:00${fraction}Z`)).toBe(T_0815Z + ms);
    });

    it('fractional seconds with an offset', () => {
      expect(parseRfc3339('2026-11-22T09:15:00.250+01:00')).toBe(T_0815Z + 250);
    });

    it('truncates sub-millisecond digits instead of rounding', () => {
      expect(parseRfc3339('2026-11-22T08:15:00.123456789Z')).toBe(T_0815Z + 123);
      expect(parseRfc3339('2026-11-22T08:15:00.9999Z')).toBe(T_0815Z + 999);
      expect(parseRfc3339('2026-11-22T08:15:00.0009Z')).toBe(T_0815Z);
    });

    it('any number of fraction digits (RFC 3339: time-secfrac = "." 1*DIGIT)', () => {
      expect(parseRfc3339('2026-11-22T08:15:00.1234567890Z')).toBe(T_0815Z + 123);
      // 20 nines: must stay in the same second (not rounded up to 1.000 by float arithmetic).
      expect(parseRfc3339(`2026-11-22T08:15:00.${'9'.repeat(20)}Z`)).toBe(T_0815Z + 999);
    });

    it('every 3-digit fraction exactly', () => {
      for (let ms = 0; ms < 1000; ms++) {
        const text = `2026-11-22T08:15:00.${String(ms).padStart(3, '0')}Z`;
        expect(parseRfc3339(text), text).toBe(T_0815Z + ms);
      }
    });

    it('Feb 29 in leap years (divisible by 4, and by 400)', () => {
      expect(parseRfc3339('2024-02-29T12:00:00Z')).toBe(Date.UTC(2024, 1, 29, 12));
      expect(parseRfc3339('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
      expect(parseRfc3339('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    });

    it('the last day of each month', () => {
      const last = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
      for (let month = 1; month <= 12; month++) {
        const mm = String(month).padStart(2, '0');
        const dd = String(last[month - 1]);
        expect(parseRfc3339(`2026-${mm}-${dd}T00:00:00Z`), `2026-${mm}-${dd}`).toBe(
          Date.UTC(2026, month - 1, last[month - 1]),
        );
      }
    });

    it('23:59:59 and 00:00:00', () => {
      expect(parseRfc3339('2026-11-22T23:59:59Z')).toBe(Date.UTC(2026, 10, 22, 23, 59, 59));
      expect(parseRfc3339('2026-11-22T00:00:00Z')).toBe(Date.UTC(2026, 10, 22, 0, 0, 0));
    });

    it('a leap second 23:59:60 as the next second', () => {
      expect(parseRfc3339('2016-12-31T23:59:60Z')).toBe(Date.UTC(2017, 0, 1, 0, 0, 0));
    });

    it('years 0000 to 0099 literally, not as 1900 to 1999', () => {
      expect(parseRfc3339('0050-01-01T00:00:00Z')).toBe(Date.parse('0050-01-01T00:00:00.000Z'));
      expect(parseRfc3339('0050-01-01T00:00:00Z')).toBe(-60589296000000);
      expect(parseRfc3339('0000-01-01T00:00:00Z')).toBe(Date.parse('0000-01-01T00:00:00.000Z'));
      // Year 0 is a leap year in the proleptic Gregorian calendar, 1900 is not.
      expect(parseRfc3339('0000-02-29T00:00:00Z')).toBe(Date.parse('0000-02-29T00:00:00.000Z'));
      expect(parseRfc3339('9999-12-31T23:59:59Z')).toBe(Date.parse('9999-12-31T23:59:59.000Z'));
    });
  });

  describe('rejects', () => {
    it.each([
      ['no offset', '2026-11-22T08:15:00'],
      ['no offset, with fraction', '2026-11-22T08:15:00.123'],
      ['Feb 30', '2026-02-30T08:15:00Z'],
      ['Feb 29 in a common year', '2026-02-29T08:15:00Z'],
      ['Feb 29 in 1900 (divisible by 100, not 400)', '1900-02-29T00:00:00Z'],
      ['Feb 29 in 2100', '2100-02-29T00:00:00Z'],
      ['April 31', '2026-04-31T08:15:00Z'],
      ['month 13', '2026-13-01T08:15:00Z'],
      ['month 00', '2026-00-10T08:15:00Z'],
      ['day 00', '2026-01-00T08:15:00Z'],
      ['day 32', '2026-01-32T08:15:00Z'],
      ['hour 24', '2026-11-22T24:00:00Z'],
      ['minute 60', '2026-11-22T08:60:00Z'],
      ['second 61', '2026-11-22T08:15:61Z'],
      ['offset hour 24', '2026-11-22T08:15:00+24:00'],
      ['offset minute 60', '2026-11-22T08:15:00+01:60'],
      ['offset without colon', '2026-11-22T08:15:00+0100'],
      ['offset hours only', '2026-11-22T08:15:00+01'],
      ['offset of one hour digit', '2026-11-22T08:15:00+1:00'],
      ['date only', '2026-11-22'],
      ['no seconds', '2026-11-22T08:15Z'],
      ['single-digit month', '2026-1-01T08:15:00Z'],
      ['single-digit hour', '2026-11-22T8:15:00Z'],
      ['empty fraction', '2026-11-22T08:15:00.Z'],
      ['comma fraction', '2026-11-22T08:15:00,5Z'],
      ['leading space', ' 2026-11-22T08:15:00Z'],
      ['trailing space', '2026-11-22T08:15:00Z '],
      ['trailing newline', '2026-11-22T08:15:00Z\n'],
      ['two offsets', '2026-11-22T08:15:00Z+01:00'],
      ['five-digit year', '12026-11-22T08:15:00Z'],
      ['signed year', '+2026-11-22T08:15:00Z'],
      ['ISO basic format', '20261122T081500Z'],
      ['non-ASCII digits', '２０２６-11-22T08:15:00Z'],
      ['an epoch number as text', '1795335300000'],
      ['a date as JavaScript prints it', 'Sun Nov 22 2026 08:15:00 GMT+0000'],
      ['empty string', ''],
    ])('%s: %j', (_name, text) => {
      expect(parseRfc3339(text)).toBeUndefined();
    });
  });
});

describe('parseMeasuredAt', () => {
  it('parses an RFC 3339 string exactly as parseRfc3339 does', () => {
    expect(parseMeasuredAt('2026-11-22T08:15:00Z')).toBe(T_0815Z);
    expect(parseMeasuredAt('2026-11-22T09:15:00+01:00')).toBe(T_0815Z);
    expect(parseMeasuredAt('2026-11-22T02:45:00.5-05:30')).toBe(T_0815Z + 500);
    expect(parseMeasuredAt('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('takes integer epoch milliseconds as they are', () => {
    expect(parseMeasuredAt(1795335300000)).toBe(1795335300000);
    expect(parseMeasuredAt(T_0815Z)).toBe(parseMeasuredAt('2026-11-22T08:15:00Z'));
    expect(parseMeasuredAt(0)).toBe(0);
    expect(parseMeasuredAt(-1)).toBe(-1);
  });

  it('takes an integer written with an exponent or a zero fraction (JSON cannot tell them apart)', () => {
    expect(parseMeasuredAt(JSON.parse('1.7953353e12'))).toBe(1795335300000);
    expect(parseMeasuredAt(JSON.parse('1795335300000.0'))).toBe(1795335300000);
  });

  it('accepts the JavaScript date limits and rejects beyond them', () => {
    expect(parseMeasuredAt(8.64e15)).toBe(8.64e15);
    expect(parseMeasuredAt(-8.64e15)).toBe(-8.64e15);
    expect(parseMeasuredAt(8.64e15 + 1)).toBeUndefined();
    expect(parseMeasuredAt(-8.64e15 - 1)).toBeUndefined();
  });

  it.each([
    ['a fraction', 1795335300000.5],
    ['a small fraction', 0.1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['an unsafe integer', 2 ** 53],
    ['MAX_VALUE', Number.MAX_VALUE],
  ])('rejects a number that is %s', (_name, value) => {
    expect(parseMeasuredAt(value)).toBeUndefined();
  });

  it.each([
    ['epoch ms as text', '1795335300000'],
    ['zero as text', '0'],
    ['decimal text', '1795335300000.5'],
    ['RFC 3339 without offset', '2026-11-22T08:15:00'],
    ['invalid date', '2026-02-30T08:15:00Z'],
    ['empty', ''],
  ])('rejects a string that is %s', (_name, value) => {
    expect(parseMeasuredAt(value)).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['an object', { at: T_0815Z }],
    ['an array', [T_0815Z]],
    ['a bigint', 1795335300000n],
    ['a Date', new Date(T_0815Z)],
  ])('rejects %s', (_name, value) => {
    expect(parseMeasuredAt(value)).toBeUndefined();
  });
});
