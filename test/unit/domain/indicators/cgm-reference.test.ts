/**
 * Reference check of the CGM indicators on 14 days of a synthetic sensor at
 * 5-minute intervals (fixed seed). The expected values are computed here with
 * plain loops, independently of src/domain/indicators, straight from the
 * definitions of indicators.md (Battelino 2019, Bergenstal 2018).
 */
import { describe, expect, it } from 'vitest';
import { cgmIndicators, medianSamplingIntervalMs } from '../../../../src/domain/indicators/cgm.ts';
import type { Point } from '../../../../src/domain/indicators/types.ts';
import { byKey, DAY, HOUR, MIN, TO } from './helpers.ts';
import { mulberry32 } from '../../../../simulators/models/random.ts';

/** Standard normal by Box-Muller. */
function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * 14 days ending at `to`, one reading every 5 min (the last exactly at `to`):
 * a baseline with a dawn rise, three meals a day (gamma-shaped rises of random
 * size), some nights with a hypoglycaemic dip, sensor noise; integer mg/dL
 * clipped to the sensor's 40-400. About 8 % of readings and one 6-hour stretch
 * are missing. Plus readings just outside the window, which must not count.
 */
function syntheticSensor(seed: number, to: number): Point[] {
  const random = mulberry32(seed);
  const start = to - 14 * DAY;
  const meals: { at: number; size: number }[] = [];
  const dips: { at: number; depth: number }[] = [];
  for (let day = -1; day < 15; day++) {
    const midnight = start - (start % DAY) + day * DAY;
    for (const hour of [7.5, 12.5, 19.5]) {
      meals.push({ at: midnight + (hour + random() - 0.5) * HOUR, size: 40 + 110 * random() });
    }
    if (random() < 0.5) dips.push({ at: midnight + (2 + 2 * random()) * HOUR, depth: 50 + 50 * random() });
  }
  const gapStart = start + 5 * DAY + 3 * HOUR;
  const points: Point[] = [];
  for (let t = start + 5 * MIN; t <= to; t += 5 * MIN) {
    const hourOfDay = (t % DAY) / HOUR;
    let g = 115 + 12 * Math.sin((2 * Math.PI * (hourOfDay - 4)) / 24);
    for (const meal of meals) {
      const x = (t - meal.at) / (55 * MIN);
      if (x > 0) g += meal.size * x * Math.exp(1 - x);
    }
    for (const dip of dips) {
      const x = (t - dip.at) / (1.2 * HOUR);
      g -= dip.depth * Math.exp(-x * x);
    }
    g += 9 * gaussian(random);
    const value = Math.min(400, Math.max(40, Math.round(g)));
    const dropped = random() < 0.08 || (t >= gapStart && t < gapStart + 6 * HOUR);
    if (!dropped) points.push({ at: t, value });
  }
  points.push({ at: start, value: 41 }, { at: start - HOUR, value: 42 }, { at: to + 5 * MIN, value: 399 });
  return points;
}

interface Expected {
  n: number;
  mean: number;
  gmi: number;
  cv: number;
  tir: number;
  tbr70: number;
  tbr54: number;
  tar180: number;
  tar250: number;
  sensorActive: number;
  atBoundary: Record<number, number>;
}

/** The definitions of indicators.md with plain loops. */
function expectedIndicators(points: readonly Point[], to: number): Expected {
  const from = to - 14 * 24 * 60 * 60 * 1000;
  const values: number[] = [];
  for (const p of points) {
    if (p.at > from && p.at <= to) values.push(p.value);
  }
  const n = values.length;
  let total = 0;
  let inRange = 0;
  let below70 = 0;
  let below54 = 0;
  let above180 = 0;
  let above250 = 0;
  const atBoundary: Record<number, number> = { 54: 0, 70: 0, 180: 0, 250: 0 };
  for (const g of values) {
    total += g;
    if (g >= 70 && g <= 180) inRange++;
    if (g < 70) below70++;
    if (g < 54) below54++;
    if (g > 180) above180++;
    if (g > 250) above250++;
    if (g in atBoundary) atBoundary[g]++;
  }
  const mean = total / n;
  let squares = 0;
  for (const g of values) squares += (g - mean) ** 2;
  const sd = Math.sqrt(squares / (n - 1));
  const expectedReadings = (14 * 24 * 60) / 5;
  return {
    n,
    mean,
    gmi: 3.31 + 0.02392 * mean,
    cv: (100 * sd) / mean,
    tir: (100 * inRange) / n,
    tbr70: (100 * below70) / n,
    tbr54: (100 * below54) / n,
    tar180: (100 * above180) / n,
    tar250: (100 * above250) / n,
    sensorActive: Math.min(100, (100 * n) / expectedReadings),
    atBoundary,
  };
}

describe('CGM indicators on a 14-day synthetic sensor (seeded)', () => {
  for (const seed of [20260615, 7, 123456789]) {
    it(`match an independent computation to 0.1 (seed ${seed})`, () => {
      const points = syntheticSensor(seed, TO);
      const expected = expectedIndicators(points, TO);

      // The series is a plausible one that exercises every band and every boundary value.
      expect(expected.n).toBeGreaterThan(3400);
      expect(expected.n).toBeLessThan(4032);
      expect(expected.mean).toBeGreaterThan(110);
      expect(expected.mean).toBeLessThan(190);
      expect(expected.tir).toBeGreaterThan(40);
      expect(expected.tir).toBeLessThan(95);
      expect(expected.tbr54).toBeGreaterThan(0);
      expect(expected.tar250).toBeGreaterThan(0);
      for (const boundary of [54, 70, 180, 250]) expect(expected.atBoundary[boundary]).toBeGreaterThan(0);

      const interval = medianSamplingIntervalMs(points);
      expect(interval).toBe(5 * MIN);
      const result = cgmIndicators(points, TO, interval);
      const check = (key: string, value: number): void => {
        const indicator = byKey(result, key);
        expect(indicator.value, key).not.toBeNull();
        expect(indicator.value!, key).toBeCloseTo(value, 1);
        expect(indicator.n, key).toBe(expected.n);
      };
      check('cgm_mean', expected.mean);
      check('gmi', expected.gmi);
      check('glucose_cv', expected.cv);
      check('tir_70_180', expected.tir);
      check('tbr_70', expected.tbr70);
      check('tbr_54', expected.tbr54);
      check('tar_180', expected.tar180);
      check('tar_250', expected.tar250);
      check('sensor_active', expected.sensorActive);
      expect(byKey(result, 'tir_70_180').sufficient).toBe(expected.sensorActive >= 70);
      expect(byKey(result, 'tir_70_180').sufficient).toBe(true);
    });
  }
});
