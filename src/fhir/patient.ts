/**
 * A patient as an FR Core Patient (Interop'Santé, https://hl7.fr/ig/fhir/core;
 * sources in Interop-Sante/hl7.fhir.fr.core, input/fsh/profiles/FRCorePatientProfile.fsh
 * and FRCorePatientINSProfile.fsh). Every patient is `fr-core-patient`; a qualified
 * identity is also `fr-core-patient-ins` and carries the INS, in the identifier slice
 * of its kind (INS-NIR, INS-NIA, INS-NIR-TEST, INS-NIR-DEMO). RNIV: the INS is sent
 * only for a qualified identity (src/domain/ins.ts, isInsShareable), whatever asks.
 */
import { IDENTITY_METHODS, IDENTITY_STATUSES, INS_KINDS, insSystem, isInsShareable } from '../domain/ins.ts';
import type { PatientIdentityRow } from '../store/patient-identities.repository.ts';
import type { CodeableConcept, Coding } from './types.ts';

const FR_CORE = 'https://hl7.fr/ig/fhir/core';

/** Profiles (FRCorePatientProfile.fsh `Id: fr-core-patient`, FRCorePatientINSProfile.fsh `Id: fr-core-patient-ins`). */
export const FR_CORE_PATIENT = `${FR_CORE}/StructureDefinition/fr-core-patient`;
export const FR_CORE_PATIENT_INS = `${FR_CORE}/StructureDefinition/fr-core-patient-ins`;

/** Extensions (input/fsh/extensions/FRCorePatientIdentityReliabilityExtension.fsh, FRCoreAddressInseeCodeExtension.fsh). */
export const IDENTITY_RELIABILITY_EXTENSION = `${FR_CORE}/StructureDefinition/fr-core-identity-reliability`;
export const ADDRESS_INSEE_CODE_EXTENSION = `${FR_CORE}/StructureDefinition/fr-core-address-insee-code`;
/** `Id: fr-core-patient-birth-list-given-name`: the first names, space-separated, as INSi returns them. */
export const BIRTH_LIST_GIVEN_NAME_EXTENSION = `${FR_CORE}/StructureDefinition/fr-core-patient-birth-list-given-name`;
/** FR Core's birthPlace slice is the international extension, its valueAddress an fr-core-address. */
export const BIRTH_PLACE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';

/** Code systems (input/fsh/codesystems/ and aliases.fsh `$fr-core-v2-0203`). */
export const IDENTITY_STATUS_SYSTEM = `${FR_CORE}/CodeSystem/fr-core-cs-identity-status`;
export const METHOD_COLLECTION_SYSTEM = `${FR_CORE}/CodeSystem/fr-core-cs-method-collection`;
export const IDENTIFIER_TYPE_SYSTEM = `${FR_CORE}/CodeSystem/fr-core-cs-v2-0203`;
/** INSEE commune codes (FR Core ValueSet fr-core-vs-insee-code includes this system). */
export const INSEE_COMMUNE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM';

export interface Extension {
  url: string;
  valueCoding?: Coding;
  valueString?: string;
  valueDate?: string;
  valueAddress?: { extension: Extension[] };
  extension?: Extension[];
}

export interface PatientIdentifier {
  use: 'official' | 'temp';
  type: CodeableConcept;
  system: string;
  value: string;
}

/** R4 Patient (https://hl7.org/fhir/R4/patient.html): the elements Vitalink fills. */
export interface Patient {
  resourceType: 'Patient';
  id: string;
  meta: { profile: string[]; lastUpdated?: string };
  extension?: Extension[];
  identifier?: PatientIdentifier[];
  name?: { use: 'official'; family: string; given: string[]; extension: Extension[] }[];
  gender?: 'male' | 'female' | 'unknown';
  birthDate?: string;
}

function identityReliability(identity: PatientIdentityRow): Extension {
  const parts: Extension[] = [
    {
      url: 'identityStatus',
      valueCoding: {
        system: IDENTITY_STATUS_SYSTEM,
        code: identity.status,
        display: IDENTITY_STATUS_DISPLAY[identity.status],
      },
    },
  ];
  if (identity.statusMethod) {
    parts.push({
      url: 'methodCollection',
      valueCoding: {
        system: METHOD_COLLECTION_SYSTEM,
        code: identity.statusMethod,
        display: IDENTITY_METHOD_DISPLAY[identity.statusMethod],
      },
    });
  }
  // VALI and QUAL are the statuses checked against an ID document: the day it was checked.
  if (identity.status === 'VALI' || identity.status === 'QUAL') {
    parts.push({ url: 'validationDate', valueDate: identity.statusSetAt.toISOString().slice(0, 10) });
  }
  return { url: IDENTITY_RELIABILITY_EXTENSION, extension: parts };
}

/** The displays of FR Core's code systems (fr-core-cs-identity-status, fr-core-cs-method-collection). */
const IDENTITY_STATUS_DISPLAY: Record<keyof typeof IDENTITY_STATUSES, string> = {
  PROV: 'Identité provisoire',
  RECUP: 'Identité récupérée',
  VALI: 'Identité validée',
  QUAL: 'Identité qualifiée',
};
const IDENTITY_METHOD_DISPLAY: Record<keyof typeof IDENTITY_METHODS, string> = {
  SM: 'Saisie manuelle',
  CV: 'Carte Vitale',
  INSI: 'Téléservice INSi',
  CB: 'Code à barre',
  RFID: 'Puce RFID',
  AV: 'Application carte Vitale',
};

/**
 * The Patient resource of `patientId` with its identity (null: none set yet, a
 * bare fr-core-patient). The INS identifier and the fr-core-patient-ins profile
 * only for a qualified identity.
 */
export function patientResource(patientId: string, identity: PatientIdentityRow | null): Patient {
  if (!identity) return { resourceType: 'Patient', id: patientId, meta: { profile: [FR_CORE_PATIENT] } };
  const qualified = isInsShareable(identity.status) && identity.ins !== null;
  const extension: Extension[] = [identityReliability(identity)];
  if (identity.birthplaceCode) {
    extension.push({
      url: BIRTH_PLACE_EXTENSION,
      valueAddress: {
        extension: [
          {
            url: ADDRESS_INSEE_CODE_EXTENSION,
            valueCoding: { system: INSEE_COMMUNE_SYSTEM, code: identity.birthplaceCode },
          },
        ],
      },
    });
  }
  const resource: Patient = {
    resourceType: 'Patient',
    id: patientId,
    meta: {
      profile: qualified ? [FR_CORE_PATIENT, FR_CORE_PATIENT_INS] : [FR_CORE_PATIENT],
      lastUpdated: identity.updatedAt.toISOString(),
    },
    extension,
  };
  if (qualified && identity.ins) {
    const kind = INS_KINDS[identity.ins.kind];
    resource.identifier = [
      {
        use: kind.use,
        type: { coding: [{ system: IDENTIFIER_TYPE_SYSTEM, code: kind.slice }] },
        system: insSystem(identity.ins.kind),
        value: identity.ins.value,
      },
    ];
  }
  // The official name: birth family name and first given name, with the whole list of first names.
  resource.name = [
    {
      use: 'official',
      family: identity.birthFamilyName,
      given: [identity.firstNames[0]],
      extension: [{ url: BIRTH_LIST_GIVEN_NAME_EXTENSION, valueString: identity.firstNames.join(' ') }],
    },
  ];
  resource.gender = identity.sex;
  resource.birthDate = identity.birthDate;
  return resource;
}
