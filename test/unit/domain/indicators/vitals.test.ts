import { describe, expect, it } from 'vitest';
import type { Point } from '../../../../src/domain/indicators/types.ts';
import {
  heartRateIndicators,
  spo2Indicators,
  temperatureIndicators,
} from '../../../../src/domain/indicators/vitals.ts';
import { byKey, DAY, HOUR, TO, valueOf } from './helpers.ts';

/** `values` one hour apart, the last at TO. */
function hourly(values: number[]): Point[] {
  return values.map((value, i) => ({ at: TO - (values.length - 1 - i) * HOUR, value }));
}

describe('spo2Indicators', () => {
  it('computes min, mean and % < 90 on a hand-computed series (90 is not below)', () => {
    const result = spo2Indicators(hourly([95, 90, 89, 88.5]), TO);
    expect(result.map((i) => [i.key, i.unit, i.from, i.to, i.n, i.sufficient])).toEqual([
      ['spo2_min', '%', TO - DAY, TO, 4, true],
      ['spo2_mean', '%', TO - DAY, TO, 4, true],
      ['spo2_below_90', '%', TO - DAY, TO, 4, true],
    ]);
    expect(valueOf(result, 'spo2_min')).toBe(88.5);
    // 362.5 / 4
    expect(valueOf(result, 'spo2_mean')).toBe(90.625);
    // 89 and 88.5 of 4
    expect(valueOf(result, 'spo2_below_90')).toBe(50);
  });

  it('with no data: values null, n 0, not sufficient', () => {
    for (const i of spo2Indicators([], TO)) expect(i).toMatchObject({ value: null, n: 0, sufficient: false });
  });

  it('with one reading: sufficient', () => {
    const result = spo2Indicators([{ at: TO - HOUR, value: 97 }], TO);
    expect(result.map((i) => i.value)).toEqual([97, 97, 0]);
    for (const i of result) expect(i).toMatchObject({ n: 1, sufficient: true });
  });

  it('leaves out a reading exactly at from and after to, keeps one exactly at to', () => {
    const points = [
      { at: TO - DAY, value: 80 },
      { at: TO - DAY + 1, value: 94 },
      { at: TO, value: 96 },
      { at: TO + 1, value: 70 },
    ];
    const result = spo2Indicators(points, TO);
    expect(result.map((i) => i.value)).toEqual([94, 95, 0]);
    expect(byKey(result, 'spo2_min').n).toBe(2);
  });
});

describe('heartRateIndicators', () => {
  it('computes min, mean and max on a hand-computed series', () => {
    const result = heartRateIndicators(hourly([72, 60, 120, 84]), TO);
    expect(result.map((i) => [i.key, i.value, i.unit, i.n, i.sufficient])).toEqual([
      ['hr_min', 60, '/min', 4, true],
      // 336 / 4
      ['hr_mean', 84, '/min', 4, true],
      ['hr_max', 120, '/min', 4, true],
    ]);
  });

  it('with no data: values null, n 0, not sufficient', () => {
    for (const i of heartRateIndicators([], TO)) expect(i).toMatchObject({ value: null, n: 0, sufficient: false });
  });

  it('with one reading: all three are the reading', () => {
    expect(heartRateIndicators([{ at: TO, value: 55 }], TO).map((i) => i.value)).toEqual([55, 55, 55]);
  });

  it('leaves out a reading exactly at from', () => {
    const result = heartRateIndicators(
      [
        { at: TO - DAY, value: 150 },
        { at: TO - DAY + 1, value: 70 },
      ],
      TO,
    );
    expect(result.map((i) => i.value)).toEqual([70, 70, 70]);
  });
});

describe('temperatureIndicators', () => {
  it('is the max over the last 24 h, in Cel', () => {
    const result = temperatureIndicators(hourly([36.8, 38.2, 37.1]), TO);
    expect(result).toEqual([
      { key: 'temp_max', value: 38.2, unit: 'Cel', from: TO - DAY, to: TO, n: 3, sufficient: true },
    ]);
  });

  it('with no data: null, n 0, not sufficient', () => {
    expect(temperatureIndicators([], TO)).toEqual([
      { key: 'temp_max', value: null, unit: 'Cel', from: TO - DAY, to: TO, n: 0, sufficient: false },
    ]);
  });

  it('leaves out a reading exactly at from, keeps one exactly at to', () => {
    const points = [
      { at: TO - DAY, value: 39.5 },
      { at: TO, value: 37.4 },
    ];
    expect(temperatureIndicators(points, TO)[0]).toMatchObject({ value: 37.4, n: 1 });
  });
});
