/**
 * Feeding bundles of a patient's readings (README, "Feeding Mon espace santé"):
 * for `vitalink export mes`, GET /api/v1/patients/{id}/mes-bundles and the push
 * worker. The Observation and Device come from src/fhir (ANS profiles), the
 * patient's INS from the patient's identity; src/fhir/mes-bundle.ts wraps them.
 */
import type { MesSettings } from '../config.ts';
import { mesDeviceValue } from '../domain/mes-feed.ts';
import { type BuiltBundle, feedingBundle, type FeedingBundle, type Resource, stableUuid } from '../fhir/mes-bundle.ts';
import { mesDevice, mesObservation } from '../fhir/mes-resources.ts';
import type { Identifier } from '../fhir/types.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { findPatient } from '../store/patients.repository.ts';
import { type MesReading, type MesReadingKey, mesReadingsPage } from '../store/mes-pushes.repository.ts';
import { patientInsIdentity } from '../store/mes-identity.ts';

export const MES_README = 'README, "Feeding Mon espace santé"';

export type FeedIdentity = { ok: true; identifier: Identifier } | { ok: false; problem: string };

/** Why nothing can be built without the editor's OID; undefined when it is set. */
export function mesSettingsProblem(settings: MesSettings): string | undefined {
  if (!settings.editorOid || !settings.deviceOid) {
    return `VITALINK_MES_EDITOR_OID is not set: set the editor's OID (the one the national agency gave) to build feeding bundles (${MES_README})`;
  }
  return undefined;
}

/**
 * The patient's INS for Observation.subject.identifier, only when the identity is
 * qualified (RNIV: the INS is shared for a qualified identity only); otherwise why
 * the patient cannot be fed.
 */
export async function patientFeedIdentity(db: Db, patientId: string): Promise<FeedIdentity> {
  const ins = await patientInsIdentity(db, patientId);
  if (!ins) {
    return {
      ok: false,
      problem: `patient ${patientId} has no qualified INS identity: Mon espace santé is fed with the INS of a qualified identity only; record and qualify the patient's INS first (${MES_README})`,
    };
  }
  return { ok: true, identifier: ins };
}

/** The uuid of a reading's Observation entry: the same for the export, the API and every push attempt. */
export function observationUuid(deviceId: string, readingId: string): string {
  return stableUuid('mes-observation', deviceId, readingId);
}

/** One reading's feeding bundle, or why it cannot be sent. */
export function readingBundle(settings: MesSettings, subject: Identifier, reading: MesReading): BuiltBundle {
  const problem = mesSettingsProblem(settings);
  if (problem) return { ok: false, problem };
  const observation: Resource | { problem: string } = mesObservation(reading, settings.profiles);
  if ('problem' in observation) return { ok: false, problem: observation.problem as string };
  const device: Resource = mesDevice(reading, settings.profiles);
  return feedingBundle({
    observation,
    device,
    subject,
    observationUuid: observationUuid(reading.deviceId, reading.readingId),
    sourceOid: settings.sourceOid,
    deviceOid: settings.deviceOid!,
    deviceValue: mesDeviceValue(reading.deviceId),
  });
}

export interface ExportedBundle {
  readingId: string;
  deviceId: string;
  bundle?: FeedingBundle;
  /** Why this reading has no bundle. */
  problem?: string;
}

/**
 * A page of a patient's feeding bundles, oldest reading first, from `since`, after
 * `after` (the cursor of the previous page). Readings that cannot be sent (no value,
 * a blood glucose without context) come with the reason instead of a bundle.
 */
export async function mesBundlesPage(
  db: Db,
  settings: MesSettings,
  subject: Identifier,
  o: { patientId: string; since: Date | undefined; after?: MesReadingKey; limit: number },
): Promise<{ items: ExportedBundle[]; next: MesReadingKey | null }> {
  const readings = await mesReadingsPage(db, { ...o, types: settings.types });
  const items = readings.map((r): ExportedBundle => {
    const built = readingBundle(settings, subject, r);
    return built.ok
      ? { readingId: r.readingId, deviceId: r.deviceId, bundle: built.bundle }
      : { readingId: r.readingId, deviceId: r.deviceId, problem: built.problem };
  });
  const last = readings.at(-1);
  return {
    items,
    next: readings.length === o.limit && last ? [last.atMicros, last.deviceId, last.readingId] : null,
  };
}

/**
 * The INS to feed a patient with, or an AppError saying what to do: the editor's OID
 * unset (503), no such patient (404), no qualified INS identity (409).
 */
export async function requireFeedIdentity(db: Db, settings: MesSettings, patientId: string): Promise<Identifier> {
  const problem = mesSettingsProblem(settings);
  if (problem) throw new AppError('unavailable', problem);
  if (!(await findPatient(db, patientId))) {
    throw new AppError('not_found', `patient ${patientId} does not exist: check the id (vitalink patients list)`);
  }
  const identity = await patientFeedIdentity(db, patientId);
  if (!identity.ok) throw new AppError('conflict', identity.problem);
  return identity.identifier;
}
