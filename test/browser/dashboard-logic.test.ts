/**
 * The dashboard's own arithmetic, checked by hand computations: percentiles and the
 * ambulatory glucose profile in the patient's time zone (across a DST change), the
 * time-in-ranges segments, time-zone offsets.
 */
import { describe, expect, it } from 'vitest';
import { zoneOffsetMinutes } from '../../dashboard/src/format.ts';
import { glucoseProfile, percentile } from '../../dashboard/src/glucose-profile.ts';
import { tirSegments } from '../../dashboard/src/time-in-ranges.ts';
import type { Indicator, Reading } from '../../dashboard/src/types.ts';

const HOUR = 3_600_000;

function localHour(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: 'numeric', hourCycle: 'h23' }).formatToParts(at);
  return Number(parts.find((p) => p.type === 'hour')!.value);
}

describe('percentile', () => {
  it('interpolates linearly between closest ranks', () => {
    const sorted = [1, 2, 3, 4, 5];
    expect(percentile(sorted, 50)).toBe(3);
    expect(percentile(sorted, 25)).toBe(2);
    expect(percentile(sorted, 5)).toBeCloseTo(1.2, 10);
    expect(percentile(sorted, 95)).toBeCloseTo(4.8, 10);
    expect(percentile([7], 95)).toBe(7);
  });
});

describe('glucoseProfile', () => {
  it('folds 14 days onto the local day, across the change to summer time', () => {
    // Europe/Paris moves from UTC+1 to UTC+2 on 29 March 2026: the window straddles it.
    const timeZone = 'Europe/Paris';
    const start = Date.UTC(2026, 2, 22, 0, 0);
    const readings: Reading[] = [];
    for (let at = start; at < start + 14 * 24 * HOUR; at += 5 * 60_000) {
      readings.push({
        id: String(at),
        deviceId: 'cgm',
        patientId: 'p',
        type: 'cgm_glucose',
        at: new Date(at).toISOString(),
        receivedAt: new Date(at).toISOString(),
        unit: 'mg/dL',
        value: 100 + localHour(at, timeZone), // the local hour, read back by time of day
      });
    }
    const profile = glucoseProfile(readings, timeZone);
    expect(profile.n).toBe(14 * 288);
    expect(profile.days).toBe(15); // 14 × 24 h starting at 01:00 local: 15 calendar days
    expect(profile.x).toHaveLength(97);
    expect(profile.x[0]).toBe(450);
    expect(profile.x[96]).toBe(86_400);
    // The 12:00–12:15 slot pools 11:30–12:44: 6 readings of hour 11 and 9 of hour 12 a day.
    const noon = profile.x.indexOf(12 * 3600 + 450);
    expect(profile.p50[noon]).toBe(112);
    expect(profile.p5[noon]).toBe(111);
    expect(profile.p95[noon]).toBe(112);
    // Every slot's median is its own local hour: no day shifted by the DST change.
    for (let slot = 0; slot < 96; slot++) {
      const hour = Math.floor((slot * 15 + 7.5) / 60);
      expect(profile.p50[slot], `slot ${slot}`).toBe(100 + hour);
    }
    // The last point closes the day with the first slot's values.
    expect(profile.p50[96]).toBe(profile.p50[0]);
  });

  it('leaves a slot empty below five readings', () => {
    const profile = glucoseProfile(
      [0, 1, 2].map((i) => ({
        id: String(i),
        deviceId: 'cgm',
        patientId: 'p',
        type: 'cgm_glucose',
        at: new Date(Date.UTC(2026, 0, 10 + i, 11, 0)).toISOString(),
        receivedAt: '',
        unit: 'mg/dL',
        value: 150,
      })),
      'UTC',
    );
    expect(profile.n).toBe(3);
    expect(profile.p50.every((v) => v === null)).toBe(true);
  });
});

describe('tirSegments', () => {
  const indicator = (key: string, value: number): Indicator => ({
    key,
    value,
    unit: '%',
    from: '2026-11-08T00:00:00Z',
    to: '2026-11-22T00:00:00Z',
    n: 4032,
    sufficient: true,
    computedAt: '2026-11-22T00:00:00Z',
  });

  it('splits the nested shares: low = tbr_70 − tbr_54, high = tar_180 − tar_250', () => {
    const segments = tirSegments([
      indicator('tbr_54', 1),
      indicator('tbr_70', 4),
      indicator('tir_70_180', 70),
      indicator('tar_180', 26),
      indicator('tar_250', 6),
    ])!;
    expect(segments.map((s) => [s.key, s.value])).toEqual([
      ['very-high', 6],
      ['high', 20],
      ['in-range', 70],
      ['low', 3],
      ['very-low', 1],
    ]);
    expect(segments.reduce((a, s) => a + s.value, 0)).toBe(100);
  });

  it('is null while an indicator is missing or has no value', () => {
    expect(tirSegments([indicator('tir_70_180', 70)])).toBeNull();
    expect(
      tirSegments([
        indicator('tbr_54', 1),
        indicator('tbr_70', 4),
        { ...indicator('tir_70_180', 0), value: null },
        indicator('tar_180', 26),
        indicator('tar_250', 6),
      ]),
    ).toBeNull();
  });
});

describe('zoneOffsetMinutes', () => {
  it('gives the offset in force at an instant', () => {
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 0, 15))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 6, 15))).toBe(120);
    expect(zoneOffsetMinutes('America/New_York', Date.UTC(2026, 0, 15))).toBe(-300);
    expect(zoneOffsetMinutes('Asia/Kolkata', Date.UTC(2026, 0, 15, 12, 34, 56))).toBe(330);
    // The instant of the change: 01:00 UTC on 29 March 2026.
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 2, 29, 0, 59))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2026, 2, 29, 1, 0))).toBe(120);
  });
});

describe('routes', () => {
  it('reads the patient id of the address, and a malformed escape is an unknown page, not an error', async () => {
    const { parseRoute } = await import('../../dashboard/src/router.ts');
    expect(parseRoute('#/patients/sim-1%2Fx')).toEqual({ name: 'patient', id: 'sim-1/x' });
    expect(parseRoute('#/patients/%E0')).toEqual({ name: 'unknown', path: '/patients/%E0' });
    expect(parseRoute('')).toEqual({ name: 'home' });
    // The link a notification carries.
    expect(parseRoute('#/alerts/42')).toEqual({ name: 'alert', id: '42' });
    expect(parseRoute('#/alerts/x')).toEqual({ name: 'unknown', path: '/alerts/x' });
    // The printable glucose report of a patient.
    expect(parseRoute('#/patients/sim-1%2Fx/glucose-report')).toEqual({ name: 'glucose-report', id: 'sim-1/x' });
    expect(parseRoute('#/patients/sim-1/glucose-report/x')).toEqual({
      name: 'unknown',
      path: '/patients/sim-1/glucose-report/x',
    });
  });
});
