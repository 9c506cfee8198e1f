import { describe, expect, it } from 'vitest';
import { ALERT_RULES, worstRule } from '../../../../src/domain/alerts/index.ts';

describe('alert severity', () => {
  it('gives every rule a severity', () => {
    for (const rule of ALERT_RULES) expect(['critical', 'high', 'moderate', 'low']).toContain(rule.severity);
  });

  it('picks the most urgent rule, then the first in the catalogue', () => {
    expect(worstRule([])).toBeNull();
    expect(worstRule(['no_data', 'fever'])).toEqual({ rule: 'fever', severity: 'moderate' });
    expect(worstRule(['spo2_low', 'hypoglycemia', 'no_data'])).toEqual({ rule: 'hypoglycemia', severity: 'critical' });
    // bp_high and hypoglycemia are both critical: bp_high comes first in indicators.md.
    expect(worstRule(['hypoglycemia', 'bp_high'])).toEqual({ rule: 'bp_high', severity: 'critical' });
  });
});
