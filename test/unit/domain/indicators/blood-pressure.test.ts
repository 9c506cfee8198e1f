import { describe, expect, it } from 'vitest';
import { bpIndicators } from '../../../../src/domain/indicators/blood-pressure.ts';
import type { BpPoint } from '../../../../src/domain/indicators/types.ts';
import { byKey, DAY, HOUR, MIN, TO, valueOf } from './helpers.ts';

const PARIS = 'Europe/Paris';
const WINDOW = 7 * DAY;

/** `count` readings of 120/80, spread over `days` Paris days ending on TO's day (2026-06-15, noon UTC = 14:00 Paris). */
function spread(count: number, days: number): BpPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    at: TO - (i % days) * DAY - Math.floor(i / days) * 10 * MIN,
    systolic: 120,
    diastolic: 80,
  }));
}

describe('bpIndicators', () => {
  it('returns the three keys over the last 7 days, in mm[Hg] and 1', () => {
    const result = bpIndicators(spread(12, 3), TO, PARIS);
    expect(result.map((i) => [i.key, i.unit, i.from, i.to])).toEqual([
      ['bp_mean_systolic', 'mm[Hg]', TO - WINDOW, TO],
      ['bp_mean_diastolic', 'mm[Hg]', TO - WINDOW, TO],
      ['bp_above_threshold', '1', TO - WINDOW, TO],
    ]);
  });

  it('with no data: values null, n 0, not sufficient', () => {
    for (const i of bpIndicators([], TO, PARIS)) {
      expect(i.value).toBeNull();
      expect(i.n).toBe(0);
      expect(i.sufficient).toBe(false);
    }
  });

  it('computes the means on a hand-computed series (morning and evening, 3 days)', () => {
    // ESH: 2 readings morning and evening; here 4 a day on 3 days = 12.
    const systolic = [128, 131, 140, 137, 125, 133, 142, 138, 129, 134, 139, 136];
    const diastolic = [82, 84, 88, 86, 79, 83, 90, 85, 81, 84, 87, 86];
    const points = systolic.map((s, i) => ({
      at: TO - Math.floor(i / 4) * DAY - (i % 4) * HOUR,
      systolic: s,
      diastolic: diastolic[i],
    }));
    const result = bpIndicators(points, TO, PARIS);
    // Σ systolic = 1612 → 134.333…; Σ diastolic = 1015 → 84.583…
    expect(valueOf(result, 'bp_mean_systolic')).toBeCloseTo(1612 / 12, 10);
    expect(valueOf(result, 'bp_mean_systolic')).toBeCloseTo(134.3333, 4);
    expect(valueOf(result, 'bp_mean_diastolic')).toBeCloseTo(84.5833, 4);
    expect(valueOf(result, 'bp_above_threshold')).toBe(0);
    for (const i of result) {
      expect(i.n).toBe(12);
      expect(i.sufficient).toBe(true);
    }
  });

  describe('threshold (ESH 2021: mean systolic ≥ 135 or mean diastolic ≥ 85)', () => {
    const one = (systolic: number, diastolic: number): BpPoint[] => [{ at: TO, systolic, diastolic }];

    it('is 1 at exactly 135 systolic or exactly 85 diastolic', () => {
      expect(valueOf(bpIndicators(one(135, 70), TO, PARIS), 'bp_above_threshold')).toBe(1);
      expect(valueOf(bpIndicators(one(120, 85), TO, PARIS), 'bp_above_threshold')).toBe(1);
      expect(valueOf(bpIndicators(one(150, 95), TO, PARIS), 'bp_above_threshold')).toBe(1);
    });

    it('is 0 just under both', () => {
      expect(valueOf(bpIndicators(one(134, 84), TO, PARIS), 'bp_above_threshold')).toBe(0);
      // mean 134.95 shows as 135.0 but is under the threshold: full precision decides
      const points = [
        { at: TO, systolic: 134.9, diastolic: 80 },
        { at: TO - HOUR, systolic: 135, diastolic: 80 },
      ];
      expect(valueOf(bpIndicators(points, TO, PARIS), 'bp_above_threshold')).toBe(0);
    });

    it('applies to the means, not to single readings', () => {
      const points = [
        { at: TO, systolic: 170, diastolic: 100 },
        { at: TO - HOUR, systolic: 100, diastolic: 60 },
      ];
      const result = bpIndicators(points, TO, PARIS);
      expect(valueOf(result, 'bp_mean_systolic')).toBe(135);
      expect(valueOf(result, 'bp_mean_diastolic')).toBe(80);
      expect(valueOf(result, 'bp_above_threshold')).toBe(1);
    });
  });

  describe('sufficiency: ≥ 12 readings on ≥ 3 patient-local days', () => {
    it('12 readings on 2 days are not sufficient', () => {
      const result = bpIndicators(spread(12, 2), TO, PARIS);
      expect(result.map((i) => [i.n, i.sufficient])).toEqual([
        [12, false],
        [12, false],
        [12, false],
      ]);
      expect(valueOf(result, 'bp_mean_systolic')).toBe(120);
    });

    it('12 readings on 3 days are sufficient', () => {
      for (const i of bpIndicators(spread(12, 3), TO, PARIS)) expect(i.sufficient).toBe(true);
    });

    it('11 readings on 3 days are not sufficient', () => {
      for (const i of bpIndicators(spread(11, 3), TO, PARIS)) expect(i.sufficient).toBe(false);
    });

    it('counts days in the patient zone, not in UTC', () => {
      // 21:30Z is 23:30 in Paris on the same date; 22:30Z is 00:30 the next Paris day.
      const times = [
        Date.UTC(2026, 5, 13, 21, 30), // Paris 06-13; UTC 06-13
        Date.UTC(2026, 5, 13, 22, 30), // Paris 06-14; UTC 06-13
        Date.UTC(2026, 5, 14, 22, 30), // Paris 06-15; UTC 06-14
      ];
      const points = Array.from({ length: 12 }, (_, i) => ({
        at: times[i % 3] + Math.floor(i / 3) * MIN,
        systolic: 120,
        diastolic: 80,
      }));
      expect(byKey(bpIndicators(points, TO, PARIS), 'bp_mean_systolic').sufficient).toBe(true);
      expect(byKey(bpIndicators(points, TO, 'UTC'), 'bp_mean_systolic').sufficient).toBe(false);
    });
  });

  it('leaves out a reading exactly at from and after to, keeps one exactly at to', () => {
    const points = [
      { at: TO - WINDOW, systolic: 200, diastolic: 120 },
      { at: TO - WINDOW + 1, systolic: 130, diastolic: 80 },
      { at: TO, systolic: 120, diastolic: 70 },
      { at: TO + 1, systolic: 200, diastolic: 120 },
    ];
    const result = bpIndicators(points, TO, PARIS);
    expect(valueOf(result, 'bp_mean_systolic')).toBe(125);
    expect(valueOf(result, 'bp_mean_diastolic')).toBe(75);
    expect(byKey(result, 'bp_mean_systolic').n).toBe(2);
  });

  it('with one reading: the reading itself, not sufficient', () => {
    const result = bpIndicators([{ at: TO - DAY, systolic: 141, diastolic: 79 }], TO, PARIS);
    expect(valueOf(result, 'bp_mean_systolic')).toBe(141);
    expect(valueOf(result, 'bp_mean_diastolic')).toBe(79);
    expect(valueOf(result, 'bp_above_threshold')).toBe(1);
    expect(byKey(result, 'bp_above_threshold')).toMatchObject({ n: 1, sufficient: false });
  });
});
