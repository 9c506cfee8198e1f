/**
 * The Observation and the Device of a reading as the feeding bundle carries them.
 * The Observation is the FHIR API's (src/fhir/observations.ts, observationForReading:
 * the ANS "Mesures de santé" profile of its type, glucose with its moment of
 * measurement). The Device is a minimal PhdDevice (profile, the system identifier,
 * model) until src/fhir/device.ts (#15 item 3) is merged.
 */
import { isReadingType } from '../domain/reading-types.ts';
import type { MesReading } from '../store/mes-pushes.repository.ts';
import { PHD_DEVICE_PROFILE, type Resource } from './mes-bundle.ts';
import { observationForReading } from './observations.ts';
import { type FhirProfileSettings, MESURES_PROFILES } from './profiles.ts';

export function mesObservation(r: MesReading, profiles: FhirProfileSettings): Resource | { problem: string } {
  const mesures = isReadingType(r.type) ? MESURES_PROFILES[r.type] : undefined;
  if (!mesures) return { problem: `a ${r.type} reading has no ANS profile` };
  return observationForReading(r.patientId, r, profiles) as unknown as Resource;
}

export function mesDevice(deviceId: string, model: string | null): Resource {
  return {
    resourceType: 'Device',
    meta: { profile: [PHD_DEVICE_PROFILE] },
    identifier: [{ system: 'urn:vitalink:device', value: deviceId }],
    ...(model ? { modelNumber: model } : {}),
  };
}
