/**
 * MesBundleFluxAlimentation: the feeding bundle of Mon espace santé (README,
 * "France", "Feeding Mon espace santé"). Source: ANS "Mesures de santé" IG
 * (ansforge/IG-fhir-mesures-de-sante), page Le-flux-d-alimentation-des-mesures.md and
 * profile mesures-bundle-flux-alimentation (input/fsh/MesBundleFluxAlimentation.fsh):
 * a transaction of exactly one Observation (POST Observation, with a fullUrl) in one
 * of the Mes* profiles and one PhdDevice as a conditional create (POST Device,
 * ifNoneExist = identifier=urn:oid:<oid>|<id>: 200 when it exists, 201 when
 * created); Observation.device.reference = Device/<the Device's uuid>; meta.profile
 * on both; meta.source, when sent, under the editor's OID; the patient is
 * Observation.subject.identifier (the INS), no Patient entry.
 *
 * The builder takes an Observation and a Device as they are built for the FHIR
 * API, and refuses (with the reason) what the receiver would refuse: an
 * Observation without a value, a BMI, a blood glucose without its moment of
 * measurement, a number of days or a moment where the receiver does not accept one.
 */
import { createHash } from 'node:crypto';
import { MES_DEVICE_VALUE_PATTERN, OID_PATTERN } from '../domain/mes-feed.ts';
import { PHD_DEVICE_PROFILE } from './device.ts';
import type { Identifier } from './types.ts';

/** LOINC: body mass index (computed by Mon espace santé, never created). */
export const LOINC_BMI = '39156-5';
/** LOINC: glucose in blood (the moment of measurement is mandatory). */
export const LOINC_BLOOD_GLUCOSE = '2345-7';
/** TAASIP (TRE-R308): interstitial glucose and the glucose management indicator, where the number of days is accepted. */
export const TAASIP_INTERSTITIAL_GLUCOSE = 'MED-969';
export const TAASIP_GMI = 'MED-972';

/**
 * The Observation profiles the bundle profile lists (entry[mes-observation].resource
 * only ..., input/fsh/MesBundleFluxAlimentation.fsh, commit 19184798): the respiratory
 * rate (mesures-fr-observation-resp-rate) is not among them.
 */
export const FEEDING_BUNDLE_PROFILES: ReadonlySet<string> = new Set([
  'mesures-fr-observation-bmi',
  'mesures-fr-observation-bodyheight',
  'mesures-fr-observation-body-temperature',
  'mesures-fr-observation-body-weight',
  'mesures-fr-observation-bp',
  'mesures-fr-observation-heartrate',
  'mesures-observation-glucose',
  'mesures-observation-head-circumference',
  'mesures-observation-pain-severity',
  'mesures-observation-steps-by-day',
  'mesures-observation-waist-circumference',
  'mesures-fr-observation-oxygen-sat',
]);

/** A FHIR resource as JSON. */
export type Resource = { resourceType: string } & Record<string, unknown>;

export interface FeedingBundle {
  resourceType: 'Bundle';
  type: 'transaction';
  entry: [ObservationEntry, DeviceEntry];
}

interface ObservationEntry {
  fullUrl: string;
  resource: Resource;
  request: { method: 'POST'; url: 'Observation' };
}

interface DeviceEntry {
  fullUrl: string;
  resource: Resource;
  request: { method: 'POST'; url: 'Device'; ifNoneExist: string };
}

export interface FeedingBundleInput {
  /** An Observation in one of the Mes* profiles (meta.profile set). */
  readonly observation: Resource;
  /** The PhdDevice that made the reading. */
  readonly device: Resource;
  /** The patient's INS (only a qualified identity's: the caller checks). */
  readonly subject: Identifier;
  /** The uuid of the Observation entry (stable for a reading: the same bundle on every attempt). */
  readonly observationUuid: string;
  /** meta.source's OID (under the editor's); undefined: not sent, the receiver sets it. */
  readonly sourceOid: string | undefined;
  /** The system of the Device's identifier in ifNoneExist (the editor's OID or one under it). */
  readonly deviceOid: string;
  /** The Device's identifier value under deviceOid (src/domain/mes-feed.ts, mesDeviceValue). */
  readonly deviceValue: string;
}

export type BuiltBundle = { ok: true; bundle: FeedingBundle } | { ok: false; problem: string };

/** A stable uuid (version 5 layout) from the parts that name a thing. */
export function stableUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const codes = (r: Resource): string[] => {
  const code = r.code as { coding?: { code?: string }[] } | undefined;
  return (code?.coding ?? []).flatMap((c) => (typeof c.code === 'string' ? [c.code] : []));
};

const extensionUrls = (r: Resource): string[] =>
  ((r.extension as { url?: string }[] | undefined) ?? []).flatMap((e) => (typeof e.url === 'string' ? [e.url] : []));

/** The IG names its extensions mesures-moment-of-measurement (older: MesMomentOfMeasurement). */
export const isMomentExtension = (url: string): boolean => /(moment-of-measurement|MomentOfMeasurement)$/.test(url);
/** mes-number-of-days, mesures-number-of-days (older: MesNumberOfDays). */
export const isNumberOfDaysExtension = (url: string): boolean => /(number-of-days|NumberOfDays)$/.test(url);

function hasValue(o: Resource): boolean {
  const q = o.valueQuantity as { value?: unknown } | undefined;
  if (q && typeof q.value === 'number' && Number.isFinite(q.value)) return true;
  const components = (o.component as { valueQuantity?: { value?: unknown } }[] | undefined) ?? [];
  return (
    components.length > 0 &&
    components.every((c) => typeof c.valueQuantity?.value === 'number' && Number.isFinite(c.valueQuantity.value))
  );
}

/** What the receiver would refuse in this Observation (rule 8), in words; undefined when nothing. */
export function observationProblem(o: Resource): string | undefined {
  const c = codes(o);
  const urls = extensionUrls(o);
  const profiles = (o.meta as { profile?: string[] } | undefined)?.profile ?? [];
  if (profiles.length === 0) return 'the Observation has no meta.profile (one of the Mes* profiles)';
  if (!profiles.some((p) => FEEDING_BUNDLE_PROFILES.has(p.split('/').pop() ?? ''))) {
    return `the Observation's profile ${profiles[0]} is not one the feeding bundle accepts`;
  }
  if (!hasValue(o)) return 'the Observation has no value: Mon espace santé refuses observations without one';
  if (c.includes(LOINC_BMI)) return 'a body mass index is computed by Mon espace santé and cannot be created';
  const moment = urls.some(isMomentExtension);
  const days = urls.some(isNumberOfDaysExtension);
  if (c.includes(LOINC_BLOOD_GLUCOSE) && !moment) {
    return 'a blood glucose needs its moment of measurement (fasting, before or after a meal...): the reading has no context';
  }
  if (moment && !c.includes(LOINC_BLOOD_GLUCOSE)) return 'a moment of measurement is accepted on a blood glucose only';
  if (days && !c.includes(TAASIP_INTERSTITIAL_GLUCOSE) && !c.includes(TAASIP_GMI)) {
    return 'a number of days is accepted on interstitial glucose and the glucose management indicator only';
  }
  if (c.includes(TAASIP_GMI) && !days) return 'a glucose management indicator needs its number of days';
  return undefined;
}

/** The feeding bundle of one Observation and the Device that made it, or why it cannot be sent. */
export function feedingBundle(input: FeedingBundleInput): BuiltBundle {
  const { subject, deviceOid, deviceValue } = input;
  if (!OID_PATTERN.test(deviceOid)) return { ok: false, problem: `the device OID "${deviceOid}" is not an OID` };
  if (!MES_DEVICE_VALUE_PATTERN.test(deviceValue)) {
    return { ok: false, problem: `the device identifier "${deviceValue}" does not match the receiver's pattern` };
  }
  if (!subject.system || !subject.value) return { ok: false, problem: 'the patient has no INS to send' };
  const problem = observationProblem(input.observation);
  if (problem) return { ok: false, problem };

  const deviceUuid = stableUuid('mes-device', deviceOid, deviceValue);
  const system = `urn:oid:${deviceOid}`;
  const device: Resource = { ...structuredClone(input.device), id: deviceUuid };
  const deviceProfiles = ((device.meta as { profile?: string[] } | undefined)?.profile ?? []).filter(
    (p) => p !== PHD_DEVICE_PROFILE,
  );
  device.meta = { ...(device.meta as object | undefined), profile: [PHD_DEVICE_PROFILE, ...deviceProfiles] };
  // The identifier of ifNoneExist, in place of the device's own under the same system, else after its others.
  const identifiers = (device.identifier as Identifier[] | undefined) ?? [];
  const mine = { system, value: deviceValue };
  device.identifier = identifiers.some((i) => i.system === system)
    ? identifiers.map((i) => (i.system === system ? { ...i, value: deviceValue } : i))
    : [...identifiers, mine];

  const observation: Resource = structuredClone(input.observation);
  // POSTed: the receiver gives the id (the entry's fullUrl names it in the bundle).
  delete observation.id;
  const meta = { ...(observation.meta as Record<string, unknown>) };
  if (input.sourceOid) meta.source = `urn:oid:${input.sourceOid}`;
  else delete meta.source;
  observation.meta = meta;
  observation.subject = { identifier: { system: subject.system, value: subject.value } };
  observation.device = { reference: `Device/${deviceUuid}` };

  return {
    ok: true,
    bundle: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: `urn:uuid:${input.observationUuid}`,
          resource: observation,
          request: { method: 'POST', url: 'Observation' },
        },
        {
          fullUrl: `urn:uuid:${deviceUuid}`,
          resource: device,
          request: { method: 'POST', url: 'Device', ifNoneExist: `identifier=${system}|${deviceValue}` },
        },
      ],
    },
  };
}
