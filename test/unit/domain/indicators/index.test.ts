import { describe, expect, it } from 'vitest';
import {
  adherenceIndicators,
  adherenceTypeKey,
  bpIndicators,
  cgmIndicators,
  heartRateIndicators,
  INDICATOR_KEYS,
  INDICATOR_UNITS,
  spo2Indicators,
  temperatureIndicators,
  weightIndicators,
} from '../../../../src/domain/indicators/index.ts';
import { TO } from './helpers.ts';

describe('INDICATOR_KEYS', () => {
  it('are the keys of the indicators.md table, in its order, with their units', () => {
    expect(Object.entries(INDICATOR_UNITS)).toEqual([
      ['cgm_mean', 'mg/dL'],
      ['gmi', '%'],
      ['glucose_cv', '%'],
      ['tir_70_180', '%'],
      ['tbr_70', '%'],
      ['tbr_54', '%'],
      ['tar_180', '%'],
      ['tar_250', '%'],
      ['sensor_active', '%'],
      ['bp_mean_systolic', 'mm[Hg]'],
      ['bp_mean_diastolic', 'mm[Hg]'],
      ['bp_above_threshold', '1'],
      ['weight_change_72h', 'kg'],
      ['weight_change_7d', 'kg'],
      ['spo2_min', '%'],
      ['spo2_mean', '%'],
      ['spo2_below_90', '%'],
      ['hr_min', '/min'],
      ['hr_mean', '/min'],
      ['hr_max', '/min'],
      ['temp_max', 'Cel'],
      ['adherence_days', 'd'],
    ]);
    expect(INDICATOR_KEYS).toEqual(Object.keys(INDICATOR_UNITS));
    expect(Object.isFrozen(INDICATOR_KEYS)).toBe(true);
    expect(Object.isFrozen(INDICATOR_UNITS)).toBe(true);
  });

  it('are exactly the keys the functions return, with the same units', () => {
    const all = [
      ...cgmIndicators([], TO),
      ...bpIndicators([], TO, 'Europe/Paris'),
      ...weightIndicators([], TO),
      ...spo2Indicators([], TO),
      ...heartRateIndicators([], TO),
      ...temperatureIndicators([], TO),
      ...adherenceIndicators([], TO, 'Europe/Paris', []),
    ];
    expect(all.map((i) => i.key)).toEqual([...INDICATOR_KEYS]);
    for (const i of all) expect(i.unit).toBe(INDICATOR_UNITS[i.key as keyof typeof INDICATOR_UNITS]);
  });

  it('builds the per-type adherence keys', () => {
    expect(adherenceTypeKey('body_weight')).toBe('adherence_days_body_weight');
    expect(INDICATOR_KEYS).not.toContain('adherence_days_body_weight');
  });
});
