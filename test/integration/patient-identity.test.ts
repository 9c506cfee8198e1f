import { afterAll, describe, expect, it } from 'vitest';
import { FR_CORE_PATIENT, FR_CORE_PATIENT_INS } from '../../src/fhir/patient.ts';
import { describeRes } from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { closeFhirValidator, errorsOf, validateAgainst } from '../helpers/fhir-validator.ts';

/**
 * A patient's identity as the French rules define it (README, "Patient identity
 * (INS)"), through the running service over real HTTP: the admin sets it
 * (PUT /api/v1/patients/{id}/identity), GET /api/v1/patients/{id} shows it (the INS
 * to a clinician only when qualified), GET /fhir/Patient/{id} sends an FR Core
 * Patient validated against the profiles, and every read or write is audited.
 * Test INS: OID .10 (nir-test) only.
 */

const { t, who, call, get } = useApiTest();
afterAll(closeFhirValidator);

// 1740101234567 = 97 × 17939187985 + 22 → key 97 − 22 = 75
const INS = '174010123456775';
// 185052A004123 → 1850519004123 = 97 × 19077515506 + 41 → key 97 − 41 = 56
const CORSICAN_INS = '185052A00412356';

const identity = {
  birthFamilyName: 'DURAND',
  firstNames: ['PIERRE', 'YVES'],
  birthDate: '1974-01-01',
  sex: 'male',
  birthplaceCode: '2A004',
  ins: { value: INS, kind: 'nir-test' },
  status: 'RECUP',
  statusMethod: 'INSI',
};

const put = (patientId: string, body: unknown, token = who.admin.token) =>
  call('PUT', `/api/v1/patients/${patientId}/identity`, { token, json: body });

async function auditRows(patientId: string, action: string) {
  const { rows } = await t.query(
    `SELECT principal, role, action, outcome FROM audit_log WHERE patient_id = $1 AND action = $2 ORDER BY id`,
    [patientId, action],
  );
  return rows;
}

describe('PUT /api/v1/patients/{id}/identity', () => {
  it('stores the identity; the admin sees the INS, a clinician only once the identity is qualified', async () => {
    const set = await put('p-own-1', identity);
    expect(set.status, describeRes(set)).toBe(200);
    expect(set.body).toEqual({
      birthFamilyName: 'DURAND',
      firstNames: ['PIERRE', 'YVES'],
      birthDate: '1974-01-01',
      sex: 'male',
      birthplaceCode: '2A004',
      ins: { value: INS, kind: 'nir-test', system: 'urn:oid:1.2.250.1.213.1.4.10' },
      insShared: false,
      status: 'RECUP',
      statusMethod: 'INSI',
      statusSetAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    const { rows } = await t.query(
      `SELECT birth_family_name, first_names, birth_date::text, sex, birthplace_code, ins_value, ins_kind, status, status_method
         FROM patient_identities WHERE patient_id = 'p-own-1'`,
    );
    expect(rows).toEqual([
      {
        birth_family_name: 'DURAND',
        first_names: ['PIERRE', 'YVES'],
        birth_date: '1974-01-01',
        sex: 'male',
        birthplace_code: '2A004',
        ins_value: INS,
        ins_kind: 'nir-test',
        status: 'RECUP',
        status_method: 'INSI',
      },
    ]);
    expect(await auditRows('p-own-1', 'patients.identity.write')).toEqual([
      {
        principal: expect.stringMatching(/^token:/),
        role: 'admin',
        action: 'patients.identity.write',
        outcome: 'allowed',
      },
    ]);

    const asAdmin = await get('/api/v1/patients/p-own-1', who.admin.token);
    expect(asAdmin.body.identity).toMatchObject({ ins: { value: INS }, insShared: false, status: 'RECUP' });
    // RECUP: not qualified, the clinician gets the traits and the status, not the INS.
    const asClinician = await get('/api/v1/patients/p-own-1', who.clinician.token);
    expect(asClinician.status).toBe(200);
    expect(asClinician.body.identity).toMatchObject({ birthFamilyName: 'DURAND', ins: null, insShared: false });
    expect(JSON.stringify(asClinician.body)).not.toContain(INS);

    // Qualified (checked against an ID document): the status time moves, the INS is shared.
    const qualified = await put('p-own-1', { ...identity, status: 'QUAL' });
    expect(qualified.status, describeRes(qualified)).toBe(200);
    expect(Date.parse(qualified.body.statusSetAt)).toBeGreaterThanOrEqual(Date.parse(set.body.statusSetAt));
    const shared = await get('/api/v1/patients/p-own-1', who.clinician.token);
    expect(shared.body.identity).toMatchObject({
      ins: { value: INS, kind: 'nir-test', system: 'urn:oid:1.2.250.1.213.1.4.10' },
      insShared: true,
      status: 'QUAL',
    });
  });

  it('keeps the status time when the status does not change', async () => {
    const first = await put('p-own-2', {
      ...identity,
      ins: null,
      status: 'PROV',
      statusSetAt: '2026-11-01T08:00:00+01:00',
    });
    expect(first.status, describeRes(first)).toBe(200);
    expect(first.body.statusSetAt).toBe('2026-11-01T07:00:00.000Z');
    const again = await put('p-own-2', { ...identity, ins: null, status: 'PROV', birthplaceCode: '2B033' });
    expect(again.body).toMatchObject({
      statusSetAt: '2026-11-01T07:00:00.000Z',
      statusMethod: 'INSI',
      birthplaceCode: '2B033',
    });
  });

  it('refuses a wrong key with the key expected, and each bad value with its field (422)', async () => {
    const wrongKey = await put('p-other', { ...identity, ins: { value: '174010123456776', kind: 'nir-test' } });
    expect(wrongKey.status).toBe(422);
    expect(wrongKey.body.error).toEqual({
      code: 'invalid_input',
      message: 'ins.value: the key of INS 1740101234567 is 75, not 76: check the number and its key',
      issues: [{ path: 'body.ins.value', message: expect.stringContaining('is 75, not 76') }],
    });
    const corsicaRead20 = await put('p-other', { ...identity, ins: { value: '185052A00412329', kind: 'nir-test' } });
    expect(corsicaRead20.body.error.message).toContain('is 56, not 29');
    const qualNoIns = await put('p-other', { ...identity, ins: null, status: 'QUAL' });
    expect(qualNoIns.status).toBe(422);
    expect(qualNoIns.body.error.issues).toEqual([{ path: 'body.ins', message: expect.stringContaining('INSi') }]);
    const badPlace = await put('p-other', { ...identity, birthplaceCode: '2C004' });
    expect(badPlace.body.error.issues[0].path).toBe('body.birthplaceCode');
    const badSex = await put('p-other', { ...identity, sex: 'M' });
    expect(badSex.status).toBe(422);
    expect(badSex.body.error.issues[0].path).toBe('body.sex');
    const extra = await put('p-other', { ...identity, nir: INS });
    expect(extra.status).toBe(422);
    expect((await t.query(`SELECT 1 FROM patient_identities WHERE patient_id = 'p-other'`)).rowCount).toBe(0);
  });

  it('refuses a second patient with the same INS (409), a clinician (403) and an unknown patient (404)', async () => {
    const ok = await put('p-other', { ...identity, ins: { value: CORSICAN_INS, kind: 'nir-test' } });
    expect(ok.status, describeRes(ok)).toBe(200);
    const duplicate = await put('p-own-2', { ...identity, ins: { value: CORSICAN_INS, kind: 'nir-test' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.message).toContain('already the identity of patient p-other');
    expect((await put('p-own-1', identity, who.clinician.token)).status).toBe(403);
    const missing = await put('p-nobody', identity);
    expect(missing.status).toBe(404);
    expect(await auditRows('p-nobody', 'PUT /api/v1/patients/:id/identity')).toEqual([
      {
        principal: expect.any(String),
        role: 'admin',
        action: 'PUT /api/v1/patients/:id/identity',
        outcome: 'not_found',
      },
    ]);
  });
});

describe('GET /fhir/Patient/{id}', () => {
  const fhir = (id: string, token: string | null = who.clinician.token) => get(`/fhir/Patient/${id}`, token);

  it('a qualified identity: fr-core-patient-ins with the INS, valid against FR Core; audited', async () => {
    await put('p-own-1', { ...identity, status: 'QUAL' });
    const res = await fhir('p-own-1');
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.contentType).toMatch(/^application\/fhir\+json/);
    expect(res.body).toMatchObject({
      resourceType: 'Patient',
      id: 'p-own-1',
      meta: { profile: [FR_CORE_PATIENT, FR_CORE_PATIENT_INS] },
      identifier: [{ use: 'official', system: 'urn:oid:1.2.250.1.213.1.4.10', value: INS }],
      name: [{ use: 'official', family: 'DURAND', given: ['PIERRE'] }],
      gender: 'male',
      birthDate: '1974-01-01',
    });
    expect(errorsOf(await validateAgainst(res.body, FR_CORE_PATIENT_INS))).toEqual([]);
    expect(errorsOf(await validateAgainst(res.body, FR_CORE_PATIENT))).toEqual([]);
    expect(await auditRows('p-own-1', 'fhir.patient.read')).toEqual([
      {
        principal: expect.stringMatching(/^token:/),
        role: 'clinician',
        action: 'fhir.patient.read',
        outcome: 'allowed',
      },
    ]);
  });

  it('an identity that is not qualified: fr-core-patient without the INS, valid', async () => {
    const res = await fhir('p-own-2');
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.body.meta.profile).toEqual([FR_CORE_PATIENT]);
    expect(res.body.identifier).toBeUndefined();
    expect(res.body.extension[0].extension[0].valueCoding.code).toBe('PROV');
    expect(errorsOf(await validateAgainst(res.body, FR_CORE_PATIENT))).toEqual([]);
  });

  it("another clinician's patient, or none: a 404 OperationOutcome, audited as denied or not_found", async () => {
    const other = await fhir('p-other');
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    expect(JSON.stringify(other.body)).not.toContain(CORSICAN_INS);
    // A token that lists a patient since removed: the patient is missing, not hidden.
    await t.addPatient('p-gone');
    const gone = await t.createToken('clinician', ['p-gone']);
    await t.query(`DELETE FROM patients WHERE id = 'p-gone'`);
    const missing = await fhir('p-gone', gone.token);
    expect(missing.status).toBe(404);
    const { rows } = await t.query(
      `SELECT patient_id, outcome FROM audit_log WHERE action = 'GET /fhir/Patient/:id' ORDER BY id`,
    );
    expect(rows).toEqual([
      { patient_id: 'p-other', outcome: 'denied' },
      { patient_id: 'p-gone', outcome: 'not_found' },
    ]);
    expect((await fhir('p-own-1', null)).status).toBe(401);
    expect((await fhir('p-own-1', who.admin.token)).status).toBe(403);
  });

  it('is in the CapabilityStatement as a read', async () => {
    const res = await get('/fhir/metadata', null);
    expect(res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient')).toEqual({
      type: 'Patient',
      interaction: [{ code: 'read' }],
      searchParam: [],
    });
  });
});
