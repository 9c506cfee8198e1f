/**
 * Feeding Mon espace santé (README, "France", "Feeding Mon espace santé"): which
 * readings are fed, and what the receiver's answers mean for a push.
 * Source: ANS, "Mesures de santé" IG, page Le-flux-d-alimentation-des-mesures.md and
 * profile MesBundleFluxAlimentation (ansforge/IG-fhir-mesures-de-sante).
 */
import type { ReadingType } from './reading-types.ts';

/**
 * Reading types the feeding bundle can carry, one reading per bundle. Not:
 * respiratory_rate (mesures-fr-observation-resp-rate is not in the bundle profile's
 * list of Observation profiles), steps (a Vitalink steps reading counts the steps of
 * its own interval, LOINC 55423-8; the IG's profile is steps per day, 41950-7, which a
 * single reading is not).
 */
export const MES_FEEDABLE_TYPES: readonly ReadingType[] = [
  'heart_rate',
  'spo2',
  'blood_pressure',
  'body_weight',
  'body_temperature',
  'blood_glucose',
  'cgm_glucose',
];

/**
 * Fed unless VITALINK_MES_TYPES says otherwise: every feedable type but
 * cgm_glucose, a reading every 5 minutes being 288 bundles a day in the patient's
 * record.
 */
export const MES_DEFAULT_TYPES: readonly ReadingType[] = MES_FEEDABLE_TYPES.filter((t) => t !== 'cgm_glucose');

/** Why a type is not feedable, in words for VITALINK_MES_TYPES's error. */
export const MES_NOT_FEEDABLE: Readonly<Partial<Record<ReadingType, string>>> = {
  respiratory_rate: "the feeding bundle's profile does not list the respiratory rate profile",
  steps: 'a steps reading counts its own interval, the profile is steps per day',
};

/** An OID: arcs of digits separated by dots, no leading zero in an arc. */
export const OID_PATTERN = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** The receiver's rule on a Device identifier in ifNoneExist (the IG's regex). */
export const MES_DEVICE_VALUE_PATTERN = /^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$/;

/** `oid` is `root` or under it. */
export function oidUnder(oid: string, root: string): boolean {
  return oid === root || oid.startsWith(`${root}.`);
}

export type MesPushState = 'pending' | 'sending' | 'sent' | 'refused' | 'dead';
export const MES_PUSH_STATES: readonly MesPushState[] = ['pending', 'sending', 'sent', 'refused', 'dead'];

/**
 * What an HTTP status from the receiver means: 2xx sent; 422 (the bundle is not
 * valid), 403 (patient mismatch or no consent) and 409 (OID conflict) refused:
 * sending the same bundle again changes nothing, so it is recorded and left (an
 * operator replays it once the cause is fixed); 400 (invalid id token), 401 (invalid
 * access token), 408, 429, 5xx and anything else retried with backoff: an expired or
 * renewed token, a receiver away.
 */
export function mesStatusOutcome(status: number): 'sent' | 'refused' | 'retry' {
  if (status >= 200 && status < 300) return 'sent';
  if (status === 422 || status === 403 || status === 409) return 'refused';
  return 'retry';
}

/**
 * The Device's identifier value for the receiver, one per device id: the id itself
 * when the receiver's pattern admits it (and it does not start with "x-"), else "x-"
 * and the hex of its UTF-8 bytes (device-protocol.md admits '_', '.', ':' which the
 * pattern does not).
 */
export function mesDeviceValue(deviceId: string): string {
  if (MES_DEVICE_VALUE_PATTERN.test(deviceId) && !deviceId.startsWith('x-')) return deviceId;
  return `x-${Buffer.from(deviceId, 'utf8').toString('hex')}`;
}
