/**
 * The ANS "Mesures de santé" profiles (../shared/design/french-interop.md, issue #15)
 * and the settings that place Vitalink's resources in them: the IG's canonical base
 * (VITALINK_FHIR_PROFILE_BASE) and the deployment's OID (VITALINK_FHIR_OID), which
 * names the sending system (`meta.source`) and the device identifiers' system.
 */
import type { ReadingType } from '../domain/reading-types.ts';
import type { Coding } from './types.ts';

export const DEFAULT_FHIR_PROFILE_BASE = 'https://interop.esante.gouv.fr/ig/fhir/mesures';

export interface FhirProfileSettings {
  /** The IG's canonical, no trailing slash: profile URL = base + '/StructureDefinition/' + id. */
  readonly profileBase: string;
  /** The OID of this deployment (the editor's), digits and dots; undefined: no meta.source. */
  readonly oid?: string;
}

export const DEFAULT_FHIR_PROFILES: FhirProfileSettings = { profileBase: DEFAULT_FHIR_PROFILE_BASE };

export const mesuresProfileUrl = (settings: FhirProfileSettings, id: string): string =>
  `${settings.profileBase}/StructureDefinition/${id}`;

/** meta.source: the sending system, under the deployment's OID. */
export const metaSource = (settings: FhirProfileSettings): { source?: string } =>
  settings.oid ? { source: `urn:oid:${settings.oid}` } : {};

/** The agency's terminology servers' URIs (NOS), as the IG's value sets use them. */
export const TAASIP_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R308-TAASIP/FHIR/TRE-R308-TAASIP';
export const NOS_LOINC_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc';

export const PROFILE_GLUCOSE = 'mesures-observation-glucose';

/**
 * By reading type: the ANS profile id, and the coding added to Observation.code (after
 * the reading type's own) where the profile names another code.
 * Steps has none: the ANS profile is steps per day (41950-7, 1/(24.h)), a Vitalink
 * steps reading is a count over the device's own interval.
 */
export const MESURES_PROFILES: Readonly<Partial<Record<ReadingType, { profile: string; also?: Coding }>>> = {
  heart_rate: { profile: 'mesures-fr-observation-heartrate' },
  spo2: { profile: 'mesures-fr-observation-oxygen-sat' },
  blood_pressure: { profile: 'mesures-fr-observation-bp' },
  body_weight: { profile: 'mesures-fr-observation-body-weight' },
  body_temperature: { profile: 'mesures-fr-observation-body-temperature' },
  blood_glucose: {
    profile: PROFILE_GLUCOSE,
    also: { system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' },
  },
  cgm_glucose: {
    profile: PROFILE_GLUCOSE,
    also: { system: TAASIP_SYSTEM, code: 'MED-969', display: 'Glucose interstitiel' },
  },
  respiratory_rate: { profile: 'mesures-fr-observation-resp-rate' },
};

export const EXTENSION_MOMENT = 'mesures-moment-of-measurement';
export const EXTENSION_NUMBER_OF_DAYS = 'mesures-number-of-days';

/**
 * A glucose reading's `context` → moment of measurement (JDV-J157, required: codes
 * of the agency's LOINC system). `bedtime` is not in JDV-J157: "Autre" (LA46-8).
 */
export const GLUCOSE_MOMENTS: Readonly<Record<string, Coding>> = {
  fasting: { system: NOS_LOINC_SYSTEM, code: '53049-3', display: 'Glucose à jeun' },
  before_meal: { system: NOS_LOINC_SYSTEM, code: '88365-2', display: 'Avant repas' },
  after_meal: { system: NOS_LOINC_SYSTEM, code: '16915-1', display: 'Glucose post prandial' },
  bedtime: { system: NOS_LOINC_SYSTEM, code: 'LA46-8', display: 'Autre' },
};

/** A window's length in days → number of days (JDV-J164); other lengths have no code. */
export const NUMBER_OF_DAYS: Readonly<Record<number, Coding>> = {
  7: { system: TAASIP_SYSTEM, code: 'GEN-275', display: '7j' },
  14: { system: TAASIP_SYSTEM, code: 'GEN-276', display: '14j' },
  30: { system: TAASIP_SYSTEM, code: 'GEN-277', display: '30j' },
  90: { system: TAASIP_SYSTEM, code: 'GEN-278', display: '90j' },
};

/** The CGM summaries that the ANS glucose profile carries (interstitial mean, GMI), with their TAASIP code (added last). */
export const MESURES_CGM_SUMMARIES: Readonly<Record<string, Coding>> = {
  'mean-glucose-mass-per-volume': { system: TAASIP_SYSTEM, code: 'MED-969', display: 'Glucose interstitiel' },
  gmi: { system: TAASIP_SYSTEM, code: 'MED-972', display: 'Index de gestion de glycémie (IGG)' },
};
