/**
 * The glucose report's maths (src/domain/glucose-profile.ts, glucose-report.ts),
 * checked by hand: the AGP counts the readings the CGM indicators count on the same
 * data, edges of the window included (the disagreement of issue #16); the daily
 * profiles are patient-local days, 25 hours long when summer time ends; the five
 * ranges come from the nested indicators.
 */
import { describe, expect, it } from 'vitest';
import { glucoseProfile as dashboardProfile } from '../../../dashboard/src/glucose-profile.ts';
import { DAILY_GAP_MS, dailyProfiles, glucoseProfile } from '../../../src/domain/glucose-profile.ts';
import { timeInRanges } from '../../../src/domain/glucose-report.ts';
import { cgmIndicatorsFromReadings } from '../../../src/domain/indicators/index.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('the AGP and the time in ranges on the same readings', () => {
  it('count the same readings: not the one at `from`, the one at `to`, not one after `to`', () => {
    const to = Date.UTC(2026, 11, 7, 16, 3, 12, 345);
    const from = to - 14 * DAY;
    const readings = [];
    for (let at = from; at <= to + 5 * MIN; at += 5 * MIN)
      readings.push({ deviceId: 'cgm', at, value: 60 + (at % 200) });
    expect(readings[0].at).toBe(from);
    expect(readings.at(-2)!.at).toBe(to);
    const tir = cgmIndicatorsFromReadings(readings, to).find((i) => i.key === 'tir_70_180')!;
    expect(tir.n).toBe(14 * 288);
    expect(glucoseProfile(readings, 'Europe/Paris', { from, to }).n).toBe(tir.n);
    // The patient page's profile, given the API's readings (ISO times) and the indicator's window.
    const api = readings.map((r, i) => ({
      id: `g${i}`,
      deviceId: r.deviceId,
      patientId: 'p',
      type: 'cgm_glucose',
      at: new Date(r.at).toISOString(),
      receivedAt: new Date(r.at).toISOString(),
      unit: 'mg/dL',
      value: r.value,
    }));
    const window = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    expect(dashboardProfile(api, 'Europe/Paris', window).n).toBe(tir.n);
    // Without the window, every reading given counts: the edges and the late one too.
    expect(dashboardProfile(api, 'Europe/Paris').n).toBe(tir.n + 2);
  });
});

describe('dailyProfiles', () => {
  it('gives the 14 local days ending with the day of `to`, a 25-hour day when summer time ends', () => {
    // Europe/Paris leaves summer time on Sunday 25 October 2026 at 03:00 CEST (01:00 UTC).
    const timeZone = 'Europe/Paris';
    const to = Date.parse('2026-10-30T12:00:00+01:00');
    const points = [];
    for (let at = to - 14 * DAY + MIN; at <= to; at += 5 * MIN) points.push({ at, value: 100 });
    const days = dailyProfiles(points, timeZone, to, 14 * DAY);
    expect(days.map((d) => d.date)).toEqual([
      '2026-10-17',
      '2026-10-18',
      '2026-10-19',
      '2026-10-20',
      '2026-10-21',
      '2026-10-22',
      '2026-10-23',
      '2026-10-24',
      '2026-10-25',
      '2026-10-26',
      '2026-10-27',
      '2026-10-28',
      '2026-10-29',
      '2026-10-30',
    ]);
    // 25 hours of readings every 5 minutes on the 25th, 24 on the others, up to 12:00 on the 30th.
    expect(days.find((d) => d.date === '2026-10-25')!.n).toBe(300);
    expect(days.find((d) => d.date === '2026-10-24')!.n).toBe(288);
    expect(days.at(-1)!.n).toBe(144);
    // The window's first, partial, local day (16 October from 13:01 CEST: 132 readings) is not among the 14.
    expect(days.reduce((sum, d) => sum + d.n, 0)).toBe(points.length - 132);
    // Runs are in wall-clock seconds of the day; the 25th's repeated hour overlaps on the clock.
    const first = days[0].runs[0];
    expect(first[0]).toEqual([60, 100]);
    expect(first.at(-1)![0]).toBe(86_400 - 4 * 60);
  });

  it('breaks a day’s line where readings are more than 30 minutes apart', () => {
    const to = Date.UTC(2026, 0, 10, 23, 59);
    const at = (h: number, m: number) => Date.UTC(2026, 0, 10, h, m);
    const points = [at(1, 0), at(1, 5), at(1, 35), at(2, 6), at(2, 10)].map((t) => ({ at: t, value: 150 }));
    expect(at(2, 6) - at(1, 35)).toBeGreaterThan(DAILY_GAP_MS);
    const [day] = dailyProfiles(points, 'UTC', to, DAY, 1);
    expect(day.n).toBe(5);
    expect(day.runs.map((r) => r.map(([s]) => s / 60))).toEqual([
      [60, 65, 95],
      [126, 130],
    ]);
  });
});

describe('timeInRanges', () => {
  it('takes the nested indicators apart, very high first, with the consensus targets', () => {
    const values: Record<string, number> = { tar_250: 6, tar_180: 26, tir_70_180: 70, tbr_70: 4, tbr_54: 1 };
    const ranges = timeInRanges((key) => values[key] ?? null);
    expect(ranges.map((r) => [r.key, r.range, r.value, `${r.target.op}${r.target.percent}`])).toEqual([
      ['very_high', '>250', 6, '<5'],
      ['high', '181–250', 20, '<25'],
      ['in_range', '70–180', 70, '>70'],
      ['low', '54–69', 3, '<4'],
      ['very_low', '<54', 1, '<1'],
    ]);
    expect(timeInRanges(() => null).every((r) => r.value === null)).toBe(true);
  });
});
