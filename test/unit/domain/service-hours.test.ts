import { describe, expect, it } from 'vitest';
import { isOnDuty, nextOpening, parseServiceHours, type ServiceHours } from '../../../src/domain/service-hours.ts';

function hours(spec: string): ServiceHours {
  const parsed = parseServiceHours(spec);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.hours;
}

const PARIS = 'Europe/Paris';

describe('parseServiceHours', () => {
  it('reads days, ranges of days, lists and several time ranges', () => {
    expect(hours('mon-fri 08:00-18:00; sat 09:00-12:00').intervals).toEqual([
      [480, 1080],
      [1440 + 480, 1440 + 1080],
      [2 * 1440 + 480, 2 * 1440 + 1080],
      [3 * 1440 + 480, 3 * 1440 + 1080],
      [4 * 1440 + 480, 4 * 1440 + 1080],
      [5 * 1440 + 540, 5 * 1440 + 720],
    ]);
    expect(hours('mon,wed 08:00-12:00 14:00-18:00').intervals).toEqual([
      [480, 720],
      [840, 1080],
      [2 * 1440 + 480, 2 * 1440 + 720],
      [2 * 1440 + 840, 2 * 1440 + 1080],
    ]);
  });

  it('runs a range past midnight and wraps sunday into monday', () => {
    expect(hours('sun 20:00-08:00').intervals).toEqual([
      [0, 480],
      [6 * 1440 + 1200, 7 * 1440],
    ]);
    expect(hours('fri-mon 10:00-11:00').intervals.map(([s]) => Math.floor(s / 1440))).toEqual([0, 4, 5, 6]);
  });

  it('merges overlapping ranges and accepts 24:00 as an end', () => {
    expect(hours('mon-sun 00:00-24:00').intervals).toEqual([[0, 7 * 1440]]);
    expect(hours('mon 08:00-12:00 11:00-13:00').intervals).toEqual([[480, 780]]);
  });

  it('refuses what it cannot read with a sentence that shows the form', () => {
    for (const bad of [
      '',
      'monday 08:00-18:00',
      'mon',
      'mon 8-18',
      'mon 25:00-26:00',
      'mon 08:60-09:00',
      'xyz-fri 08:00-09:00',
    ]) {
      const parsed = parseServiceHours(bad);
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) expect(parsed.message).toMatch(/mon-fri 08:00-18:00/);
    }
  });
});

describe('isOnDuty and nextOpening', () => {
  const weekdays = hours('mon-fri 08:00-18:00');

  it('a team without hours is always on duty', () => {
    const at = new Date('2026-12-06T03:00:00Z');
    expect(isOnDuty(null, PARIS, at)).toBe(true);
    expect(nextOpening(null, PARIS, at)).toEqual(at);
  });

  it('reads the hours in the team zone', () => {
    // Monday 2026-12-07, Paris is UTC+1: 08:00 local = 07:00Z.
    expect(isOnDuty(weekdays, PARIS, new Date('2026-12-07T06:59:00Z'))).toBe(false);
    expect(isOnDuty(weekdays, PARIS, new Date('2026-12-07T07:00:00Z'))).toBe(true);
    expect(isOnDuty(weekdays, PARIS, new Date('2026-12-07T16:59:59Z'))).toBe(true);
    expect(isOnDuty(weekdays, PARIS, new Date('2026-12-07T17:00:00Z'))).toBe(false);
    expect(isOnDuty(weekdays, 'America/New_York', new Date('2026-12-07T13:00:00Z'))).toBe(true);
    expect(isOnDuty(weekdays, 'America/New_York', new Date('2026-12-07T12:59:00Z'))).toBe(false);
  });

  it('finds the next opening across a weekend', () => {
    // Friday 2026-12-04 19:00 local → Monday 2026-12-07 08:00 local.
    expect(nextOpening(weekdays, PARIS, new Date('2026-12-04T18:00:00Z')).toISOString()).toBe(
      '2026-12-07T07:00:00.000Z',
    );
    // On duty: now.
    const now = new Date('2026-12-07T10:00:00Z');
    expect(nextOpening(weekdays, PARIS, now)).toEqual(now);
    // Between two ranges of a day.
    const split = hours('mon-fri 08:00-12:00 14:00-18:00');
    expect(nextOpening(split, PARIS, new Date('2026-12-07T11:30:00Z')).toISOString()).toBe('2026-12-07T13:00:00.000Z');
  });

  it('keeps wall-clock times across a DST change', () => {
    // Paris goes from UTC+1 to UTC+2 on Sunday 2026-03-29: Monday 08:00 local is 06:00Z.
    expect(nextOpening(weekdays, PARIS, new Date('2026-03-28T12:00:00Z')).toISOString()).toBe(
      '2026-03-30T06:00:00.000Z',
    );
    // And back on Sunday 2026-10-25: Monday 08:00 local is 07:00Z.
    expect(nextOpening(weekdays, PARIS, new Date('2026-10-24T12:00:00Z')).toISOString()).toBe(
      '2026-10-26T07:00:00.000Z',
    );
  });

  it('an opening inside a DST gap is the first instant after the gap', () => {
    // 2026-03-29 02:00-03:00 does not exist in Paris; a sunday opening at 02:30 opens at 03:00 local = 01:00Z.
    const night = hours('sun 02:30-05:00');
    expect(nextOpening(night, PARIS, new Date('2026-03-28T22:00:00Z')).toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });

  it('a night shift past midnight is on duty on the next morning', () => {
    const nights = hours('mon-fri 20:00-08:00');
    // Saturday 2026-12-05 07:00 local belongs to friday's night.
    expect(isOnDuty(nights, PARIS, new Date('2026-12-05T06:00:00Z'))).toBe(true);
    expect(isOnDuty(nights, PARIS, new Date('2026-12-05T07:00:00Z'))).toBe(false);
    expect(nextOpening(nights, PARIS, new Date('2026-12-05T07:00:00Z')).toISOString()).toBe('2026-12-07T19:00:00.000Z');
  });
});
