import { describe, expect, it } from 'vitest';
import { cgmIndicators, medianSamplingIntervalMs } from '../../../../src/domain/indicators/cgm.ts';
import type { Point } from '../../../../src/domain/indicators/types.ts';
import { MG_DL_PER_MMOL_L } from '../../../../src/domain/reading-types.ts';
import { byKey, DAY, MIN, TO, valueOf } from './helpers.ts';

const WINDOW = 14 * DAY;
const GLYCEMIC_KEYS = ['cgm_mean', 'gmi', 'glucose_cv', 'tir_70_180', 'tbr_70', 'tbr_54', 'tar_180', 'tar_250'];
/** A sampling interval making the 14-day window hold exactly 10 expected readings. */
const TENTH_OF_WINDOW = WINDOW / 10;

/** `values` one minute apart, the last at `to`. */
function series(values: number[], to = TO): Point[] {
  return values.map((value, i) => ({ at: to - (values.length - 1 - i) * MIN, value }));
}

describe('cgmIndicators', () => {
  it('returns the CGM keys in order, with the 14-day window', () => {
    const result = cgmIndicators(series([100]), TO);
    expect(result.map((i) => i.key)).toEqual([...GLYCEMIC_KEYS, 'sensor_active']);
    for (const i of result) {
      expect(i.from).toBe(TO - WINDOW);
      expect(i.to).toBe(TO);
    }
    expect(result.map((i) => i.unit)).toEqual(['mg/dL', '%', '%', '%', '%', '%', '%', '%', '%']);
  });

  it('with no data: values null, n 0, not sufficient; sensor_active 0 %', () => {
    const result = cgmIndicators([], TO);
    for (const key of GLYCEMIC_KEYS) {
      expect(byKey(result, key)).toEqual({
        key,
        value: null,
        unit: key === 'cgm_mean' ? 'mg/dL' : '%',
        from: TO - WINDOW,
        to: TO,
        n: 0,
        sufficient: false,
      });
    }
    expect(byKey(result, 'sensor_active')).toEqual({
      key: 'sensor_active',
      value: 0,
      unit: '%',
      from: TO - WINDOW,
      to: TO,
      n: 0,
      sufficient: true,
    });
  });

  it('computes every indicator on a hand-computed series', () => {
    // 10 readings; interval = window / 10, so 10 are expected: sensor active 100 %.
    const values = [50, 53, 54, 69, 70, 120, 180, 181, 250, 251];
    const result = cgmIndicators(series(values), TO, TENTH_OF_WINDOW);
    // mean = 1278 / 10
    expect(valueOf(result, 'cgm_mean')).toBeCloseTo(127.8, 10);
    // GMI = 3.31 + 0.02392 × 127.8 = 3.31 + 3.056976
    expect(valueOf(result, 'gmi')).toBeCloseTo(6.366976, 10);
    // Σ(g − 127.8)² = 59619.6; sample SD = √(59619.6 / 9) = √6624.4 = 81.390417…; CV = 100 × SD / 127.8
    expect(valueOf(result, 'glucose_cv')).toBeCloseTo((100 * Math.sqrt(6624.4)) / 127.8, 10);
    expect(valueOf(result, 'glucose_cv')).toBeCloseTo(63.685772, 5);
    // 70, 120, 180 in range
    expect(valueOf(result, 'tir_70_180')).toBe(30);
    // 50, 53, 54, 69 < 70
    expect(valueOf(result, 'tbr_70')).toBe(40);
    // 50, 53 < 54
    expect(valueOf(result, 'tbr_54')).toBe(20);
    // 181, 250, 251 > 180
    expect(valueOf(result, 'tar_180')).toBe(30);
    // 251 > 250
    expect(valueOf(result, 'tar_250')).toBe(10);
    expect(valueOf(result, 'sensor_active')).toBe(100);
    for (const i of result) {
      expect(i.n).toBe(10);
      expect(i.sufficient).toBe(true);
    }
  });

  it('puts 70 and 180 in range, 54 not < 54, 250 not > 250', () => {
    const result = cgmIndicators(series([54, 70, 180, 250]), TO);
    expect(valueOf(result, 'tir_70_180')).toBe(50);
    expect(valueOf(result, 'tbr_70')).toBe(25);
    expect(valueOf(result, 'tbr_54')).toBe(0);
    expect(valueOf(result, 'tar_180')).toBe(25);
    expect(valueOf(result, 'tar_250')).toBe(0);
    expect(valueOf(result, 'cgm_mean')).toBe(138.5);
  });

  it('leaves out a reading exactly at from and after to, keeps one exactly at to', () => {
    const points = [
      { at: TO - WINDOW, value: 40 },
      { at: TO - WINDOW + 1, value: 100 },
      { at: TO, value: 200 },
      { at: TO + 1, value: 400 },
    ];
    const result = cgmIndicators(points, TO);
    expect(byKey(result, 'cgm_mean').n).toBe(2);
    expect(valueOf(result, 'cgm_mean')).toBe(150);
    expect(valueOf(result, 'tbr_70')).toBe(0);
    expect(valueOf(result, 'tar_180')).toBe(50);
    expect(valueOf(result, 'tar_250')).toBe(0);
  });

  it('with one reading: mean and percentages defined, CV null (sample SD undefined), not 0', () => {
    const result = cgmIndicators([{ at: TO - DAY, value: 65 }], TO);
    expect(valueOf(result, 'cgm_mean')).toBe(65);
    expect(valueOf(result, 'gmi')).toBeCloseTo(3.31 + 0.02392 * 65, 10);
    expect(valueOf(result, 'glucose_cv')).toBeNull();
    expect(valueOf(result, 'tir_70_180')).toBe(0);
    expect(valueOf(result, 'tbr_70')).toBe(100);
    expect(valueOf(result, 'tbr_54')).toBe(0);
    // 1 of 4032 expected readings at 5 min
    expect(valueOf(result, 'sensor_active')).toBeCloseTo(100 / 4032, 12);
    expect(byKey(result, 'cgm_mean').n).toBe(1);
    expect(byKey(result, 'cgm_mean').sufficient).toBe(false);
  });

  it('uses the sample SD (n − 1) for CV: 100 and 200 give SD 70.71, not 50', () => {
    const result = cgmIndicators(series([100, 200]), TO);
    expect(valueOf(result, 'glucose_cv')).toBeCloseTo((100 * Math.SQRT2 * 50) / 150, 10);
    expect(valueOf(result, 'glucose_cv')).toBeCloseTo(47.1405, 4);
  });

  describe('sensor activity and sufficiency', () => {
    it('is sufficient at exactly 70 % and not just under', () => {
      const interval = WINDOW / 100; // 100 readings expected
      const seventy = cgmIndicators(series(Array<number>(70).fill(120)), TO, interval);
      expect(valueOf(seventy, 'sensor_active')).toBe(70);
      for (const i of seventy) expect(i.sufficient).toBe(true);

      const sixtyNine = cgmIndicators(series(Array<number>(69).fill(120)), TO, interval);
      expect(valueOf(sixtyNine, 'sensor_active')).toBe(69);
      for (const i of sixtyNine) expect(i.sufficient).toBe(i.key === 'sensor_active');
      // the values are still computed, only flagged
      expect(valueOf(sixtyNine, 'cgm_mean')).toBe(120);
    });

    it('expects 14 d ÷ 5 min = 4032 readings when the interval is unknown', () => {
      const over = cgmIndicators(series(Array<number>(2823).fill(120)), TO);
      expect(valueOf(over, 'sensor_active')).toBeCloseTo(70.014881, 5);
      expect(byKey(over, 'tir_70_180').sufficient).toBe(true);

      const under = cgmIndicators(series(Array<number>(2822).fill(120)), TO);
      expect(valueOf(under, 'sensor_active')).toBeCloseTo(69.990079, 5);
      expect(byKey(under, 'tir_70_180').sufficient).toBe(false);
    });

    it('uses the given sampling interval: 1000 readings of a 15-min sensor are 1000 / 1344', () => {
      const points = Array.from({ length: 1000 }, (_, i) => ({ at: TO - i * 15 * MIN, value: 120 }));
      const result = cgmIndicators(points, TO, 15 * MIN);
      expect(valueOf(result, 'sensor_active')).toBeCloseTo((100 * 1000) / 1344, 10);
      expect(byKey(result, 'cgm_mean').sufficient).toBe(true);
      // with the 5-min default the same readings are 1000 / 4032
      expect(valueOf(cgmIndicators(points, TO), 'sensor_active')).toBeCloseTo((100 * 1000) / 4032, 10);
    });

    it('falls back to 5 min for an interval that is not a positive number', () => {
      const points = series(Array<number>(403).fill(120));
      for (const bad of [0, -5 * MIN, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(valueOf(cgmIndicators(points, TO, bad), 'sensor_active')).toBeCloseTo((100 * 403) / 4032, 10);
      }
    });

    it('caps sensor activity at 100 %', () => {
      const points = Array.from({ length: 5000 }, (_, i) => ({ at: TO - i * 4 * MIN, value: 120 }));
      const result = cgmIndicators(points, TO);
      expect(byKey(result, 'sensor_active').n).toBe(5000);
      expect(valueOf(result, 'sensor_active')).toBe(100);
    });
  });

  it('takes mg/dL only: 5.5 mmol/L must be converted (× 18.0156) before the call', () => {
    const mmol = 5.5;
    const mgDl = mmol * MG_DL_PER_MMOL_L;
    expect(mgDl).toBeCloseTo(99.0858, 10);
    const converted = cgmIndicators([{ at: TO, value: mgDl }], TO);
    expect(valueOf(converted, 'cgm_mean')).toBeCloseTo(99.0858, 10);
    expect(valueOf(converted, 'tir_70_180')).toBe(100);
    // The raw 5.5 would be read as 5.5 mg/dL, severe hypoglycaemia: no unit detection happens here.
    const raw = cgmIndicators([{ at: TO, value: mmol }], TO);
    expect(valueOf(raw, 'cgm_mean')).toBe(5.5);
    expect(valueOf(raw, 'tbr_54')).toBe(100);
  });

  it('does not modify its input', () => {
    const points = [
      { at: TO, value: 150 },
      { at: TO - 2 * MIN, value: 90 },
      { at: TO - MIN, value: 60 },
    ];
    const copy = structuredClone(points);
    cgmIndicators(points, TO);
    medianSamplingIntervalMs(points);
    expect(points).toEqual(copy);
  });
});

describe('medianSamplingIntervalMs', () => {
  const at = (...minutes: number[]): Point[] => minutes.map((m) => ({ at: TO + m * MIN, value: 100 }));

  it('is undefined with fewer than 2 readings', () => {
    expect(medianSamplingIntervalMs([])).toBeUndefined();
    expect(medianSamplingIntervalMs(at(0))).toBeUndefined();
  });

  it('is the median gap of the readings sorted by time', () => {
    // sorted 0, 5, 10, 25: gaps 5, 5, 15 → 5
    expect(medianSamplingIntervalMs(at(10, 0, 25, 5))).toBe(5 * MIN);
    // gaps 1, 5, 15 → 5
    expect(medianSamplingIntervalMs(at(0, 1, 6, 21))).toBe(5 * MIN);
  });

  it('averages the middle two gaps for an even count', () => {
    // gaps 5, 15 → 10
    expect(medianSamplingIntervalMs(at(0, 5, 20))).toBe(10 * MIN);
    // gaps 1, 4, 5, 15 → 4.5
    expect(medianSamplingIntervalMs(at(0, 1, 5, 10, 25))).toBe(4.5 * MIN);
  });

  it('ignores zero gaps (duplicate timestamps)', () => {
    // gaps 0, 0, 15, 15, 0 → positive 15, 15
    expect(medianSamplingIntervalMs(at(0, 0, 0, 15, 30, 30))).toBe(15 * MIN);
    expect(medianSamplingIntervalMs(at(7, 7, 7))).toBeUndefined();
  });
});
