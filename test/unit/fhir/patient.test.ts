import { afterAll, describe, expect, it } from 'vitest';
import {
  FR_CORE_PATIENT,
  FR_CORE_PATIENT_INS,
  IDENTITY_RELIABILITY_EXTENSION,
  patientResource,
} from '../../../src/fhir/patient.ts';
import { INS_KINDS, insSystem } from '../../../src/domain/ins.ts';
import type { PatientIdentityRow } from '../../../src/store/patient-identities.repository.ts';
import { closeFhirValidator, errorsOf, validateAgainst } from '../../helpers/fhir-validator.ts';

/**
 * The Patient resource (src/fhir/patient.ts) against FR Core's profiles, loaded in
 * the validator harness from test/fixtures/fhir-definitions/frcore (differentials
 * transcribed from FR Core's FSH sources; README there). Test INS: OID .10 only.
 */

afterAll(closeFhirValidator);

// 1740101234567 = 97 × 17939187985 + 22 → key 97 − 22 = 75
const qualified: PatientIdentityRow = {
  patientId: 'p-ins-1',
  birthFamilyName: 'DURAND',
  firstNames: ['PIERRE', 'YVES', 'MARIE'],
  birthDate: '1974-01-01',
  sex: 'male',
  birthplaceCode: '2A004',
  ins: { value: '174010123456775', kind: 'nir-test' },
  status: 'QUAL',
  statusMethod: 'INSI',
  statusSetAt: new Date('2026-12-01T09:30:00Z'),
  updatedAt: new Date('2026-12-01T09:30:00Z'),
};

describe('FHIR Patient (FR Core)', () => {
  it('a qualified identity: fr-core-patient-ins with the INS-NIR-TEST slice, valid against both profiles', async () => {
    const resource = patientResource('p-ins-1', qualified);
    expect(resource).toEqual({
      resourceType: 'Patient',
      id: 'p-ins-1',
      meta: { profile: [FR_CORE_PATIENT, FR_CORE_PATIENT_INS], lastUpdated: '2026-12-01T09:30:00.000Z' },
      extension: [
        {
          url: IDENTITY_RELIABILITY_EXTENSION,
          extension: [
            {
              url: 'identityStatus',
              valueCoding: {
                system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status',
                code: 'QUAL',
                display: 'Identité qualifiée',
              },
            },
            {
              url: 'methodCollection',
              valueCoding: {
                system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-method-collection',
                code: 'INSI',
                display: 'Téléservice INSi',
              },
            },
            { url: 'validationDate', valueDate: '2026-12-01' },
          ],
        },
        {
          url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
          valueAddress: {
            extension: [
              {
                url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code',
                valueCoding: {
                  system: 'https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM',
                  code: '2A004',
                },
              },
            ],
          },
        },
      ],
      identifier: [
        {
          use: 'official',
          type: {
            coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'INS-NIR-TEST' }],
          },
          system: 'urn:oid:1.2.250.1.213.1.4.10',
          value: '174010123456775',
        },
      ],
      name: [
        {
          use: 'official',
          family: 'DURAND',
          given: ['PIERRE'],
          extension: [
            {
              url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name',
              valueString: 'PIERRE YVES MARIE',
            },
          ],
        },
      ],
      gender: 'male',
      birthDate: '1974-01-01',
    });
    expect(errorsOf(await validateAgainst(resource as never, FR_CORE_PATIENT_INS))).toEqual([]);
    expect(errorsOf(await validateAgainst(resource as never, FR_CORE_PATIENT))).toEqual([]);
  });

  it('an identity that is not qualified: fr-core-patient, no INS, valid', async () => {
    for (const status of ['PROV', 'RECUP', 'VALI'] as const) {
      const resource = patientResource('p-ins-1', { ...qualified, status });
      expect(resource.meta.profile).toEqual([FR_CORE_PATIENT]);
      expect(resource.identifier).toBeUndefined();
      expect(JSON.stringify(resource)).not.toContain('174010123456775');
      expect(resource.extension?.[0].extension?.[0].valueCoding?.code).toBe(status);
      expect(errorsOf(await validateAgainst(resource as never, FR_CORE_PATIENT)), status).toEqual([]);
    }
    // A PROV identity without birthplace or INS: still an fr-core-patient.
    const bare = patientResource('p-ins-1', { ...qualified, status: 'PROV', ins: null, birthplaceCode: null });
    expect(bare.extension).toHaveLength(1);
    expect(errorsOf(await validateAgainst(bare as never, FR_CORE_PATIENT))).toEqual([]);
  });

  it('a patient without identity: a bare fr-core-patient', async () => {
    const resource = patientResource('p-ins-2', null);
    expect(resource).toEqual({ resourceType: 'Patient', id: 'p-ins-2', meta: { profile: [FR_CORE_PATIENT] } });
    expect(errorsOf(await validateAgainst(resource as never, FR_CORE_PATIENT))).toEqual([]);
  });

  it('each INS kind has its FR Core slice and use (constants; test data use the .10 OID only)', () => {
    expect(
      Object.entries(INS_KINDS).map(([kind, k]) => [kind, k.slice, k.use, insSystem(kind as keyof typeof INS_KINDS)]),
    ).toEqual([
      ['nir', 'INS-NIR', 'official', 'urn:oid:1.2.250.1.213.1.4.8'],
      ['nia', 'INS-NIA', 'temp', 'urn:oid:1.2.250.1.213.1.4.9'],
      ['nir-test', 'INS-NIR-TEST', 'official', 'urn:oid:1.2.250.1.213.1.4.10'],
      ['nir-demo', 'INS-NIR-DEMO', 'official', 'urn:oid:1.2.250.1.213.1.4.11'],
    ]);
  });

  it('the FR Core INS profile as loaded rejects what it forbids (the check can fail)', async () => {
    const good = patientResource('p-ins-1', qualified);
    const errors = async (resource: object) =>
      errorsOf(await validateAgainst(resource as never, FR_CORE_PATIENT_INS)).map((i) => `${i.path}: ${i.message}`);
    expect(await errors(good)).toEqual([]);
    expect(await errors({ ...good, extension: [good.extension![0]] })).toEqual([
      "Patient.extension: Incorrect number of values provided for slice 'birthPlace': expected 1..1, but found 0",
    ]);
    expect(await errors({ ...good, extension: [good.extension![1]] })).toEqual([
      "Patient.extension: Incorrect number of values provided for slice 'identityReliability': expected 1..*, but found 0",
    ]);
    expect(await errors({ ...good, identifier: undefined })).toEqual(['Patient.identifier: Missing required property']);
    expect(await errors({ ...good, gender: undefined })).toEqual(['Patient.gender: Missing required property']);
    expect(await errors({ ...good, birthDate: undefined })).toEqual(['Patient.birthDate: Missing required property']);
    // A name that is not `official` is no officialName, which is 1..1 for an INS identity.
    expect(await errors({ ...good, name: [{ ...good.name![0], use: 'usual' }] })).toEqual([
      "Patient.name: Incorrect number of values provided for slice 'officialName': expected 1..1, but found 0",
    ]);
  });

  /*
   * @medplum/core counts slices but does not check the elements inside a slice
   * (test/fixtures/fhir-definitions/README.md, "Known gaps"): what FR Core requires
   * inside the slices Vitalink fills is asserted here, rule by rule.
   */
  it('inside the slices: the rules of FRCorePatientINSProfile.fsh that the validator does not check', () => {
    const r = patientResource('p', qualified);
    // identifier[INS-NIR-TEST]: use 1.. = official, type 1.. = fr-core-cs-v2-0203#INS-NIR-TEST, system 1.. = .10, value 1..
    expect(r.identifier).toEqual([
      {
        use: 'official',
        type: {
          coding: [{ system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203', code: 'INS-NIR-TEST' }],
        },
        system: 'urn:oid:1.2.250.1.213.1.4.10',
        value: '174010123456775',
      },
    ]);
    // name[officialName]: family 1.., given 1..1, extension[birth-list-given-name] 1..1 (valueString)
    expect(r.name).toHaveLength(1);
    expect(r.name![0].family).toBe('DURAND');
    expect(r.name![0].given).toEqual(['PIERRE']);
    expect(r.name![0].extension.filter((e) => e.url.endsWith('/fr-core-patient-birth-list-given-name'))).toEqual([
      {
        url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name',
        valueString: 'PIERRE YVES MARIE',
      },
    ]);
    // extension[birthPlace].valueAddress.extension[inseeCode] 1..1, value[x] only Coding
    const birthPlace = r.extension!.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace');
    expect(birthPlace?.valueAddress?.extension).toEqual([
      {
        url: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code',
        valueCoding: {
          system: 'https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM',
          code: '2A004',
        },
      },
    ]);
    // extension[identityReliability].extension[identityStatus].value[x] only Coding from fr-core-cs-identity-status
    const reliability = r.extension!.find((e) => e.url === IDENTITY_RELIABILITY_EXTENSION);
    expect(reliability?.extension?.find((e) => e.url === 'identityStatus')).toEqual({
      url: 'identityStatus',
      valueCoding: expect.objectContaining({
        system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status',
        code: 'QUAL',
      }),
    });
  });
});
