import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHD_DEVICE_PROFILE } from '../../src/fhir/device.ts';
import { useTestService } from '../fixture.ts';
import { type Reading, waitFor } from '../helpers/device.ts';
import { closeFhirValidator, validateAgainst, type ValidationIssue } from '../helpers/fhir-validator.ts';

/**
 * Issue #15: every kind of Observation GET /fhir/Observation returns (each reading
 * type, each accepted unit, each glucose context, the CGM summaries, the GMI) and
 * the Device of GET /fhir/Device/{id}, fetched from the running service over HTTP,
 * validate with no error against the profiles they claim in meta.profile (the ANS
 * "Mesures de santé" one, then the R4 vital-signs one where there is one), or the
 * base R4 Observation where they claim none (test/helpers/fhir-validator.ts).
 */

const HOUR = 3_600_000;
const MES = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const R4_OBSERVATION = 'http://hl7.org/fhir/StructureDefinition/Observation';
const OID = '1.2.250.1.999.1';

/**
 * The one gap of the validator met here: R4 `bp` (and the ANS bp profile built on it)
 * slices Observation.component on `code.coding.code` and `code.coding.system`, values
 * that the profile fixes inside a nested slice (component:SystolicBP.code.coding:SBPCode);
 * @medplum/core does not follow a discriminator into a nested slice, so it never
 * matches the components and counts 0 SystolicBP / DiastolicBP whatever they hold.
 * These two messages on these two profiles are left out of the errors, and the rule
 * those slices state (LOINC 8480-6 and 8462-4 components in mm[Hg]) is asserted below.
 */
const VALIDATOR_GAP =
  /^Observation\.component Incorrect number of values provided for slice '(SystolicBP|DiastolicBP)': expected 1\.\.1, but found 0$/;
const BP_PROFILES = ['http://hl7.org/fhir/StructureDefinition/bp', `${MES}mesures-fr-observation-bp`];
const isValidatorGap = (profile: string, i: ValidationIssue) =>
  BP_PROFILES.includes(profile) && VALIDATOR_GAP.test(`${i.path} ${i.message}`);

const t = useTestService({ env: { VITALINK_AGGREGATION_INTERVAL_MS: '100', VITALINK_FHIR_OID: OID } });
let multi: MqttClient;
let sensor: MqttClient;
let clinician: string;
let otherClinician: string;
const t0 = Date.now() - 30 * HOUR;

let n = 0;
const at = () => t0 + n++ * 60_000;
const READINGS: Reading[] = [
  { id: 'hr', type: 'heart_rate', at: at(), value: 64, unit: '/min' },
  { id: 'spo2', type: 'spo2', at: at(), value: 97, unit: '%' },
  { id: 'bp-mmhg', type: 'blood_pressure', at: at(), systolic: 128, diastolic: 82, pulse: 66, unit: 'mm[Hg]' },
  { id: 'bp-kpa', type: 'blood_pressure', at: at(), systolic: 16, diastolic: 10, unit: 'kPa' },
  { id: 'w-kg', type: 'body_weight', at: at(), value: 81.2, unit: 'kg' },
  { id: 'w-g', type: 'body_weight', at: at(), value: 81200, unit: 'g' },
  { id: 'w-lb', type: 'body_weight', at: at(), value: 179, unit: '[lb_av]' },
  { id: 't-cel', type: 'body_temperature', at: at(), value: 37.2, unit: 'Cel' },
  { id: 't-degf', type: 'body_temperature', at: at(), value: 99.1, unit: '[degF]' },
  { id: 'g-mgdl', type: 'blood_glucose', at: at(), value: 104, unit: 'mg/dL' },
  { id: 'g-mmol', type: 'blood_glucose', at: at(), value: 5.5, unit: 'mmol/L' },
  { id: 'g-fasting', type: 'blood_glucose', at: at(), value: 92, unit: 'mg/dL', context: 'fasting' },
  { id: 'g-before', type: 'blood_glucose', at: at(), value: 5.1, unit: 'mmol/L', context: 'before_meal' },
  { id: 'g-after', type: 'blood_glucose', at: at(), value: 141, unit: 'mg/dL', context: 'after_meal' },
  { id: 'g-bedtime', type: 'blood_glucose', at: at(), value: 120, unit: 'mg/dL', context: 'bedtime' },
  { id: 'rr', type: 'respiratory_rate', at: at(), value: 16, unit: '/min' },
  { id: 'steps', type: 'steps', at: at(), value: 5400, unit: '{steps}' },
];
const CGM: Reading[] = [40, 60, 100, 150, 200, 260].flatMap((value, i) => [
  { id: `cgm-mg-${i}`, type: 'cgm_glucose', at: t0 + 2 * HOUR + i * 10 * 60_000, value, unit: 'mg/dL' },
  {
    id: `cgm-mmol-${i}`,
    type: 'cgm_glucose',
    at: t0 + 2 * HOUR + (i * 10 + 5) * 60_000,
    value: value / 18,
    unit: 'mmol/L',
  },
]);

beforeAll(async () => {
  multi = await t.connectDevice('prof-multi', await t.provisionDevice('prof-multi', 'p-prof-1'));
  sensor = await t.connectDevice('prof-cgm', await t.provisionDevice('prof-cgm', 'p-prof-1'));
  await t.provisionDevice('prof-other', 'p-prof-2');
  await t.provisionDevice('prof-unassigned', null);
  clinician = (await t.createToken('clinician', ['p-prof-1'])).token;
  otherClinician = (await t.createToken('clinician', ['p-prof-2'])).token;
  await multi.publishAsync('v1/devices/prof-multi/readings', JSON.stringify({ readings: READINGS }), { qos: 1 });
  await sensor.publishAsync('v1/devices/prof-cgm/readings', JSON.stringify({ readings: CGM }), { qos: 1 });
});

afterAll(closeFhirValidator);

async function fhir(path: string, token = clinician) {
  const res = await fetch(`${t.httpUrl}/fhir/${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
}

/** Every Observation of the patient, through the next links. */
async function allObservations(): Promise<any[]> {
  const out: any[] = [];
  let url: string | undefined = 'Observation?patient=p-prof-1&_count=1000';
  while (url) {
    const { status, body } = await fhir(url);
    expect(status).toBe(200);
    out.push(...(body.entry ?? []).map((e: any) => e.resource));
    const next: string | undefined = body.link.find((l: any) => l.relation === 'next')?.url;
    url = next?.slice(next.indexOf('/fhir/') + '/fhir/'.length);
  }
  return out;
}

interface Result {
  profile: string;
  resources: number;
  errors: number;
  /** Of those errors, the validator's own gap (VALIDATOR_GAP). */
  validatorGaps: number;
  warnings: number;
}

function tally(results: Map<string, Result>, profile: string, issues: ValidationIssue[]) {
  const r = results.get(profile) ?? { profile, resources: 0, errors: 0, validatorGaps: 0, warnings: 0 };
  r.resources += 1;
  r.errors += issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').length;
  r.validatorGaps += issues.filter((i) => isValidatorGap(profile, i)).length;
  r.warnings += issues.filter((i) => i.severity === 'warning').length;
  results.set(profile, r);
}

describe('FHIR resources against their profiles (through the running service)', () => {
  it('every Observation the server returns validates against each profile it claims, with no error', async () => {
    const observations = await waitFor(
      async () => {
        const all = await allObservations();
        const readings = all.filter((o) => o.identifier).length;
        const summaries = all.filter((o) => !o.identifier).map((o) => o.code.coding[0].code);
        return readings === READINGS.length + CGM.length && summaries.includes('gmi') ? all : undefined;
      },
      'every reading and the CGM summaries',
      30_000,
    );
    const results = new Map<string, Result>();
    const failures: string[] = [];
    for (const o of observations) {
      const profiles: string[] = o.meta?.profile ?? [R4_OBSERVATION];
      for (const profile of profiles) {
        const issues = await validateAgainst(o, profile);
        tally(results, profile, issues);
        for (const i of issues.filter(
          (x) => (x.severity === 'error' || x.severity === 'fatal') && !isValidatorGap(profile, x),
        )) {
          failures.push(
            `${o.identifier?.[0].value ?? o.code.coding[0].code} against ${profile}: ${i.path} ${i.message}`,
          );
        }
      }
    }
    console.log(
      [
        'profile | resources | errors (of which the validator gap) | warnings',
        ...[...results.values()].map(
          (r) => `${r.profile} | ${r.resources} | ${r.errors} (${r.validatorGaps}) | ${r.warnings}`,
        ),
      ].join('\n'),
    );
    expect(failures).toEqual([]);
    for (const bp of observations.filter((o) => o.meta?.profile?.includes(BP_PROFILES[1]))) {
      const component = (code: string) =>
        bp.component.filter((c: any) =>
          c.code.coding.some((x: any) => x.system === 'http://loinc.org' && x.code === code),
        );
      for (const code of ['8480-6', '8462-4']) {
        expect(component(code), code).toHaveLength(1);
        expect(component(code)[0].valueQuantity).toMatchObject({ system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
      }
    }

    // Each reading type but steps is in its ANS profile; the meter glucose with its moment.
    const byId = new Map(observations.filter((o) => o.identifier).map((o) => [o.identifier[0].value, o]));
    const profileOf = (id: string) => byId.get(id).meta?.profile?.[0];
    expect(profileOf('hr')).toBe(`${MES}mesures-fr-observation-heartrate`);
    expect(profileOf('spo2')).toBe(`${MES}mesures-fr-observation-oxygen-sat`);
    expect(profileOf('bp-kpa')).toBe(`${MES}mesures-fr-observation-bp`);
    expect(profileOf('w-lb')).toBe(`${MES}mesures-fr-observation-body-weight`);
    expect(profileOf('t-degf')).toBe(`${MES}mesures-fr-observation-body-temperature`);
    expect(profileOf('g-mmol')).toBe(`${MES}mesures-observation-glucose`);
    expect(profileOf('cgm-mmol-0')).toBe(`${MES}mesures-observation-glucose`);
    expect(profileOf('rr')).toBe(`${MES}mesures-fr-observation-resp-rate`);
    expect(profileOf('steps')).toBeUndefined();
    expect(byId.get('hr').meta.source).toBe(`urn:oid:${OID}`);
    expect(byId.get('w-lb').valueQuantity).toMatchObject({ code: 'kg', unit: 'kg' });
    expect(byId.get('t-degf').valueQuantity).toMatchObject({ code: 'Cel' });
    expect(byId.get('g-mmol').valueQuantity).toMatchObject({ code: 'mg/dL' });
    expect(byId.get('g-mmol').valueQuantity.value).toBeCloseTo(5.5 * 18.0156, 9);
    const moment = (id: string) => byId.get(id).extension?.[0].valueCodeableConcept.coding[0].code;
    expect(['g-fasting', 'g-before', 'g-after', 'g-bedtime', 'g-mgdl'].map(moment)).toEqual([
      '53049-3',
      '88365-2',
      '16915-1',
      'LA46-8',
      undefined,
    ]);
    const summaries = observations.filter((o) => !o.identifier);
    const gmi = summaries.find((o) => o.code.coding[0].code === 'gmi');
    expect(gmi.meta.profile).toEqual([`${MES}mesures-observation-glucose`]);
    expect(gmi.extension[0].valueCodeableConcept.coding[0].code).toBe('GEN-276');

    // A search by the codes the ANS profiles add finds what carries them.
    const search = async (code: string) =>
      (await fhir(`Observation?patient=p-prof-1&_count=1000&code=${encodeURIComponent(code)}`)).body.entry.map(
        (e: any) => e.resource.identifier?.[0].value ?? e.resource.code.coding[0].code,
      );
    expect((await search('2345-7')).sort()).toEqual(
      READINGS.filter((r) => r.type === 'blood_glucose')
        .map((r) => r.id)
        .sort(),
    );
    const taasip = await search('https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP|MED-969');
    expect(taasip.sort()).toEqual(['mean-glucose-mass-per-volume', ...CGM.map((r) => r.id)].sort());
  });

  it('GET /fhir/Device/{id}: a valid PhdDevice for a device of my patient, 404 otherwise, audited', async () => {
    const { status, body } = await fhir('Device/prof-multi');
    expect(status).toBe(200);
    expect(body.resourceType).toBe('Device');
    expect(body.identifier[1]).toEqual({ system: `urn:oid:${OID}`, value: 'prof-multi' });
    const issues = await validateAgainst(body, PHD_DEVICE_PROFILE);
    console.log(
      `${PHD_DEVICE_PROFILE} | 1 | ${issues.filter((i) => i.severity === 'error').length} | ${issues.filter((i) => i.severity === 'warning').length}`,
    );
    expect(issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    // Specializations from what the device sent: pulse oximeter, BP, thermometer, scale, glucose meter, step counter.
    expect(body.specialization.map((s: any) => s.systemType.coding[0].code)).toEqual([
      '528388',
      '528391',
      '528392',
      '528399',
      '528401',
      '528484',
    ]);

    for (const [path, token] of [
      ['Device/prof-other', clinician],
      ['Device/prof-unassigned', clinician],
      ['Device/nothing-here', clinician],
      ['Device/prof-multi', otherClinician],
    ] as const) {
      const r = await fhir(path, token);
      expect(r.status, path).toBe(404);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].diagnostics ?? r.body.issue[0].details?.text).toMatch(/does not exist/);
    }
    const allowed = await t.query(
      `SELECT DISTINCT patient_id, action FROM audit_log WHERE action = 'fhir.device.read' AND outcome = 'allowed'`,
    );
    expect(allowed.rows).toEqual([{ patient_id: 'p-prof-1', action: 'fhir.device.read' }]);
    const denied = await t.query(
      `SELECT patient_id, action FROM audit_log WHERE outcome = 'denied' AND action = 'GET /fhir/Device/:id' ORDER BY patient_id`,
    );
    expect(denied.rows).toEqual([
      { patient_id: 'p-prof-1', action: 'GET /fhir/Device/:id' },
      { patient_id: 'p-prof-2', action: 'GET /fhir/Device/:id' },
    ]);
  });
});
