import { describe, expect, it } from 'vitest';
import {
  acceptedUnits,
  GLUCOSE_CONTEXTS,
  inRange,
  KG_PER_LB,
  LOINC_DIASTOLIC,
  LOINC_SYSTOLIC,
  MG_DL_PER_MMOL_L,
  MMHG_PER_KPA,
  PULSE_RANGE,
  READING_TYPES,
  type ReadingTypeSpec,
  readingTypeSpec,
} from '../../../src/domain/reading-types.ts';

function spec(type: string): ReadingTypeSpec {
  const s = readingTypeSpec(type);
  if (!s) throw new Error(`no spec for ${type}`);
  return s;
}

function convert(type: string, unit: string, value: number): number {
  const s = spec(type);
  expect(Object.hasOwn(s.units, unit), `${unit} accepted for ${type}`).toBe(true);
  return s.units[unit](value);
}

// device-protocol.md, "Types", verbatim.
const PROTOCOL_TABLE = [
  { type: 'heart_rate', loinc: '8867-4', units: ['/min'], min: 20, max: 300 },
  { type: 'spo2', loinc: '59408-5', units: ['%'], min: 50, max: 100 },
  { type: 'blood_pressure', loinc: '85354-9', units: ['mm[Hg]', 'kPa'], min: 50, max: 300 },
  { type: 'body_weight', loinc: '29463-7', units: ['kg', 'g', '[lb_av]'], min: 0.5, max: 500 },
  { type: 'body_temperature', loinc: '8310-5', units: ['Cel', '[degF]'], min: 25, max: 45 },
  { type: 'blood_glucose', loinc: '41653-7', units: ['mg/dL', 'mmol/L'], min: 10, max: 1000 },
  { type: 'cgm_glucose', loinc: '99504-3', units: ['mg/dL', 'mmol/L'], min: 20, max: 500 },
  { type: 'respiratory_rate', loinc: '9279-1', units: ['/min'], min: 2, max: 80 },
  { type: 'steps', loinc: '55423-8', units: ['{steps}'], min: 0, max: 100000 },
] as const;

describe('reading type catalogue', () => {
  it('has exactly the nine protocol types, in the table order', () => {
    expect(READING_TYPES.map((s) => s.type)).toEqual(PROTOCOL_TABLE.map((row) => row.type));
  });

  describe.each(PROTOCOL_TABLE)('$type', (row) => {
    it(`has LOINC ${row.loinc}`, () => {
      expect(spec(row.type).loinc).toBe(row.loinc);
    });

    it(`stores in ${row.units[0]}`, () => {
      expect(spec(row.type).storedUnit).toBe(row.units[0]);
    });

    it(`accepts exactly ${row.units.join(', ')} (stored unit first)`, () => {
      expect(acceptedUnits(spec(row.type))).toEqual([...row.units]);
    });

    it(`has the plausible range ${row.min} - ${row.max}`, () => {
      expect(spec(row.type).range).toEqual({ min: row.min, max: row.max });
    });

    it('converts the stored unit to itself', () => {
      for (const v of [0, row.min, row.max, 12.345]) {
        expect(convert(row.type, row.units[0], v)).toBe(v);
      }
    });

    it('is found by readingTypeSpec and is the catalogue entry', () => {
      expect(readingTypeSpec(row.type)).toBe(READING_TYPES.find((s) => s.type === row.type));
    });
  });

  it('blood pressure has the diastolic range 20 - 200 and the component LOINC codes', () => {
    expect(spec('blood_pressure').diastolicRange).toEqual({ min: 20, max: 200 });
    expect(LOINC_SYSTOLIC).toBe('8480-6');
    expect(LOINC_DIASTOLIC).toBe('8462-4');
  });

  it('only blood pressure has a diastolic range', () => {
    const withDiastolic = READING_TYPES.filter((s) => s.diastolicRange !== undefined).map((s) => s.type);
    expect(withDiastolic).toEqual(['blood_pressure']);
  });

  it('pulse is checked against the heart rate range, in /min', () => {
    expect(PULSE_RANGE).toEqual({ min: 20, max: 300 });
    expect(PULSE_RANGE).toEqual(spec('heart_rate').range);
  });

  it('glucose types allow exactly the four protocol contexts; other types do not restrict context', () => {
    expect([...GLUCOSE_CONTEXTS]).toEqual(['fasting', 'before_meal', 'after_meal', 'bedtime']);
    expect(spec('blood_glucose').contexts).toEqual(['fasting', 'before_meal', 'after_meal', 'bedtime']);
    expect(spec('cgm_glucose').contexts).toEqual(['fasting', 'before_meal', 'after_meal', 'bedtime']);
    const restricted = READING_TYPES.filter((s) => s.contexts !== undefined).map((s) => s.type);
    expect(restricted).toEqual(['blood_glucose', 'cgm_glucose']);
  });

  it.each([
    'HEART_RATE',
    'Heart_Rate',
    'heart-rate',
    'heart_rate ',
    'weight',
    'glucose',
    'blood_pressure_systolic',
    '',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
  ])('does not know the type %j', (type) => {
    expect(readingTypeSpec(type)).toBeUndefined();
  });

  it('has no inherited units (a unit lookup must not reach Object.prototype)', () => {
    for (const s of READING_TYPES) {
      for (const name of ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty']) {
        expect(Object.hasOwn(s.units, name), `${s.type}.${name}`).toBe(false);
        expect(acceptedUnits(s)).not.toContain(name);
      }
    }
  });
});

describe('conversion constants (device-protocol.md, "Conversions")', () => {
  it('1 kPa = 7.50062 mm[Hg]', () => expect(MMHG_PER_KPA).toBe(7.50062));
  it('1 [lb_av] = 0.45359237 kg', () => expect(KG_PER_LB).toBe(0.45359237));
  it('1 mmol/L = 18.0156 mg/dL', () => expect(MG_DL_PER_MMOL_L).toBe(18.0156));
});

describe('conversions to the stored unit', () => {
  it.each([
    [1, 7.50062],
    [16, 120.00992],
    [10.6, 79.506572],
    [13.3322, 99.999766], // 13.3322 * 7.50062 = 99.99976596
    [40, 300.0248],
    [0, 0],
  ])('blood_pressure: %d kPa = %d mm[Hg]', (kpa, mmHg) => {
    expect(convert('blood_pressure', 'kPa', kpa)).toBeCloseTo(mmHg, 4);
  });

  it.each([
    [1, 0.45359237],
    [100, 45.359237],
    [154, 69.85322498],
    [2.2046226218, 1], // 1 kg in pounds
    [0, 0],
  ])('body_weight: %d [lb_av] = %d kg', (lb, kg) => {
    expect(convert('body_weight', '[lb_av]', lb)).toBeCloseTo(kg, 7);
  });

  it.each([
    [1000, 1],
    [72500, 72.5],
    [500, 0.5],
    [500000, 500],
    [1, 0.001],
  ])('body_weight: %d g = %d kg', (g, kg) => {
    expect(convert('body_weight', 'g', g)).toBeCloseTo(kg, 9);
  });

  it.each([
    [32, 0],
    [212, 100],
    [98.6, 37],
    [-40, -40],
    [77, 25],
    [113, 45],
    [100.4, 38],
    [0, -17.7777778], // -160/9
  ])('body_temperature: %d [degF] = %d Cel', (f, c) => {
    expect(convert('body_temperature', '[degF]', f)).toBeCloseTo(c, 6);
  });

  it('[degF] to Cel is (F - 32) * 5/9, not F * 5/9 - 32', () => {
    expect(convert('body_temperature', '[degF]', 50)).toBeCloseTo(10, 9);
  });

  it.each(['blood_glucose', 'cgm_glucose'])('%s: mmol/L to mg/dL by 18.0156', (type) => {
    expect(convert(type, 'mmol/L', 1)).toBeCloseTo(18.0156, 9);
    expect(convert(type, 'mmol/L', 5.5)).toBeCloseTo(99.0858, 9);
    expect(convert(type, 'mmol/L', 10)).toBeCloseTo(180.156, 9);
    expect(convert(type, 'mmol/L', 0.5)).toBeCloseTo(9.0078, 9);
    expect(convert(type, 'mg/dL', 99.0858)).toBe(99.0858);
  });
});

describe('inRange', () => {
  const range = { min: 20, max: 300 };

  it('includes both bounds', () => {
    expect(inRange(20, range)).toBe(true);
    expect(inRange(300, range)).toBe(true);
    expect(inRange(150, range)).toBe(true);
  });

  it('excludes values just outside', () => {
    expect(inRange(19.999, range)).toBe(false);
    expect(inRange(300.001, range)).toBe(false);
  });

  it('excludes NaN', () => {
    expect(inRange(Number.NaN, range)).toBe(false);
  });

  it('handles a range starting at 0 (steps)', () => {
    expect(inRange(0, spec('steps').range)).toBe(true);
    expect(inRange(-1, spec('steps').range)).toBe(false);
    expect(inRange(100000, spec('steps').range)).toBe(true);
    expect(inRange(100001, spec('steps').range)).toBe(false);
  });
});
