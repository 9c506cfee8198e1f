/**
 * A Vitalink device as an HL7 PHD Device (http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice),
 * the device profile every ANS "Mesures de santé" Observation references (issue #15).
 *
 * - identifier: the PHD system identifier slice (IEEE EUI-64, required by the
 *   profile): Vitalink does not know a device's EUI-64, so its value is all zeros,
 *   as the PHD IG prescribes for a device that reports none; then Vitalink's own
 *   identifier, system `urn:oid:<VITALINK_FHIR_OID>` (`urn:vitalink:device` while
 *   no OID is configured), value the device id: the identifier the feeding bundle's
 *   conditional create uses.
 * - manufacturer: not recorded by Vitalink, modelNumber: the device's model when
 *   provisioned with one. Both are required by the profile: unknown ones carry the
 *   data-absent-reason extension (`unknown`) instead of a value.
 * - type: MDC 65573 (simple MDS, "this is a PHD"); specialization: one per IEEE
 *   11073 specialization the reading types of the device stand for
 *   (MDC_DEV_SPEC_PROFILE_*), the generic one when none does; its version is
 *   unknown (data-absent-reason).
 */
import type { ReadingType } from '../domain/reading-types.ts';
import { DEFAULT_FHIR_PROFILES, type FhirProfileSettings, metaSource } from './profiles.ts';

export const PHD_DEVICE_PROFILE = 'http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice';
export const MDC_SYSTEM = 'urn:iso:std:iso:11073:10101';
export const EUI64_SYSTEM = 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680';
const CONTINUA_IDENTIFIERS = 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers';
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
/** Vitalink's device identifiers while no OID is configured: not an OID, so not for Mon espace santé. */
export const VITALINK_DEVICE_SYSTEM = 'urn:vitalink:device';

interface Specialization {
  readonly code: string;
  readonly display: string;
}

/** IEEE 11073-10101 specialization codes (MDC_DEV_SPEC_PROFILE_*). */
const SPEC = {
  pulseOximeter: { code: '528388', display: 'MDC_DEV_SPEC_PROFILE_PULS_OXIM' },
  bloodPressure: { code: '528391', display: 'MDC_DEV_SPEC_PROFILE_BP' },
  thermometer: { code: '528392', display: 'MDC_DEV_SPEC_PROFILE_TEMP' },
  scale: { code: '528399', display: 'MDC_DEV_SPEC_PROFILE_SCALE' },
  glucose: { code: '528401', display: 'MDC_DEV_SPEC_PROFILE_GLUCOSE' },
  cgm: { code: '528409', display: 'MDC_DEV_SPEC_PROFILE_CGM' },
  stepCounter: { code: '528484', display: 'MDC_DEV_SUB_SPEC_PROFILE_STEP_COUNTER' },
  generic: { code: '528457', display: 'MDC_DEV_SPEC_PROFILE_GENERIC' },
} as const satisfies Record<string, Specialization>;

/** By reading type, the specialization it stands for; heart rate and respiratory rate stand for none of their own. */
export const SPECIALIZATIONS: Readonly<Partial<Record<ReadingType, Specialization>>> = {
  spo2: SPEC.pulseOximeter,
  blood_pressure: SPEC.bloodPressure,
  body_temperature: SPEC.thermometer,
  body_weight: SPEC.scale,
  blood_glucose: SPEC.glucose,
  cgm_glucose: SPEC.cgm,
  steps: SPEC.stepCounter,
};

export interface PhdDeviceInput {
  readonly id: string;
  readonly model: string | null;
  /** The reading types the device sent (store: deviceReadingTypes). */
  readonly types: readonly string[];
}

const unknown = { extension: [{ url: DATA_ABSENT, valueCode: 'unknown' }] };

export interface PhdDevice {
  resourceType: 'Device';
  id: string;
  meta: { profile: string[]; source?: string };
  identifier: { type?: { coding: { system: string; code: string }[] }; system: string; value: string }[];
  manufacturer?: string;
  _manufacturer?: typeof unknown;
  modelNumber?: string;
  _modelNumber?: typeof unknown;
  type: { coding: { system: string; code: string; display: string }[]; text: string };
  specialization: {
    systemType: { coding: { system: string; code: string; display: string }[] };
    _version: typeof unknown;
  }[];
}

/** The device as a PhdDevice; `settings` gives the OID of its identifier and of meta.source. */
export function phdDevice(device: PhdDeviceInput, settings: FhirProfileSettings = DEFAULT_FHIR_PROFILES): PhdDevice {
  const specs = [
    ...new Set(
      device.types.flatMap((t) => (SPECIALIZATIONS[t as ReadingType] ? [SPECIALIZATIONS[t as ReadingType]!] : [])),
    ),
  ].sort((a, b) => a.code.localeCompare(b.code));
  return {
    resourceType: 'Device',
    id: device.id,
    meta: { profile: [PHD_DEVICE_PROFILE], ...metaSource(settings) },
    identifier: [
      {
        type: { coding: [{ system: CONTINUA_IDENTIFIERS, code: 'SYSID' }] },
        system: EUI64_SYSTEM,
        value: '00-00-00-00-00-00-00-00',
      },
      { system: settings.oid ? `urn:oid:${settings.oid}` : VITALINK_DEVICE_SYSTEM, value: device.id },
    ],
    _manufacturer: unknown,
    ...(device.model ? { modelNumber: device.model } : { _modelNumber: unknown }),
    type: {
      coding: [{ system: MDC_SYSTEM, code: '65573', display: 'MDC_MOC_VMS_MDS_SIMP' }],
      text: 'Personal health device',
    },
    specialization: (specs.length > 0 ? specs : [SPEC.generic]).map((s) => ({
      systemType: { coding: [{ system: MDC_SYSTEM, code: s.code, display: s.display }] },
      _version: unknown,
    })),
  };
}
