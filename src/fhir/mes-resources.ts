/**
 * The Observation and the Device of a reading as the feeding bundle carries them.
 * Interim, until the ANS profiles of src/fhir/observations.ts and the PHD Device of
 * src/fhir/device.ts are merged (#15 item 3): the R4 Observation with the ANS
 * profile in meta.profile and, for a meter's glucose, LOINC 2345-7 and the moment.
 */
import { isReadingType, type ReadingType } from '../domain/reading-types.ts';
import type { MesReading } from '../store/mes-pushes.repository.ts';
import { PHD_DEVICE_PROFILE, type Resource } from './mes-bundle.ts';
import { readingObservation } from './observations.ts';

const BASE = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const PROFILES: Partial<Record<ReadingType, string>> = {
  heart_rate: 'mesures-fr-observation-heartrate',
  spo2: 'mesures-fr-observation-oxygen-sat',
  blood_pressure: 'mesures-fr-observation-bp',
  body_weight: 'mesures-fr-observation-body-weight',
  body_temperature: 'mesures-fr-observation-body-temperature',
  blood_glucose: 'mesures-observation-glucose',
  cgm_glucose: 'mesures-observation-glucose',
};
const MOMENTS: Record<string, string> = {
  fasting: '53049-3',
  before_meal: '88365-2',
  after_meal: '16915-1',
  bedtime: 'LA46-8',
};

export function mesObservation(r: MesReading): Resource | { problem: string } {
  const profile = isReadingType(r.type) ? PROFILES[r.type] : undefined;
  if (!profile) return { problem: `a ${r.type} reading has no profile in the feeding bundle` };
  const o = readingObservation(r.patientId, r) as unknown as Resource;
  o.meta = { profile: [BASE + profile] };
  if (r.type === 'blood_glucose') {
    o.code = { coding: [{ system: 'http://loinc.org', code: '2345-7' }], text: 'Glucose' };
    const moment = r.context === null ? undefined : MOMENTS[r.context];
    if (moment) {
      o.extension = [
        {
          url: `${BASE}mesures-moment-of-measurement`,
          valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: moment }] },
        },
      ];
    }
  }
  return o;
}

export function mesDevice(deviceId: string, model: string | null): Resource {
  return {
    resourceType: 'Device',
    meta: { profile: [PHD_DEVICE_PROFILE] },
    ...(model ? { modelNumber: model } : {}),
    identifier: [{ system: `urn:vitalink:device`, value: deviceId }],
  };
}
