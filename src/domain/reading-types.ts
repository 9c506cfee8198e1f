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
  /** How a FHIR R4 Observation codes a reading of this type (src/fhir/observations.ts). */
  readonly observation: ObservationCoding;
}

export interface LoincCoding {
  readonly code: string;
  readonly display?: string;
}

/** The category of an Observation (http://terminology.hl7.org/CodeSystem/observation-category). */
export type ObservationCategory = 'vital-signs' | 'laboratory' | 'activity';

export interface ObservationCoding {
  /** LOINC codings of Observation.code, in the order they are sent. */
  readonly codings: readonly LoincCoding[];
  readonly text: string;
  readonly category: ObservationCategory;
  /**
   * The R4 vital-signs profile where one applies
   * (https://hl7.org/fhir/R4/observation-vitalsigns.html): the last segment of
   * http://hl7.org/fhir/StructureDefinition/{profile}.
   */
  readonly profile?: string;
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
/** The pulse a cuff sends with blood pressure: a heart rate component of the Observation. */
export const LOINC_HEART_RATE = '8867-4';

/** The components of a blood pressure Observation, in the stored unit mm[Hg]; the pulse one in /min. */
export const BLOOD_PRESSURE_COMPONENTS = {
  systolic: { code: LOINC_SYSTOLIC, display: 'Systolic blood pressure', text: 'Systolic blood pressure' },
  diastolic: { code: LOINC_DIASTOLIC, display: 'Diastolic blood pressure', text: 'Diastolic blood pressure' },
  pulse: { code: LOINC_HEART_RATE, display: 'Heart rate', text: 'Pulse', unit: '/min' },
} as const;
/** Pulse sent with a blood pressure reading is checked against the heart rate range. */
export const PULSE_RANGE: Range = { min: 20, max: 300 };

type Spec = Omit<ReadingTypeSpec, 'type'>;

const loinc = (code: string, display?: string): LoincCoding => (display ? { code, display } : { code });

// Keyed by ReadingType: a type added to the union without its spec (or its FHIR
// coding) does not compile.
const specs = {
  heart_rate: {
    loinc: '8867-4',
    storedUnit: '/min',
    units: { '/min': identity },
    range: { min: 20, max: 300 },
    observation: {
      codings: [loinc('8867-4', 'Heart rate')],
      text: 'Heart rate',
      category: 'vital-signs',
      profile: 'heartrate',
    },
  },
  spo2: {
    loinc: '59408-5',
    storedUnit: '%',
    units: { '%': identity },
    range: { min: 50, max: 100 },
    // The oxygensat profile requires 2708-6; 59408-5 (pulse oximetry) beside it.
    observation: {
      codings: [
        loinc('2708-6', 'Oxygen saturation in Arterial blood'),
        loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'),
      ],
      text: 'Oxygen saturation (SpO2)',
      category: 'vital-signs',
      profile: 'oxygensat',
    },
  },
  blood_pressure: {
    loinc: '85354-9',
    storedUnit: 'mm[Hg]',
    units: { 'mm[Hg]': identity, kPa: kpaToMmHg },
    range: { min: 50, max: 300 },
    diastolicRange: { min: 20, max: 200 },
    observation: {
      codings: [loinc('85354-9', 'Blood pressure panel with all children optional')],
      text: 'Blood pressure',
      category: 'vital-signs',
      profile: 'bp',
    },
  },
  body_weight: {
    loinc: '29463-7',
    storedUnit: 'kg',
    units: { kg: identity, g: gToKg, '[lb_av]': lbToKg },
    range: { min: 0.5, max: 500 },
    observation: {
      codings: [loinc('29463-7', 'Body weight')],
      text: 'Body weight',
      category: 'vital-signs',
      profile: 'bodyweight',
    },
  },
  body_temperature: {
    loinc: '8310-5',
    storedUnit: 'Cel',
    units: { Cel: identity, '[degF]': fahrenheitToCelsius },
    range: { min: 25, max: 45 },
    observation: {
      codings: [loinc('8310-5', 'Body temperature')],
      text: 'Body temperature',
      category: 'vital-signs',
      profile: 'bodytemp',
    },
  },
  blood_glucose: {
    loinc: '41653-7',
    storedUnit: 'mg/dL',
    units: { 'mg/dL': identity, 'mmol/L': mmolToMgDl },
    range: { min: 10, max: 1000 },
    contexts: GLUCOSE_CONTEXTS,
    observation: { codings: [loinc('41653-7')], text: 'Blood glucose (meter)', category: 'laboratory' },
  },
  cgm_glucose: {
    loinc: '99504-3',
    storedUnit: 'mg/dL',
    units: { 'mg/dL': identity, 'mmol/L': mmolToMgDl },
    range: { min: 20, max: 500 },
    contexts: GLUCOSE_CONTEXTS,
    observation: {
      codings: [loinc('99504-3')],
      text: 'Glucose (continuous glucose monitor)',
      category: 'laboratory',
    },
  },
  respiratory_rate: {
    loinc: '9279-1',
    storedUnit: '/min',
    units: { '/min': identity },
    range: { min: 2, max: 80 },
    observation: {
      codings: [loinc('9279-1', 'Respiratory rate')],
      text: 'Respiratory rate',
      category: 'vital-signs',
      profile: 'resprate',
    },
  },
  steps: {
    loinc: '55423-8',
    storedUnit: '{steps}',
    units: { '{steps}': identity },
    range: { min: 0, max: 100000 },
    observation: { codings: [loinc('55423-8')], text: 'Steps', category: 'activity' },
  },
} as const satisfies Record<ReadingType, Spec>;

/** The reading types in the order of device-protocol.md, "Types". */
export const READING_TYPES: readonly ReadingTypeSpec[] = Object.entries(specs).map(([type, spec]) => ({
  type: type as ReadingType,
  ...spec,
}));

/** The names alone, same order. */
export const READING_TYPE_NAMES: readonly ReadingType[] = READING_TYPES.map((s) => s.type);

export function isReadingType(type: string): type is ReadingType {
  return Object.hasOwn(specs, type);
}

const byType = new Map<string, ReadingTypeSpec>(READING_TYPES.map((s) => [s.type, s]));

export function readingTypeSpec(type: string): ReadingTypeSpec | undefined {
  return byType.get(type);
}

export function acceptedUnits(spec: ReadingTypeSpec): string[] {
  return Object.keys(spec.units);
}

/**
 * Common spellings of the UCUM codes that devices send (device-protocol.md 1.1,
 * "Types"), matched exactly (no other case folding). A reading sent with one is
 * stored under the code; the unit as sent is kept in `sent_unit`.
 */
export const UNIT_SPELLINGS: Readonly<Record<string, string>> = {
  mmHg: 'mm[Hg]',
  bpm: '/min',
  'beats/min': '/min',
  'breaths/min': '/min',
  '°C': 'Cel',
  C: 'Cel',
  '°F': '[degF]',
  F: '[degF]',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  'mg/dl': 'mg/dL',
  'mmol/l': 'mmol/L',
  steps: '{steps}',
};

/** The UCUM code a sent unit stands for: itself, or the code of a common spelling. */
export function ucumCode(unit: string): string {
  return Object.hasOwn(UNIT_SPELLINGS, unit) ? UNIT_SPELLINGS[unit] : unit;
}

export function inRange(value: number, range: Range): boolean {
  return value >= range.min && value <= range.max;
}
