/**
 * The catalogue of reading types of the device protocol (device-protocol.md, "Types"):
 * LOINC code, accepted UCUM units (stored unit first), conversions to the stored
 * unit and the plausible range in the stored unit.
 */

export type ReadingType =
  | 'heart_rate'
  | 'spo2'
  | 'blood_pressure'
  | 'body_weight'
  | 'body_temperature'
  | 'blood_glucose'
  | 'cgm_glucose'
  | 'respiratory_rate'
  | 'steps';

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface ReadingTypeSpec {
  readonly type: ReadingType;
  readonly loinc: string;
  /** UCUM code of the stored unit. */
  readonly storedUnit: string;
  /** Accepted UCUM codes, each with its conversion to the stored unit. */
  readonly units: Readonly<Record<string, (value: number) => number>>;
  /** Plausible range of `value` (or of systolic/diastolic for blood pressure), stored unit. */
  readonly range: Range;
  readonly diastolicRange?: Range;
  /** Allowed values of `context`; undefined means any short text. */
  readonly contexts?: readonly string[];
}

// device-protocol.md, "Conversions"
export const MMHG_PER_KPA = 7.50062;
export const KG_PER_LB = 0.45359237;
export const MG_DL_PER_MMOL_L = 18.0156;

const identity = (v: number): number => v;
const kpaToMmHg = (v: number): number => v * MMHG_PER_KPA;
const gToKg = (v: number): number => v / 1000;
const lbToKg = (v: number): number => v * KG_PER_LB;
const fahrenheitToCelsius = (v: number): number => ((v - 32) * 5) / 9;
const mmolToMgDl = (v: number): number => v * MG_DL_PER_MMOL_L;

export const GLUCOSE_CONTEXTS = ['fasting', 'before_meal', 'after_meal', 'bedtime'] as const;

/** LOINC codes of the blood pressure components (device-protocol.md). */
export const LOINC_SYSTOLIC = '8480-6';
export const LOINC_DIASTOLIC = '8462-4';
/** Pulse sent with a blood pressure reading is checked against the heart rate range. */
export const PULSE_RANGE: Range = { min: 20, max: 300 };

const specs: readonly ReadingTypeSpec[] = [
  {
    type: 'heart_rate',
    loinc: '8867-4',
    storedUnit: '/min',
    units: { '/min': identity },
    range: { min: 20, max: 300 },
  },
  { type: 'spo2', loinc: '59408-5', storedUnit: '%', units: { '%': identity }, range: { min: 50, max: 100 } },
  {
    type: 'blood_pressure',
    loinc: '85354-9',
    storedUnit: 'mm[Hg]',
    units: { 'mm[Hg]': identity, kPa: kpaToMmHg },
    range: { min: 50, max: 300 },
    diastolicRange: { min: 20, max: 200 },
  },
  {
    type: 'body_weight',
    loinc: '29463-7',
    storedUnit: 'kg',
    units: { kg: identity, g: gToKg, '[lb_av]': lbToKg },
    range: { min: 0.5, max: 500 },
  },
  {
    type: 'body_temperature',
    loinc: '8310-5',
    storedUnit: 'Cel',
    units: { Cel: identity, '[degF]': fahrenheitToCelsius },
    range: { min: 25, max: 45 },
  },
  {
    type: 'blood_glucose',
    loinc: '41653-7',
    storedUnit: 'mg/dL',
    units: { 'mg/dL': identity, 'mmol/L': mmolToMgDl },
    range: { min: 10, max: 1000 },
    contexts: GLUCOSE_CONTEXTS,
  },
  {
    type: 'cgm_glucose',
    loinc: '99504-3',
    storedUnit: 'mg/dL',
    units: { 'mg/dL': identity, 'mmol/L': mmolToMgDl },
    range: { min: 20, max: 500 },
    contexts: GLUCOSE_CONTEXTS,
  },
  {
    type: 'respiratory_rate',
    loinc: '9279-1',
    storedUnit: '/min',
    units: { '/min': identity },
    range: { min: 2, max: 80 },
  },
  {
    type: 'steps',
    loinc: '55423-8',
    storedUnit: '{steps}',
    units: { '{steps}': identity },
    range: { min: 0, max: 100000 },
  },
];

const byType = new Map<string, ReadingTypeSpec>(specs.map((s) => [s.type, s]));

export const READING_TYPES: readonly ReadingTypeSpec[] = specs;

export function readingTypeSpec(type: string): ReadingTypeSpec | undefined {
  return byType.get(type);
}

export function acceptedUnits(spec: ReadingTypeSpec): string[] {
  return Object.keys(spec.units);
}

export function inRange(value: number, range: Range): boolean {
  return value >= range.min && value <= range.max;
}
