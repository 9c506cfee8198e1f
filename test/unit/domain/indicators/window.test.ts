import { describe, expect, it } from 'vitest';
import {
  ADHERENCE_WINDOW_DAYS,
  inWindow,
  inWindowOnly,
  WINDOW_14D_MS,
  WINDOW_24H_MS,
  WINDOW_72H_MS,
  WINDOW_7D_MS,
} from '../../../../src/domain/indicators/window.ts';

describe('inWindow', () => {
  it('is from < at ≤ to: a reading exactly at from is outside, exactly at to inside', () => {
    expect(inWindow(100, 100, 200)).toBe(false);
    expect(inWindow(101, 100, 200)).toBe(true);
    expect(inWindow(200, 100, 200)).toBe(true);
    expect(inWindow(201, 100, 200)).toBe(false);
    expect(inWindow(99, 100, 200)).toBe(false);
  });

  it('filters readings without reordering or modifying the input', () => {
    const readings = [{ at: 150 }, { at: 100 }, { at: 200 }, { at: 120 }];
    const copy = structuredClone(readings);
    expect(inWindowOnly(readings, 100, 200).map((r) => r.at)).toEqual([150, 200, 120]);
    expect(readings).toEqual(copy);
  });
});

describe('window lengths', () => {
  it('are the durations of indicators.md', () => {
    expect(WINDOW_14D_MS).toBe(1_209_600_000);
    expect(WINDOW_7D_MS).toBe(604_800_000);
    expect(WINDOW_24H_MS).toBe(86_400_000);
    expect(WINDOW_72H_MS).toBe(259_200_000);
    expect(ADHERENCE_WINDOW_DAYS).toBe(30);
  });
});
