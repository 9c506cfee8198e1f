import { describe, expect, it } from 'vitest';
import {
  HOUR,
  localDay,
  localHour,
  localTimeToEpoch,
  resolveMoment,
  sampleTimes,
} from '../../../simulators/models/time.ts';

const PARIS = 'Europe/Paris';

describe('patient-local time', () => {
  it('reads the local hour and day with the zone offset, DST included', () => {
    expect(localHour(Date.UTC(2026, 0, 15, 7, 30), PARIS)).toBe(8.5); // CET
    expect(localHour(Date.UTC(2026, 6, 15, 7, 30), PARIS)).toBe(9.5); // CEST
    expect(localHour(Date.UTC(2026, 6, 15, 7, 30), 'America/New_York')).toBe(3.5);
    expect(localDay(Date.UTC(2026, 0, 15, 23, 30), PARIS)).toBe(Date.UTC(2026, 0, 16) / 86_400_000);
  });

  it('finds the instant of a local clock time, on both sides of a DST change', () => {
    const day = Date.UTC(2026, 2, 29) / 86_400_000; // spring forward in Paris
    expect(localTimeToEpoch(day, 1, PARIS)).toBe(Date.UTC(2026, 2, 29, 0, 0));
    expect(localTimeToEpoch(day, 8, PARIS)).toBe(Date.UTC(2026, 2, 29, 6, 0));
    expect(resolveMoment({ day: 1, hour: 7.5 }, Date.UTC(2026, 0, 14, 23, 30), PARIS)).toBe(
      Date.UTC(2026, 0, 16, 6, 30),
    );
  });

  it('samples spot checks once per slot per local day, even on 23 h and 25 h days', () => {
    const sampling = { kind: 'daily', hours: [7.5, 21], jitterMin: 20 } as const;
    for (const [start, end] of [
      [Date.UTC(2026, 2, 28, 23), Date.UTC(2026, 2, 29, 22)], // 23 h local day
      [Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23)], // 25 h local day
    ]) {
      const times = sampleTimes('dst', sampling, start, end, PARIS);
      expect(times.map((t) => t.slot)).toEqual([0, 1]);
      expect(Math.abs(localHour(times[0].at, PARIS) - 7.5)).toBeLessThanOrEqual(20 / 60);
      expect(Math.abs(localHour(times[1].at, PARIS) - 21)).toBeLessThanOrEqual(20 / 60);
    }
  });

  it('samples a grid at whole seconds with a seed-dependent phase, the same in chunks', () => {
    const sampling = { kind: 'interval', intervalMin: 5 } as const;
    const start = Date.UTC(2026, 0, 1);
    const whole = sampleTimes('g', sampling, start, start + 6 * HOUR, PARIS);
    const chunks = [
      ...sampleTimes('g', sampling, start, start + 2 * HOUR + 7, PARIS),
      ...sampleTimes('g', sampling, start + 2 * HOUR + 7, start + 6 * HOUR, PARIS),
    ];
    expect(chunks).toEqual(whole);
    expect(whole).toHaveLength(72);
    expect(whole.every((t) => t.at % 1000 === 0)).toBe(true);
  });
});
