/**
 * Property check of the aggregates the job reads instead of readings: for random
 * CGM series (several devices, random gaps and repeated instants, values across all
 * of Battelino's ranges, `to` at arbitrary milliseconds) the indicators from hourly
 * partials plus raw edge hours equal the indicators from all the readings, and for
 * random readings around DST changes adherence from daily counts equals adherence
 * from readings.
 *
 * Comparison: every count-based value (n, the range percentages, sensor_active,
 * adherence) and every window bound exactly; the mean, GMI and CV to a relative 1e-12
 * (sums taken in another order and Chan's combination of squared deviations round
 * differently from one pass over the readings).
 */
import { describe, expect, it } from 'vitest';
import {
  type AdherenceDay,
  adherenceIndicators,
  adherenceIndicatorsFromDays,
  type CgmPartial,
  type CgmReading,
  cgmIndicatorsFromPartials,
  cgmIndicatorsFromReadings,
  cgmPartialsOf,
  cgmWindowHours,
  type Indicator,
  localDate,
  utcHourStart,
} from '../../../../src/domain/indicators/index.ts';
import { DAY, HOUR, MIN } from './helpers.ts';
import { mulberry32 } from '../../../../simulators/models/random.ts';

const ROUNDED_KEYS = new Set(['cgm_mean', 'gmi', 'glucose_cv']);

function expectSameIndicators(actual: Indicator[], expected: Indicator[], context: string): void {
  expect(
    actual.map((i) => i.key),
    context,
  ).toEqual(expected.map((i) => i.key));
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const e = expected[k];
    const where = `${context} ${e.key}`;
    expect({ ...a, value: null }, where).toEqual({ ...e, value: null });
    if (e.value === null || !ROUNDED_KEYS.has(e.key)) {
      expect(a.value, where).toBe(e.value);
    } else {
      expect(a.value, where).not.toBeNull();
      expect(Math.abs((a.value as number) - e.value) / Math.max(1, Math.abs(e.value)), where).toBeLessThan(1e-12);
    }
  }
}

/** 16 days of CGM ending a little after `to`, on 1 to 3 devices, with gaps, bursts and silences. */
function randomCgm(random: () => number, to: number): CgmReading[] {
  const readings: CgmReading[] = [];
  const devices = 1 + Math.floor(random() * 3);
  for (let d = 0; d < devices; d++) {
    const deviceId = `cgm-${d}`;
    // A device may start late or stop early; some sample every 1, 5 or 15 minutes.
    const start = to - 16 * DAY + Math.floor(random() * 6 * DAY);
    const end = to + 10 * MIN - Math.floor(random() * (random() < 0.3 ? 5 * DAY : HOUR));
    const step = [MIN, 5 * MIN, 5 * MIN, 15 * MIN][Math.floor(random() * 4)];
    let at = start + Math.floor(random() * 1000);
    while (at < end) {
      // Values over every range, including the bounds 54, 70, 180 and 250 themselves.
      const bound = [54, 70, 180, 250][Math.floor(random() * 4)];
      const value = random() < 0.1 ? bound : 20 + random() * 480;
      readings.push({ deviceId, at, value });
      if (random() < 0.02) readings.push({ deviceId, at, value: 100 }); // the same instant twice
      const r = random();
      // Mostly the step with a jitter of seconds; sometimes a silence of minutes to a day.
      at += r < 0.9 ? step + Math.floor((random() - 0.5) * 20_000) : r < 0.98 ? Math.floor(random() * 3 * HOUR) : DAY;
      at = Math.max(at, readings[readings.length - 1].at + 1);
    }
  }
  return readings;
}

/**
 * What the store holds and reads: one partial per device and UTC hour over all the
 * readings of that hour (computed when its day was recomputed), the partials of the
 * whole hours of the window, and the raw readings of the two edge hours.
 */
function fromStore(
  readings: readonly CgmReading[],
  to: number,
  read: (parts: CgmPartial[]) => CgmPartial[] = (parts) => parts,
): Indicator[] {
  const { first, last } = cgmWindowHours(to);
  const stored = read(cgmPartialsOf(readings).filter((p) => p.hourStart >= first && p.hourStart <= last));
  const edges = readings.filter((r) => utcHourStart(r.at) < first || utcHourStart(r.at) > last);
  return cgmIndicatorsFromPartials(stored, edges, to);
}

/** As the store reads them: the whole hours' partials merged into one per device (Chan et al. for m2). */
function mergedPerDevice(parts: readonly CgmPartial[]): CgmPartial[] {
  const byDevice = new Map<string, CgmPartial[]>();
  for (const p of [...parts].sort((a, b) => a.hourStart - b.hourStart)) {
    byDevice.set(p.deviceId, [...(byDevice.get(p.deviceId) ?? []), p]);
  }
  return [...byDevice.values()].map((list) => {
    const n = list.reduce((a, p) => a + p.n, 0);
    const sum = list.reduce((a, p) => a + p.sum, 0);
    const m2 = list.reduce((a, p) => a + p.m2 + p.n * (p.sum / p.n - sum / n) ** 2, 0);
    const gaps = list.flatMap((p, i) => (i === 0 ? [...p.gaps] : [...p.gaps, p.firstAt - list[i - 1].lastAt]));
    const total = (key: 'below54' | 'below70' | 'in70to180' | 'above180' | 'above250') =>
      list.reduce((a, p) => a + p[key], 0);
    return {
      deviceId: list[0].deviceId,
      hourStart: list[0].hourStart,
      n,
      sum,
      m2,
      below54: total('below54'),
      below70: total('below70'),
      in70to180: total('in70to180'),
      above180: total('above180'),
      above250: total('above250'),
      firstAt: list[0].firstAt,
      lastAt: list[list.length - 1].lastAt,
      gaps,
    };
  });
}

describe('CGM indicators from hourly partials', () => {
  it('equal the indicators from all the readings, for random series and windows', () => {
    const random = mulberry32(20261207);
    for (let run = 0; run < 60; run++) {
      // `to` anywhere, to the millisecond, including exactly on an hour.
      const base = Date.UTC(2026, 2, 20) + Math.floor(random() * 300 * DAY);
      const to = run % 10 === 0 ? utcHourStart(base) : base;
      const readings = randomCgm(random, to);
      const expected = cgmIndicatorsFromReadings(readings, to);
      expectSameIndicators(fromStore(readings, to), expected, `run ${run}`);
      expectSameIndicators(fromStore(readings, to, mergedPerDevice), expected, `run ${run}, merged`);
    }
  });

  it('equal them with no reading, one reading, and readings only in the edge hours', () => {
    const to = Date.UTC(2026, 9, 25, 1, 30, 0, 123);
    const { from } = cgmWindowHours(to);
    const cases: CgmReading[][] = [
      [],
      [{ deviceId: 'a', at: to - DAY, value: 120 }],
      [
        { deviceId: 'a', at: from, value: 40 }, // at `from`: outside
        { deviceId: 'a', at: from + 1, value: 60 },
        { deviceId: 'a', at: to, value: 260 }, // at `to`: inside
        { deviceId: 'a', at: to + 1, value: 300 }, // after `to`: outside
      ],
    ];
    for (const readings of cases) {
      expectSameIndicators(fromStore(readings, to), cgmIndicatorsFromReadings(readings, to), `${readings.length}`);
    }
  });
});

describe('adherence from daily counts', () => {
  it('equals adherence from the readings, around DST changes and in zones with odd offsets', () => {
    const random = mulberry32(7);
    const zones = ['Europe/Paris', 'America/Santiago', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/New_York'];
    // Around the spring and autumn changes of both hemispheres.
    const centres = [Date.UTC(2026, 2, 29), Date.UTC(2026, 3, 5), Date.UTC(2026, 8, 6), Date.UTC(2026, 9, 25)];
    for (let run = 0; run < 80; run++) {
      const timeZone = zones[run % zones.length];
      const to = centres[Math.floor(random() * centres.length)] + Math.floor((random() - 0.3) * 20 * DAY);
      const types = ['blood_pressure', 'body_weight', 'cgm_glucose'].filter(() => random() < 0.8);
      const readings: { type: string; at: number }[] = [];
      for (const type of types) {
        const count = Math.floor(random() * 60);
        for (let i = 0; i < count; i++) readings.push({ type, at: to - Math.floor(random() * 33 * DAY) + 10 * MIN });
      }
      // What the store gives: per (type, local day) the readings at or before `to`.
      const counts = new Map<string, AdherenceDay>();
      for (const r of readings) {
        if (r.at > to) continue;
        const day = localDate(r.at, timeZone);
        const key = `${r.type}/${day}`;
        const entry = counts.get(key) ?? { type: r.type, day, n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
      const present = [...new Set(readings.filter((r) => r.at > to - 31 * DAY && r.at <= to).map((r) => r.type))];
      expect(adherenceIndicatorsFromDays([...counts.values()], to, timeZone, present), `${run} ${timeZone}`).toEqual(
        adherenceIndicators(readings, to, timeZone, present),
      );
    }
  });
});
