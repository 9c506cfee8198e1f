import { describe, expect, it } from 'vitest';
import type { Point } from '../../../../src/domain/indicators/types.ts';
import { weightIndicators } from '../../../../src/domain/indicators/weight.ts';
import { byKey, DAY, HOUR, TO } from './helpers.ts';

const H72 = 72 * HOUR;
const D7 = 7 * DAY;

describe('weightIndicators', () => {
  it('with no data: values null, n 0, not sufficient; the 72 h window then ends at to', () => {
    const result = weightIndicators([], TO);
    expect(result).toEqual([
      { key: 'weight_change_72h', value: null, unit: 'kg', from: TO - H72, to: TO, n: 0, sufficient: false },
      { key: 'weight_change_7d', value: null, unit: 'kg', from: TO - D7, to: TO, n: 0, sufficient: false },
    ]);
  });

  it('anchors the 72 h window at the latest reading and takes latest − earliest (hand-computed)', () => {
    const anchor = TO - 12 * HOUR;
    const points: Point[] = [
      { at: TO - 6 * DAY, value: 80.0 },
      { at: TO - 4 * DAY, value: 80.5 },
      { at: anchor - H72, value: 79.0 }, // exactly at the 72 h window's from: outside it
      { at: TO - 2 * DAY - HOUR, value: 81.0 },
      { at: TO - DAY, value: 82.3 },
      { at: anchor, value: 82.9 },
    ];
    const result = weightIndicators(points, TO);
    const h72 = byKey(result, 'weight_change_72h');
    // 82.9 − 81.0 over (anchor − 72 h, anchor]
    expect(h72.value).toBeCloseTo(1.9, 10);
    expect(h72).toMatchObject({ from: anchor - H72, to: anchor, n: 3, sufficient: true, unit: 'kg' });
    const d7 = byKey(result, 'weight_change_7d');
    // 82.9 − 80.0
    expect(d7.value).toBeCloseTo(2.9, 10);
    expect(d7).toMatchObject({ from: TO - D7, to: TO, n: 6, sufficient: true });
  });

  it('orders by time, not by input position; a loss is negative', () => {
    const points: Point[] = [
      { at: TO - HOUR, value: 70.2 },
      { at: TO - 2 * DAY, value: 71.0 },
      { at: TO - DAY, value: 70.6 },
    ];
    const result = weightIndicators(points, TO);
    expect(byKey(result, 'weight_change_72h').value).toBeCloseTo(-0.8, 10);
    expect(byKey(result, 'weight_change_7d').value).toBeCloseTo(-0.8, 10);
    expect(byKey(result, 'weight_change_72h').to).toBe(TO - HOUR);
  });

  it('with one reading: null (a change needs two readings), n 1, not sufficient', () => {
    const result = weightIndicators([{ at: TO - DAY, value: 75 }], TO);
    expect(result).toEqual([
      {
        key: 'weight_change_72h',
        value: null,
        unit: 'kg',
        from: TO - DAY - H72,
        to: TO - DAY,
        n: 1,
        sufficient: false,
      },
      { key: 'weight_change_7d', value: null, unit: 'kg', from: TO - D7, to: TO, n: 1, sufficient: false },
    ]);
  });

  it('keeps the full 72 h before an old latest reading, even before the 7 days', () => {
    // latest reading 6 days ago; its 72 h window reaches back to 9 days ago
    const points: Point[] = [
      { at: TO - 8 * DAY, value: 78.0 },
      { at: TO - 6 * DAY, value: 80.0 },
    ];
    const result = weightIndicators(points, TO);
    expect(byKey(result, 'weight_change_72h')).toMatchObject({
      value: 2,
      from: TO - 6 * DAY - H72,
      to: TO - 6 * DAY,
      n: 2,
      sufficient: true,
    });
    expect(byKey(result, 'weight_change_7d')).toMatchObject({ value: null, n: 1, sufficient: false });
  });

  it('has no anchor when the latest reading is older than 7 days (exactly 7 days is outside)', () => {
    const points: Point[] = [
      { at: TO - D7, value: 80.0 },
      { at: TO - D7 - DAY, value: 79.0 },
    ];
    const result = weightIndicators(points, TO);
    expect(byKey(result, 'weight_change_72h')).toMatchObject({ value: null, from: TO - H72, to: TO, n: 0 });
    expect(byKey(result, 'weight_change_7d')).toMatchObject({ value: null, n: 0 });
  });

  it('ignores readings after to and keeps one exactly at to', () => {
    const points: Point[] = [
      { at: TO + HOUR, value: 90 },
      { at: TO, value: 81.5 },
      { at: TO - DAY, value: 80 },
    ];
    const result = weightIndicators(points, TO);
    expect(byKey(result, 'weight_change_72h')).toMatchObject({ value: 1.5, to: TO, n: 2 });
    expect(byKey(result, 'weight_change_7d')).toMatchObject({ value: 1.5, n: 2 });
  });

  it('takes the last reading in input order as the latest when two share an instant', () => {
    const points: Point[] = [
      { at: TO - DAY, value: 80 },
      { at: TO, value: 81 },
      { at: TO, value: 81.4 },
    ];
    expect(byKey(weightIndicators(points, TO), 'weight_change_7d').value).toBeCloseTo(1.4, 10);
  });
});
