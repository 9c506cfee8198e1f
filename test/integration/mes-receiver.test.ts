import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readingBundle } from '../../src/actions/mes-bundles.ts';
import { readMesSettings } from '../../src/config.ts';
import { MES_FEEDABLE_TYPES } from '../../src/domain/mes-feed.ts';
import { PHD_DEVICE_PROFILE } from '../../src/fhir/device.ts';
import { feedingBundle, type FeedingBundle, type Resource } from '../../src/fhir/mes-bundle.ts';
import type { MesReading } from '../../src/store/mes-pushes.repository.ts';
import { closeFhirValidator, errorsOf, validateAgainst } from '../helpers/fhir-validator.ts';
import { mesBundleIssues, MesReceiver } from '../helpers/mes-receiver.ts';

/**
 * The receiver's rules (french-interop.md, "The feeding bundle", rules 1–8, from the
 * IG's page Le-flux-d-alimentation-des-mesures.md), each positive and negative,
 * against the mock receiver with hand-built bundles; and the builder's output
 * passing all of them.
 */

afterAll(closeFhirValidator);
/**
 * The validator's known gap on the bp profiles (test/integration/fhir-profiles.test.ts
 * says why: a pattern inside a nested slice): it counts no SystolicBP / DiastolicBP
 * whatever the components hold. The receiver's rules above check the components' values.
 */
const VALIDATOR_BP_GAP =
  /^Observation\.component Incorrect number of values provided for slice '(SystolicBP|DiastolicBP)': expected 1\.\.1, but found 0$/;

const EDITOR = '1.2.250.1.999.42';
const INS = { system: 'urn:oid:1.2.250.1.213.1.4.10', value: '255082A12345678' };
const BASE = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const MOMENT = `${BASE}mesures-moment-of-measurement`;
const DAYS = `${BASE}mesures-number-of-days`;
const DEVICE_UUID = '3bc44de3-069d-442d-829b-f3ef68cae371';

/** The IG's example call (body weight, a Generic 20601 device), with an INS as subject: valid. */
function handBuilt(): any {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        resource: {
          resourceType: 'Device',
          id: DEVICE_UUID,
          meta: { profile: ['http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice'] },
          identifier: [{ system: `urn:oid:${EDITOR}.7`, value: 'FE-ED-AB-AA-DE-AD-77-C5' }],
          manufacturer: 'OMRONHEALTHCARE',
          modelNumber: 'HEM-9200T',
        },
        request: {
          method: 'POST',
          url: 'Device',
          ifNoneExist: `identifier=urn:oid:${EDITOR}.7|FE-ED-AB-AA-DE-AD-77-C5`,
        },
      },
      {
        fullUrl: 'urn:uuid:3bc44de3-069d-442d-829b-f3ef68cae372',
        resource: {
          resourceType: 'Observation',
          meta: { profile: [`${BASE}mesures-fr-observation-body-weight`], source: `urn:oid:${EDITOR}` },
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
          subject: { identifier: { ...INS } },
          device: { reference: `Device/${DEVICE_UUID}` },
          effectiveDateTime: '2026-12-01T08:00:00Z',
          valueQuantity: { value: 71, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
        },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
}

const obs = (b: any) => b.entry.find((e: any) => e.resource.resourceType === 'Observation');
const dev = (b: any) => b.entry.find((e: any) => e.resource.resourceType === 'Device');
const diagnostics = (b: unknown) => mesBundleIssues(b, EDITOR).map((i) => i.diagnostics);

/** A glucose Observation of the given code, with the given extensions. */
function glucose(code: string, extensions: string[]): any {
  const b = handBuilt();
  const o = obs(b).resource;
  o.meta.profile = [`${BASE}mesures-observation-glucose`];
  o.code = {
    coding: [
      {
        system: code.startsWith('MED')
          ? 'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP'
          : 'http://loinc.org',
        code,
      },
    ],
  };
  o.valueQuantity = {
    value: code === 'MED-972' ? 6.8 : 110,
    unit: code === 'MED-972' ? '%' : 'mg/dL',
    system: 'http://unitsofmeasure.org',
    code: code === 'MED-972' ? '%' : 'mg/dL',
  };
  o.extension = extensions.map((url) => ({
    url,
    valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: url === MOMENT ? '53049-3' : 'GEN-276' }] },
  }));
  return b;
}

describe('the receiver rules on hand-built bundles', () => {
  it('accepts the IG example', () => {
    expect(diagnostics(handBuilt())).toEqual([]);
  });

  it('rule 1: exactly one Observation', () => {
    const two = handBuilt();
    two.entry.push(structuredClone(obs(two)));
    expect(diagnostics(two)).toContain('Bundle must contains one observation creation (POST)');
    const none = handBuilt();
    none.entry = [dev(none)];
    expect(diagnostics(none)).toContain('Bundle must contains one observation creation (POST)');
    const put = handBuilt();
    obs(put).request.method = 'PUT';
    expect(diagnostics(put)).toContain('Resource of type Observation is not acceptable with method PUT.');
    const patient = handBuilt();
    patient.entry.push({ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } });
    expect(diagnostics(patient)).toContain('Resource of type Patient is not acceptable with method POST.');
    const notTransaction = handBuilt();
    notTransaction.type = 'collection';
    expect(diagnostics(notTransaction)).toEqual(['Bundle must be of type transaction.']);
    expect(diagnostics({ resourceType: 'Observation' })).toEqual(['No bundle provided.']);
  });

  it('rule 2: the Device is a conditional create on its identifier', () => {
    const noIfNoneExist = handBuilt();
    delete dev(noIfNoneExist).request.ifNoneExist;
    expect(diagnostics(noIfNoneExist)).toContain(
      'Bundle must contains one conditional creation of a device (POST + ifNoneExist)',
    );
    const noDevice = handBuilt();
    noDevice.entry = [obs(noDevice)];
    expect(diagnostics(noDevice)).toContain(
      'Bundle must contains one conditional creation of a device (POST + ifNoneExist)',
    );
    const badValue = handBuilt();
    dev(badValue).request.ifNoneExist = `identifier=urn:oid:${EDITOR}.7|FE_ED`;
    expect(diagnostics(badValue)).toContain(
      'Device request must have a valid IfNoneExist attribute : identifier=urn:oid:<OID>|<DEVICE ID>',
    );
    const notOid = handBuilt();
    dev(notOid).request.ifNoneExist = 'identifier=urn:vitalink:device|FE-ED';
    expect(diagnostics(notOid)).toContain(
      'Device request must have a valid IfNoneExist attribute : identifier=urn:oid:<OID>|<DEVICE ID>',
    );
    const otherIdentifier = handBuilt();
    dev(otherIdentifier).resource.identifier[0].value = 'OTHER';
    expect(diagnostics(otherIdentifier)).toContain('The Device has no identifier equal to the one of ifNoneExist.');
  });

  it('rule 3: Observation.device.reference is Device/<the Device uuid>', () => {
    const missing = handBuilt();
    delete obs(missing).resource.device;
    expect(diagnostics(missing)).toContain('Observation.device.reference is mandatory.');
    const other = handBuilt();
    obs(other).resource.device.reference = 'Device/9bc44de3-069d-442d-829b-f3ef68cae371';
    expect(diagnostics(other)).toContain(
      'Observation and device not linked by id (Observation.device.reference <-> Device.id)',
    );
    const urn = handBuilt();
    obs(urn).resource.device.reference = `urn:uuid:${DEVICE_UUID}`;
    expect(diagnostics(urn)).toContain(
      'Observation and device not linked by id (Observation.device.reference <-> Device.id)',
    );
  });

  it('rule 4: a fullUrl on the Observation entry', () => {
    const b = handBuilt();
    delete obs(b).fullUrl;
    expect(diagnostics(b)).toEqual(['Observation entry must provide a fullUrl.']);
  });

  it('rule 5: meta.profile on the Observation (a listed one) and on the Device', () => {
    const noObsProfile = handBuilt();
    delete obs(noObsProfile).resource.meta.profile;
    expect(diagnostics(noObsProfile)).toEqual(['Observation must provide meta.profile value.']);
    const noDeviceProfile = handBuilt();
    delete dev(noDeviceProfile).resource.meta;
    expect(diagnostics(noDeviceProfile)).toEqual(['Device must provide meta.profile value.']);
    const respRate = handBuilt();
    obs(respRate).resource.meta.profile = [`${BASE}mesures-fr-observation-resp-rate`];
    expect(diagnostics(respRate)).toEqual([
      `Observation profile ${BASE}mesures-fr-observation-resp-rate is not accepted in the feeding bundle.`,
    ]);
    const older = handBuilt();
    obs(older).resource.meta.profile = [
      'http://esante.gouv.fr/ci-sis/fhir/StructureDefinition/MesFrObservationBodyWeight',
    ];
    expect(diagnostics(older)).toEqual([]);
  });

  it("rule 6: meta.source, when sent, under the editor's OID", () => {
    const absent = handBuilt();
    delete obs(absent).resource.meta.source;
    expect(diagnostics(absent)).toEqual([]);
    const sub = handBuilt();
    obs(sub).resource.meta.source = `urn:oid:${EDITOR}.3.1`;
    expect(diagnostics(sub)).toEqual([]);
    for (const source of ['urn:oid:1.2.250.1.999.420', 'urn:oid:1.2.250.1.998', 'https://vitalink.example']) {
      const b = handBuilt();
      obs(b).resource.meta.source = source;
      expect(diagnostics(b)).toEqual([
        `Solution oid contains in Observation.meta.source don't belong to root editor oid (${EDITOR}).`,
      ]);
    }
  });

  it('rule 7: subject.identifier present', () => {
    const reference = handBuilt();
    obs(reference).resource.subject = { reference: 'Patient/p-1' };
    expect(diagnostics(reference)).toEqual(['Observation.subject.identifier is mandatory.']);
  });

  it('rule 8: a value, no BMI, the moment for blood glucose, the number of days where allowed', () => {
    const noValue = handBuilt();
    delete obs(noValue).resource.valueQuantity;
    expect(diagnostics(noValue)).toEqual(['Observation value quantity not provided.']);
    const bp = handBuilt();
    const o = obs(bp).resource;
    delete o.valueQuantity;
    o.meta.profile = [`${BASE}mesures-fr-observation-bp`];
    o.component = [
      { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: 130 } },
      { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: 80 } },
    ];
    expect(diagnostics(bp)).toEqual([]);
    o.component[1].valueQuantity = {};
    expect(diagnostics(bp)).toEqual(['Observation value quantity not provided.']);
    const bmi = handBuilt();
    obs(bmi).resource.code.coding = [{ system: 'http://loinc.org', code: '39156-5' }];
    expect(diagnostics(bmi)).toEqual(['Bmi observation cannot be created.']);

    expect(diagnostics(glucose('2345-7', [MOMENT]))).toEqual([]);
    expect(diagnostics(glucose('2345-7', []))).toEqual(['Observation.extension.moment is mandatory.']);
    expect(diagnostics(glucose('2345-7', [MOMENT, DAYS]))).toEqual([
      'Observation.extension.numberOfDays cannot be added.',
    ]);
    expect(diagnostics(glucose('MED-969', []))).toEqual([]);
    expect(diagnostics(glucose('MED-969', [DAYS]))).toEqual([]);
    expect(diagnostics(glucose('MED-969', [MOMENT]))).toEqual(['Observation.extension.moment cannot be added.']);
    expect(diagnostics(glucose('MED-972', [DAYS]))).toEqual([]);
    expect(diagnostics(glucose('MED-972', []))).toEqual(['Observation.extension.numberOfDays is mandatory.']);
    const weightDays = handBuilt();
    obs(weightDays).resource.extension = [{ url: DAYS, valueCodeableConcept: { coding: [{ code: 'GEN-275' }] } }];
    expect(diagnostics(weightDays)).toEqual(['Observation.extension.numberOfDays cannot be added.']);
  });
});

/** A reading of each type fed, as the store gives it. */
function reading(type: string, extra: Partial<MesReading> = {}): MesReading {
  const values: Record<string, Partial<MesReading>> = {
    blood_pressure: { unit: 'mm[Hg]', systolic: 132, diastolic: 84, pulse: 71 },
    heart_rate: { unit: '/min', value: 64 },
    spo2: { unit: '%', value: 96 },
    body_weight: { unit: 'kg', value: 71.2 },
    body_temperature: { unit: 'Cel', value: 37.1 },
    blood_glucose: { unit: 'mg/dL', value: 104, context: 'fasting' },
    cgm_glucose: { unit: 'mg/dL', value: 121 },
  };
  return {
    patientId: 'p-1',
    deviceId: 'meter_01.a',
    readingId: `r-${type}`,
    type,
    unit: '',
    value: null,
    systolic: null,
    diastolic: null,
    pulse: null,
    context: null,
    measuredAt: new Date('2026-12-01T08:00:00Z'),
    receivedAt: new Date('2026-12-01T08:00:02Z'),
    deviceModel: 'HEM-9200T',
    atMicros: '0',
    ...values[type],
    ...extra,
  };
}

describe("the builder's bundles", () => {
  const { settings, problems } = readMesSettings({
    VITALINK_MES_EDITOR_OID: EDITOR,
    VITALINK_MES_SOURCE_OID: `${EDITOR}.1`,
  });

  it('pass every rule, for every type fed', () => {
    expect(problems).toEqual([]);
    for (const type of MES_FEEDABLE_TYPES) {
      const built = readingBundle(settings, INS, reading(type));
      expect(built.ok, `${type}: ${built.ok ? '' : built.problem}`).toBe(true);
      if (!built.ok) continue;
      expect(diagnostics(built.bundle), type).toEqual([]);
      const [o, d] = built.bundle.entry;
      expect(o.request).toEqual({ method: 'POST', url: 'Observation' });
      expect(o.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(o.resource.subject).toEqual({ identifier: INS });
      expect((o.resource.meta as any).source).toBe(`urn:oid:${EDITOR}.1`);
      expect(d.request.ifNoneExist).toBe(`identifier=urn:oid:${EDITOR}|x-6d657465725f30312e61`);
      expect(o.resource.device).toEqual({ reference: `Device/${d.resource.id}` });
    }
  });

  it('carry an Observation valid against its ANS profile and a Device valid against PhdDevice', async () => {
    for (const type of MES_FEEDABLE_TYPES) {
      const built = readingBundle(settings, INS, reading(type));
      if (!built.ok) throw new Error(built.problem);
      const [o, d] = built.bundle.entry;
      const profile = (o.resource.meta as { profile: string[] }).profile[0]!;
      const errors = errorsOf(await validateAgainst(o.resource as never, profile)).filter(
        (i) => !(type === 'blood_pressure' && VALIDATOR_BP_GAP.test(`${i.path} ${i.message}`)),
      );
      expect(errors, `${type} Observation`).toEqual([]);
      expect(errorsOf(await validateAgainst(d.resource as never, PHD_DEVICE_PROFILE)), `${type} Device`).toEqual([]);
    }
  });

  it('are the same bundle for the same reading (every attempt sends the same)', () => {
    const a = readingBundle(settings, INS, reading('heart_rate'));
    const b = readingBundle(settings, INS, reading('heart_rate'));
    expect(a).toEqual(b);
  });

  it('are refused, with the reason, where the receiver would refuse them', () => {
    const noContext = readingBundle(settings, INS, reading('blood_glucose', { context: null }));
    expect(noContext).toEqual({ ok: false, problem: expect.stringContaining('moment of measurement') });
    const respiratory = readingBundle(settings, INS, reading('respiratory_rate', { unit: '/min', value: 16 }));
    expect(respiratory.ok).toBe(false);
    const weight = readingBundle(settings, INS, reading('body_weight'));
    if (!weight.ok) throw new Error(weight.problem);
    const observation = weight.bundle.entry[0].resource;
    const device = weight.bundle.entry[1].resource;
    const build = (o: Resource) =>
      feedingBundle({
        observation: o,
        device,
        subject: INS,
        observationUuid: DEVICE_UUID,
        sourceOid: EDITOR,
        deviceOid: EDITOR,
        deviceValue: 'd-1',
      });
    expect(build({ ...observation, valueQuantity: undefined })).toEqual({
      ok: false,
      problem: expect.stringContaining('no value'),
    });
    expect(build({ ...observation, code: { coding: [{ system: 'http://loinc.org', code: '39156-5' }] } })).toEqual({
      ok: false,
      problem: expect.stringContaining('body mass index'),
    });
    expect(build({ ...observation, extension: [{ url: DAYS }] })).toEqual({
      ok: false,
      problem: expect.stringContaining('number of days'),
    });
    expect(build({ ...observation, meta: {} })).toEqual({
      ok: false,
      problem: expect.stringContaining('meta.profile'),
    });
    const unsettled = readMesSettings({});
    expect(readingBundle(unsettled.settings, INS, reading('heart_rate'))).toEqual({
      ok: false,
      problem: expect.stringContaining('VITALINK_MES_EDITOR_OID'),
    });
  });
});

describe('the mock receiver over HTTP', () => {
  const receiver = new MesReceiver({
    editorOid: EDITOR,
    tokens: { 'good-token': EDITOR, 'other-editor': '1.2.250.1.777' },
    patients: { [INS.value]: { consent: true }, '180012B00000035': { consent: false } },
  });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  const post = async (bundle: unknown, token?: string) => {
    const res = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(bundle),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  it('stores a valid bundle: 201 for the Observation and a new Device, 200 for a Device that exists', async () => {
    const first = await post(handBuilt(), 'good-token');
    expect(first.status).toBe(200);
    expect(first.body.type).toBe('transaction-response');
    expect(first.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created']);
    expect(first.body.entry[0].response.location).toMatch(new RegExp(`^Observation/urn:oid:${EDITOR}\\|`));
    expect(first.body.entry[1].response.location).toBe(`Device/urn:oid:${EDITOR}.7|FE-ED-AB-AA-DE-AD-77-C5`);
    const second = await post(handBuilt(), 'good-token');
    expect(second.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '200 OK']);
  });

  it('answers 401 without a valid access token', async () => {
    expect((await post(handBuilt())).status).toBe(401);
    expect((await post(handBuilt(), 'wrong')).status).toBe(401);
  });

  it("answers 409 when the token's OID conflicts with the editor's", async () => {
    const res = await post(handBuilt(), 'other-editor');
    expect(res.status).toBe(409);
    expect(res.body.issue[0].diagnostics).toMatch(/OID conflict/);
  });

  it('answers 422 with an OperationOutcome for a bundle that breaks a rule', async () => {
    const b = handBuilt();
    delete obs(b).resource.valueQuantity;
    const res = await post(b, 'good-token');
    expect(res.status).toBe(422);
    expect(res.body.entry[0].response.outcome).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'value', diagnostics: 'Observation value quantity not provided.' }],
    });
  });

  it('answers 403 for a patient the token does not allow, or who has not consented', async () => {
    const stranger = handBuilt();
    obs(stranger).resource.subject.identifier.value = '299999999999999';
    const a = await post(stranger, 'good-token');
    expect(a.status).toBe(403);
    expect(a.body.issue[0].diagnostics).toBe('idPe requested do not match authorized idPe.');
    const noConsent = handBuilt();
    obs(noConsent).resource.subject.identifier.value = '180012B00000035';
    const b = await post(noConsent, 'good-token');
    expect(b.status).toBe(403);
    expect(b.body.issue[0].diagnostics).toBe('Consent not given, access refused.');
  });

  it("stores the builder's bundle", async () => {
    const built = readingBundle(readMesSettings({ VITALINK_MES_EDITOR_OID: EDITOR }).settings, INS, reading('spo2'));
    if (!built.ok) throw new Error(built.problem);
    const res = await post(built.bundle satisfies FeedingBundle, 'good-token');
    expect(res.status).toBe(200);
  });
});
