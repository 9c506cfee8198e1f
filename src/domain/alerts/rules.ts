/**
 * The catalogue of alert rules (indicators.md, "Alerts", lines 48-63): each rule's
 * key, the reading types it reads, its default threshold in the stored unit of
 * device-protocol.md, and per-patient overrides of that threshold.
 *
 * Pure data and pure functions: the evaluation lives in evaluate.ts, the alert
 * lifecycle in lifecycle.ts.
 */
import type { ReadingType } from '../reading-types.ts';

export type RuleKey =
  | 'spo2_low'
  | 'weight_gain'
  | 'bp_high'
  | 'fever'
  | 'hypoglycemia'
  | 'hyperglycemia'
  | 'tachycardia'
  | 'bradycardia'
  | 'no_data';

export type BloodPressureThreshold = { systolic: number; diastolic: number };

/** A rule's threshold: a number in the rule's unit, or systolic/diastolic for `bp_high`. */
export type ThresholdValue = number | BloodPressureThreshold;

/** Per-patient overrides of the default thresholds (indicators.md line 49). */
export type Thresholds = Partial<Record<RuleKey, ThresholdValue>>;

/**
 * How urgent an open alert of a rule is, for ordering a worklist (indicators.md
 * gives no ranking; this is ours): critical = act today (level 2 hypoglycaemia,
 * hypertensive crisis), high = likely decompensation, moderate = to review,
 * low = a monitoring gap.
 */
export const ALERT_SEVERITIES = ['critical', 'high', 'moderate', 'low'] as const;

export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { critical: 3, high: 2, moderate: 1, low: 0 };

export interface AlertRule {
  readonly key: RuleKey;
  readonly severity: AlertSeverity;
  /** The reading types the rule reads; `no_data` reads whichever types are expected. */
  readonly types: readonly ReadingType[];
  readonly defaultThreshold: ThresholdValue;
  /** UCUM code of the threshold's unit (the stored unit of the types read). */
  readonly unit: string;
  readonly description: string;
}

const rules = [
  // indicators.md line 56: `spo2_low` — any SpO2 reading ≤ 92 % (override e.g. 88 % for COPD)
  {
    key: 'spo2_low',
    severity: 'high',
    types: ['spo2'],
    defaultThreshold: 92,
    unit: '%',
    description: 'An SpO2 reading at or below the threshold (default 92 %).',
  },
  // indicators.md line 57 and line 38: `weight_gain` — weight change 72 h > +2.0 kg,
  // the change being latest − earliest weight in the 72 h ending at a reading
  {
    key: 'weight_gain',
    severity: 'high',
    types: ['body_weight'],
    defaultThreshold: 2.0,
    unit: 'kg',
    description:
      'Weight rose by more than the threshold (default 2.0 kg) within 72 hours: the latest weight minus the earliest weight of the 72 hours ending at a weight reading.',
  },
  // indicators.md line 58: `bp_high` — one reading ≥ 180 systolic or ≥ 110 diastolic
  {
    key: 'bp_high',
    severity: 'critical',
    types: ['blood_pressure'],
    defaultThreshold: { systolic: 180, diastolic: 110 },
    unit: 'mm[Hg]',
    description:
      'One blood pressure reading with systolic at or above its threshold (default 180 mm[Hg]) or diastolic at or above its threshold (default 110 mm[Hg]).',
  },
  // indicators.md line 59: `fever` — temperature ≥ 38.0 °C
  {
    key: 'fever',
    severity: 'moderate',
    types: ['body_temperature'],
    defaultThreshold: 38.0,
    unit: 'Cel',
    description: 'A body temperature reading at or above the threshold (default 38.0 °C).',
  },
  // indicators.md line 60: `hypoglycemia` — glucose (meter or CGM) < 54 mg/dL (override e.g. 70)
  {
    key: 'hypoglycemia',
    severity: 'critical',
    types: ['blood_glucose', 'cgm_glucose'],
    defaultThreshold: 54,
    unit: 'mg/dL',
    description: 'A glucose reading, from a meter or a CGM, below the threshold (default 54 mg/dL).',
  },
  // indicators.md line 61: `hyperglycemia` — glucose > 250 mg/dL for 2 readings in a row
  // (meter and CGM readings form one series, ordered by time)
  {
    key: 'hyperglycemia',
    severity: 'high',
    types: ['blood_glucose', 'cgm_glucose'],
    defaultThreshold: 250,
    unit: 'mg/dL',
    description:
      'Two consecutive glucose readings, meter and CGM taken together in time order, both above the threshold (default 250 mg/dL).',
  },
  // indicators.md line 62: `tachycardia` — heart rate > 120 for 2 readings in a row
  {
    key: 'tachycardia',
    severity: 'high',
    types: ['heart_rate'],
    defaultThreshold: 120,
    unit: '/min',
    description: 'Two consecutive heart rate readings both above the threshold (default 120 /min).',
  },
  // indicators.md line 62: `bradycardia` — heart rate < 40 for 2 readings in a row
  {
    key: 'bradycardia',
    severity: 'high',
    types: ['heart_rate'],
    defaultThreshold: 40,
    unit: '/min',
    description: 'Two consecutive heart rate readings both below the threshold (default 40 /min).',
  },
  // indicators.md line 63: `no_data` — no reading of an expected type for 48 h (override e.g. 24 h);
  // expected: a type that a device now assigned to the patient sent in the last 30 days
  {
    key: 'no_data',
    severity: 'low',
    types: [],
    defaultThreshold: 48,
    unit: 'h',
    description:
      'No reading for the threshold (default 48 hours) of a type that a device now assigned to the patient sent in the last 30 days.',
  },
] as const satisfies readonly AlertRule[];

// Every RuleKey has its rule: a key added to the union without one does not compile.
type RulesWithoutEntry = Exclude<RuleKey, (typeof rules)[number]['key']>;
const everyRuleKeyHasARule: [RulesWithoutEntry] extends [never] ? true : RulesWithoutEntry = true;
void everyRuleKeyHasARule;

export const ALERT_RULES: readonly AlertRule[] = rules;

const byKey = new Map<string, AlertRule>(rules.map((r) => [r.key, r]));

export const RULE_KEYS: readonly RuleKey[] = rules.map((r) => r.key);

export function isRuleKey(key: string): key is RuleKey {
  return byKey.has(key);
}

/** The rule of a key; the rule itself is returned as is. */
export function alertRule(rule: RuleKey | AlertRule): AlertRule {
  if (typeof rule !== 'string') return rule;
  const found = byKey.get(rule);
  if (!found) throw new TypeError(`unknown alert rule ${JSON.stringify(rule)}`);
  return found;
}

export function isBloodPressureThreshold(value: unknown): value is BloodPressureThreshold {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Record<string, unknown>).systolic === 'number' &&
    typeof (value as Record<string, unknown>).diastolic === 'number'
  );
}

function positiveNumberError(value: unknown, what: string, unit: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${what} must be a number (${unit}).`;
  if (value <= 0) return `${what} must be greater than 0 (${unit}).`;
  return undefined;
}

interface Limits {
  readonly min: number;
  readonly max: number;
}

/**
 * The thresholds a clinician may set, in each rule's unit: wide enough for any
 * patient-specific target, narrow enough that a slip (fever at 100 °C, SpO2 at 150 %)
 * is refused instead of silently switching the alert off or on for good.
 */
export const THRESHOLD_LIMITS: Readonly<Record<Exclude<RuleKey, 'bp_high'>, Limits>> & {
  readonly bp_high: { readonly systolic: Limits; readonly diastolic: Limits };
} = {
  spo2_low: { min: 70, max: 99 },
  weight_gain: { min: 0.5, max: 10 },
  bp_high: { systolic: { min: 120, max: 250 }, diastolic: { min: 70, max: 150 } },
  fever: { min: 37, max: 41 },
  hypoglycemia: { min: 40, max: 100 },
  hyperglycemia: { min: 140, max: 500 },
  tachycardia: { min: 80, max: 220 },
  bradycardia: { min: 25, max: 70 },
  no_data: { min: 1, max: 720 },
};

function thresholdError(value: unknown, what: string, unit: string, limits: Limits): string | undefined {
  const invalid = positiveNumberError(value, what, unit);
  if (invalid) return invalid;
  const v = value as number;
  if (v < limits.min || v > limits.max) {
    return `${what} must be between ${limits.min} and ${limits.max} ${unit} (got ${v}).`;
  }
  return undefined;
}

/**
 * Checks a per-patient threshold for a rule: a finite number in the rule's unit
 * within THRESHOLD_LIMITS, or for `bp_high` an object with exactly `systolic` and
 * `diastolic`, each within its limits. Returns a sentence describing the problem,
 * or undefined when valid.
 */
export function validateThreshold(rule: RuleKey | AlertRule, value: unknown): string | undefined {
  return checkThreshold(alertRule(rule), value, true);
}

function checkThreshold(r: AlertRule, value: unknown, withLimits: boolean): string | undefined {
  const check = (v: unknown, what: string, limits: Limits) =>
    withLimits ? thresholdError(v, what, r.unit, limits) : positiveNumberError(v, what, r.unit);
  if (r.key === 'bp_high') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return `The threshold of bp_high must be an object with systolic and diastolic (${r.unit}).`;
    }
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => k !== 'systolic' && k !== 'diastolic');
    if (unknown.length > 0) {
      return `The threshold of bp_high has unknown field(s) ${unknown.join(', ')}: only systolic and diastolic are allowed.`;
    }
    if (!('systolic' in fields)) return 'The threshold of bp_high needs a systolic value.';
    if (!('diastolic' in fields)) return 'The threshold of bp_high needs a diastolic value.';
    const limits = THRESHOLD_LIMITS.bp_high;
    return (
      check(fields.systolic, 'The systolic threshold of bp_high', limits.systolic) ??
      check(fields.diastolic, 'The diastolic threshold of bp_high', limits.diastolic)
    );
  }
  return check(value, `The threshold of ${r.key}`, THRESHOLD_LIMITS[r.key]);
}

/**
 * The threshold that applies to a patient: the override when there is a usable one,
 * else the rule's default. The limits are checked when an override is written, not
 * here: an override saved before they existed keeps applying. Only a corrupt value
 * (not a positive number of the right shape) falls back to the default, rather than
 * stopping the evaluation of every other rule.
 */
export function effectiveThreshold(rule: RuleKey | AlertRule, overrides: Thresholds | undefined): ThresholdValue {
  const r = alertRule(rule);
  const override = overrides?.[r.key];
  if (override !== undefined && checkThreshold(r, override, false) === undefined) return override;
  return r.defaultThreshold;
}

/** The most urgent of some rules (highest severity, then catalogue order); null for none. */
export function worstRule(keys: Iterable<RuleKey>): { rule: RuleKey; severity: AlertSeverity } | null {
  const present = new Set(keys);
  let worst: AlertRule | undefined;
  // In catalogue order, so that only a strictly more urgent rule replaces an earlier one.
  for (const rule of rules) {
    if (present.has(rule.key) && (!worst || SEVERITY_RANK[rule.severity] > SEVERITY_RANK[worst.severity])) {
      worst = rule;
    }
  }
  return worst ? { rule: worst.key, severity: worst.severity } : null;
}
