/**
 * The Observation and the Device of a reading as the feeding bundle carries them.
 * The Observation is the FHIR API's (src/fhir/observations.ts, observationForReading:
 * the ANS "Mesures de santé" profile of its type, glucose with its moment of
 * measurement) and the Device the PhdDevice of GET /fhir/Device/{id}
 * (src/fhir/device.ts).
 */
import { isReadingType } from '../domain/reading-types.ts';
import type { MesReading } from '../store/mes-pushes.repository.ts';
import { phdDevice } from './device.ts';
import type { Resource } from './mes-bundle.ts';
import { observationForReading } from './observations.ts';
import { type FhirProfileSettings, MESURES_PROFILES } from './profiles.ts';

export function mesObservation(r: MesReading, profiles: FhirProfileSettings): Resource | { problem: string } {
  const mesures = isReadingType(r.type) ? MESURES_PROFILES[r.type] : undefined;
  if (!mesures) return { problem: `a ${r.type} reading has no ANS profile` };
  return observationForReading(r.patientId, r, profiles) as unknown as Resource;
}

/**
 * The PhdDevice of src/fhir/device.ts; its specialization from the reading's own type
 * (the Device is created once at the receiver, on its first reading: a bounded push,
 * not a scan of the device's readings).
 */
export function mesDevice(r: MesReading, profiles: FhirProfileSettings): Resource {
  return phdDevice({ id: r.deviceId, model: r.deviceModel, types: [r.type] }, profiles) as unknown as Resource;
}
