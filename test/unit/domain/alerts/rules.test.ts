import { describe, expect, it } from 'vitest';
import {
  ALERT_RULES,
  RULE_KEYS,
  alertRule,
  effectiveThreshold,
  isRuleKey,
  validateThreshold,
  type Thresholds,
} from '../../../../src/domain/alerts/index.ts';
import { readingTypeSpec } from '../../../../src/domain/reading-types.ts';

describe('ALERT_RULES', () => {
  it('lists the nine rules of indicators.md with their defaults, types and units', () => {
    const table = Object.fromEntries(ALERT_RULES.map((r) => [r.key, [r.types, r.defaultThreshold, r.unit]]));
    expect(table).toEqual({
      spo2_low: [['spo2'], 92, '%'],
      weight_gain: [['body_weight'], 2.0, 'kg'],
      bp_high: [['blood_pressure'], { systolic: 180, diastolic: 110 }, 'mm[Hg]'],
      fever: [['body_temperature'], 38.0, 'Cel'],
      hypoglycemia: [['blood_glucose', 'cgm_glucose'], 54, 'mg/dL'],
      hyperglycemia: [['blood_glucose', 'cgm_glucose'], 250, 'mg/dL'],
      tachycardia: [['heart_rate'], 120, '/min'],
      bradycardia: [['heart_rate'], 40, '/min'],
      no_data: [[], 48, 'h'],
    });
    expect(RULE_KEYS).toEqual(ALERT_RULES.map((r) => r.key));
  });

  it('gives every rule a sentence and uses the stored unit of the types it reads', () => {
    for (const rule of ALERT_RULES) {
      expect(rule.description).toMatch(/^[A-Z].+\.$/);
      for (const type of rule.types) expect(readingTypeSpec(type)?.storedUnit).toBe(rule.unit);
    }
  });

  it('finds a rule by key and rejects unknown keys', () => {
    expect(alertRule('fever').defaultThreshold).toBe(38);
    expect(isRuleKey('fever')).toBe(true);
    expect(isRuleKey('hypothermia')).toBe(false);
    expect(() => alertRule('hypothermia' as never)).toThrow(/unknown alert rule/);
  });
});

describe('effectiveThreshold', () => {
  const copd: Thresholds = { spo2_low: 88, hypoglycemia: 70, weight_gain: 1.5, no_data: 24 };

  it('takes the per-patient override when there is one', () => {
    expect(effectiveThreshold('spo2_low', copd)).toBe(88);
    expect(effectiveThreshold('hypoglycemia', copd)).toBe(70);
    expect(effectiveThreshold('weight_gain', copd)).toBe(1.5);
    expect(effectiveThreshold('no_data', copd)).toBe(24);
    expect(effectiveThreshold('bp_high', { bp_high: { systolic: 170, diastolic: 100 } })).toEqual({
      systolic: 170,
      diastolic: 100,
    });
  });

  it('falls back to the default without an override', () => {
    expect(effectiveThreshold('fever', copd)).toBe(38);
    expect(effectiveThreshold('spo2_low', undefined)).toBe(92);
    expect(effectiveThreshold(alertRule('bp_high'), {})).toEqual({ systolic: 180, diastolic: 110 });
  });

  it('ignores an override of the wrong shape or sign', () => {
    expect(effectiveThreshold('bp_high', { bp_high: 180 })).toEqual({ systolic: 180, diastolic: 110 });
    expect(effectiveThreshold('fever', { fever: { systolic: 1, diastolic: 1 } })).toBe(38);
    expect(effectiveThreshold('no_data', { no_data: -24 })).toBe(48);
  });
});

describe('validateThreshold limits', () => {
  it('refuses thresholds outside the plausible limits, naming them', () => {
    expect(validateThreshold('fever', 100)).toBe('The threshold of fever must be between 37 and 41 Cel (got 100).');
    expect(validateThreshold('spo2_low', 150)).toBe('The threshold of spo2_low must be between 70 and 99 % (got 150).');
    expect(validateThreshold('no_data', 0.5)).toMatch(/between 1 and 720 h/);
    expect(validateThreshold('bp_high', { systolic: 400, diastolic: 110 })).toBe(
      'The systolic threshold of bp_high must be between 120 and 250 mm[Hg] (got 400).',
    );
    expect(validateThreshold('bp_high', { systolic: 180, diastolic: 60 })).toMatch(/diastolic .* between 70 and 150/);
  });

  it('keeps applying an override saved before the limits existed (limits are checked on write)', () => {
    expect(effectiveThreshold('hypoglycemia', { hypoglycemia: 110 })).toBe(110);
    expect(effectiveThreshold('no_data', { no_data: 1000 })).toBe(1000);
    expect(effectiveThreshold('no_data', { no_data: -3 })).toBe(48);
  });

  it('accepts the limits themselves and every default', () => {
    expect(validateThreshold('fever', 37)).toBeUndefined();
    expect(validateThreshold('fever', 41)).toBeUndefined();
    for (const rule of ALERT_RULES) expect(validateThreshold(rule, rule.defaultThreshold)).toBeUndefined();
  });
});

describe('validateThreshold', () => {
  it('accepts positive numbers, fractions included', () => {
    expect(validateThreshold('spo2_low', 88)).toBeUndefined();
    expect(validateThreshold('weight_gain', 1.5)).toBeUndefined();
    expect(validateThreshold('no_data', 24)).toBeUndefined();
  });

  it('rejects zero, negatives, non-finite numbers and non-numbers, naming the rule and unit', () => {
    expect(validateThreshold('spo2_low', 0)).toBe('The threshold of spo2_low must be greater than 0 (%).');
    expect(validateThreshold('weight_gain', -1.5)).toBe('The threshold of weight_gain must be greater than 0 (kg).');
    expect(validateThreshold('fever', Number.NaN)).toBe('The threshold of fever must be a number (Cel).');
    expect(validateThreshold('fever', Number.POSITIVE_INFINITY)).toBe('The threshold of fever must be a number (Cel).');
    expect(validateThreshold('no_data', '24')).toBe('The threshold of no_data must be a number (h).');
    expect(validateThreshold('tachycardia', null)).toMatch(/must be a number/);
    expect(validateThreshold('hypoglycemia', { systolic: 1, diastolic: 1 })).toMatch(/must be a number/);
  });

  it('accepts a blood pressure object with both fields positive', () => {
    expect(validateThreshold('bp_high', { systolic: 170, diastolic: 100 })).toBeUndefined();
  });

  it('rejects a blood pressure threshold that is not an object with exactly both positive fields', () => {
    expect(validateThreshold('bp_high', 180)).toBe(
      'The threshold of bp_high must be an object with systolic and diastolic (mm[Hg]).',
    );
    expect(validateThreshold('bp_high', null)).toMatch(/must be an object/);
    expect(validateThreshold('bp_high', [180, 110])).toMatch(/must be an object/);
    expect(validateThreshold('bp_high', { systolic: 180 })).toBe('The threshold of bp_high needs a diastolic value.');
    expect(validateThreshold('bp_high', { diastolic: 110 })).toBe('The threshold of bp_high needs a systolic value.');
    expect(validateThreshold('bp_high', { systolic: 0, diastolic: 110 })).toBe(
      'The systolic threshold of bp_high must be greater than 0 (mm[Hg]).',
    );
    expect(validateThreshold('bp_high', { systolic: 180, diastolic: '110' })).toBe(
      'The diastolic threshold of bp_high must be a number (mm[Hg]).',
    );
    expect(validateThreshold('bp_high', { systolic: 180, diastolic: 110, pulse: 120 })).toBe(
      'The threshold of bp_high has unknown field(s) pulse: only systolic and diastolic are allowed.',
    );
  });
});
