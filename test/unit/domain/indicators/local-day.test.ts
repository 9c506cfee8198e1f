import { describe, expect, it } from 'vitest';
import { addDays, localDate, startOfLocalDay } from '../../../../src/domain/indicators/local-day.ts';
import { HOUR } from './helpers.ts';

const PARIS = 'Europe/Paris';

describe('localDate', () => {
  it('is the calendar date in the zone, not in UTC', () => {
    expect(localDate(Date.UTC(2026, 5, 15, 21, 59, 59, 999), PARIS)).toBe('2026-06-15');
    expect(localDate(Date.UTC(2026, 5, 15, 22, 0, 0), PARIS)).toBe('2026-06-16');
    expect(localDate(Date.UTC(2026, 5, 15, 22, 0, 0), 'UTC')).toBe('2026-06-15');
    expect(localDate(Date.UTC(2026, 5, 15, 3, 0), 'America/New_York')).toBe('2026-06-14');
    expect(localDate(Date.UTC(2026, 5, 15, 18, 29, 59), 'Asia/Kolkata')).toBe('2026-06-15');
    expect(localDate(Date.UTC(2026, 5, 15, 18, 30), 'Asia/Kolkata')).toBe('2026-06-16');
  });

  it('follows the Europe/Paris DST changes of 2026', () => {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00Z.
    expect(localDate(Date.UTC(2026, 2, 28, 22, 59, 59, 999), PARIS)).toBe('2026-03-28');
    expect(localDate(Date.UTC(2026, 2, 28, 23, 0), PARIS)).toBe('2026-03-29');
    expect(localDate(Date.UTC(2026, 2, 29, 21, 59, 59, 999), PARIS)).toBe('2026-03-29');
    expect(localDate(Date.UTC(2026, 2, 29, 22, 0), PARIS)).toBe('2026-03-30');
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z.
    expect(localDate(Date.UTC(2026, 9, 24, 21, 59, 59, 999), PARIS)).toBe('2026-10-24');
    expect(localDate(Date.UTC(2026, 9, 24, 22, 0), PARIS)).toBe('2026-10-25');
    expect(localDate(Date.UTC(2026, 9, 25, 22, 59, 59, 999), PARIS)).toBe('2026-10-25');
    expect(localDate(Date.UTC(2026, 9, 25, 23, 0), PARIS)).toBe('2026-10-26');
  });

  it('rejects an unknown time zone', () => {
    expect(() => localDate(0, 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('startOfLocalDay', () => {
  it('is local midnight', () => {
    expect(startOfLocalDay('2026-06-15', PARIS)).toBe(Date.UTC(2026, 5, 14, 22));
    expect(startOfLocalDay('2026-01-15', PARIS)).toBe(Date.UTC(2026, 0, 14, 23));
    expect(startOfLocalDay('2026-06-15', 'UTC')).toBe(Date.UTC(2026, 5, 15));
    expect(startOfLocalDay('2026-06-15', 'Asia/Kolkata')).toBe(Date.UTC(2026, 5, 14, 18, 30));
    expect(startOfLocalDay('2026-06-15', 'America/Los_Angeles')).toBe(Date.UTC(2026, 5, 15, 7));
    expect(startOfLocalDay('2026-06-15', 'Pacific/Kiritimati')).toBe(Date.UTC(2026, 5, 14, 10));
  });

  it('makes Europe/Paris 2026-03-29 23 h long and 2026-10-25 25 h long', () => {
    const mar29 = startOfLocalDay('2026-03-29', PARIS);
    const mar30 = startOfLocalDay('2026-03-30', PARIS);
    expect(mar29).toBe(Date.UTC(2026, 2, 28, 23));
    expect(mar30).toBe(Date.UTC(2026, 2, 29, 22));
    expect(mar30 - mar29).toBe(23 * HOUR);

    const oct25 = startOfLocalDay('2026-10-25', PARIS);
    const oct26 = startOfLocalDay('2026-10-26', PARIS);
    expect(oct25).toBe(Date.UTC(2026, 9, 24, 22));
    expect(oct26).toBe(Date.UTC(2026, 9, 25, 23));
    expect(oct26 - oct25).toBe(25 * HOUR);

    expect(startOfLocalDay('2026-03-29', PARIS) - startOfLocalDay('2026-03-28', PARIS)).toBe(24 * HOUR);
  });

  it('starts a day whose midnight is skipped at the change (America/Santiago 2026-09-06 starts at 01:00)', () => {
    // Chile moves from -04 to -03 at 00:00 local on 2026-09-06: the day starts at 04:00Z = 01:00 local.
    expect(startOfLocalDay('2026-09-06', 'America/Santiago')).toBe(Date.UTC(2026, 8, 6, 4));
    expect(localDate(Date.UTC(2026, 8, 6, 4) - 1, 'America/Santiago')).toBe('2026-09-05');
  });

  it('takes the first midnight when midnight occurs twice (America/Havana 2026-11-01)', () => {
    // Cuba goes back from 01:00 CDT to 00:00 CST: midnight is at 04:00Z and again at 05:00Z.
    expect(startOfLocalDay('2026-11-01', 'America/Havana')).toBe(Date.UTC(2026, 10, 1, 4));
  });

  it('is the first instant of its local date, for every day of 2026 in several zones', () => {
    const zones = [
      PARIS,
      'America/New_York',
      'America/Santiago',
      'America/Havana',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Asia/Kolkata',
      'UTC',
    ];
    let checked = 0;
    for (const zone of zones) {
      let date = '2026-01-01';
      for (let i = 0; i < 365; i++) {
        const start = startOfLocalDay(date, zone);
        expect(localDate(start, zone), `${zone} ${date}`).toBe(date);
        expect(localDate(start - 1, zone), `${zone} ${date}`).toBe(addDays(date, -1));
        checked++;
        date = addDays(date, 1);
      }
    }
    expect(checked).toBe(8 * 365);
  });

  it('rejects text that is not a calendar date', () => {
    expect(() => startOfLocalDay('2026-02-29', PARIS)).toThrow(RangeError);
    expect(() => startOfLocalDay('2026-6-15', PARIS)).toThrow(RangeError);
    expect(() => startOfLocalDay('2026-06-15T00:00', PARIS)).toThrow(RangeError);
  });
});

describe('addDays', () => {
  it('is calendar arithmetic across months, years and leap days', () => {
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-04-10', -29)).toBe('2026-03-12');
  });
});
