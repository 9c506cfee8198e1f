import { generateDeviceSecret, hashDeviceSecret } from '../domain/device-secret.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import { parseMeasuredAt } from '../domain/timestamp.ts';
import { AppError } from '../errors.ts';
import { isReservedId, RESERVED_ID_MESSAGE } from '../domain/ids.ts';
import { DEVICE_ID_PATTERN } from '../domain/protocol.ts';
import {
  type AssignmentRow,
  deleteAssignments,
  endAssignment,
  findOverlappingAssignments,
  findTouchingAssignments,
  insertAssignment,
  lockDeviceAssignments,
  setAssignmentInterval,
} from '../store/assignments.repository.ts';
import type { Db } from '../store/database.ts';
import { type DeviceRow, findDevice, insertDevice } from '../store/devices.repository.ts';
import { findPatient, insertPatient, type PatientRow } from '../store/patients.repository.ts';
import { isTimeZoneKnown } from '../store/time-zones.repository.ts';

/**
 * Provisioning of patients, devices and assignments: the rules shared by the CLI
 * (`vitalink patients add`, `devices add`, `devices assign`) and the admin API.
 */

export const DEFAULT_TIME_ZONE = 'Europe/Paris';

/** An IANA zone name (Europe/Paris, UTC), not an offset like +01:00 that PostgreSQL reads backwards. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_-]*(\/[A-Za-z0-9_+-]+)*$/;

export function isValidTimeZone(zone: string): boolean {
  if (!ZONE_NAME.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Zones PostgreSQL has confirmed: pg_timezone_names reads the zone files on every
 * query (about 40 ms), which made provisioning thousands of patients take minutes.
 */
const zonesKnownToPostgres = new Set<string>();

/**
 * A patient's zone is used by Node (indicators) and by PostgreSQL (rollups): it
 * must be a name both know, or one of them would fail on every reading.
 */
export async function checkTimeZone(db: Db, zone: string): Promise<void> {
  if (zonesKnownToPostgres.has(zone)) return;
  const known = isValidTimeZone(zone) && (await isTimeZoneKnown(db, zone));
  if (!known) {
    throw new AppError(
      'invalid_input',
      `time zone "${zone}" is not an IANA time zone name; use one like Europe/Paris`,
      {
        field: 'timeZone',
      },
    );
  }
  zonesKnownToPostgres.add(zone);
}

function checkId(kind: 'patient' | 'device', id: string): void {
  if (!DEVICE_ID_PATTERN.test(id)) {
    throw new AppError('invalid_input', `${kind} id "${id}" is invalid: use 1 to 64 characters of A-Z a-z 0-9 . _ -`);
  }
  if (isReservedId(id)) throw new AppError('invalid_input', `${kind} id "${id}" ${RESERVED_ID_MESSAGE}`);
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export async function addPatient(
  db: Db,
  input: { id: string; timeZone?: string; displayName?: string },
): Promise<PatientRow> {
  checkId('patient', input.id);
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  await checkTimeZone(db, timeZone);
  try {
    return await insertPatient(db, { id: input.id, timeZone, displayName: input.displayName ?? null });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `patient ${input.id} already exists`);
    throw error;
  }
}

export interface ProvisionedDevice {
  device: DeviceRow;
  /** Shown once; only its hash is stored. */
  secret: string;
  assignment: AssignmentRow | null;
}

/** The secret is stored as its HMAC under the current key of `keys` (src/actions/secret-keys.ts). */
export async function addDevice(
  db: Db,
  keys: KeyRing,
  input: { id: string; model?: string; patientId?: string },
  now: Date,
): Promise<ProvisionedDevice> {
  checkId('device', input.id);
  return db.transaction().execute(async (trx) => {
    if (input.patientId !== undefined && !(await findPatient(trx, input.patientId))) {
      throw new AppError(
        'not_found',
        `patient ${input.patientId} does not exist; add it with \`vitalink patients add\` first`,
      );
    }
    const secret = generateDeviceSecret();
    let device: DeviceRow;
    try {
      device = await insertDevice(trx, {
        id: input.id,
        secretHash: hashDeviceSecret(keys.current, secret),
        secretKeyId: keys.current.id,
        model: input.model ?? null,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `device ${input.id} already exists`);
      throw error;
    }
    const assignment =
      input.patientId !== undefined
        ? await insertAssignment(trx, { deviceId: input.id, patientId: input.patientId, validFrom: now, validTo: null })
        : null;
    return { device, secret, assignment };
  });
}

export interface AssignResult {
  /** The assignment now in force over the interval asked (a merged one is wider). */
  assignment: AssignmentRow;
  /** An open-ended assignment that the new one ended (the device changed hands). */
  ended: AssignmentRow | null;
  /** The assignments of the same patient it was merged with, as they were before (none: a new assignment). */
  merged: AssignmentRow[];
}

/** Parses a CLI/API time: RFC 3339 with offset, or epoch milliseconds. */
export function parseTimeArgument(name: string, text: string): Date {
  const ms = parseMeasuredAt(/^-?\d+$/.test(text) ? Number(text) : text);
  if (ms === undefined) {
    throw new AppError(
      'invalid_input',
      `${name} "${text}" is not a time: use RFC 3339 with an offset (2026-11-22T08:00:00+01:00) or epoch milliseconds`,
      { field: name.replace(/^--/, '') },
    );
  }
  return new Date(ms);
}

/**
 * Records that a device is with a patient over [from, to). Assignments never
 * overlap for one device (device-protocol.md, "Patients"): an open-ended one
 * that started earlier is ended at `from`; any other overlap is refused.
 */
export async function assignDevice(
  db: Db,
  input: { deviceId: string; patientId: string; from: Date; to: Date | null },
): Promise<AssignResult> {
  if (input.to !== null && input.to <= input.from) {
    throw new AppError('invalid_input', 'the end of an assignment (to) must be later than its start (from)', {
      field: 'to',
    });
  }
  return db.transaction().execute(async (trx) => {
    if (!(await findDevice(trx, input.deviceId))) {
      throw new AppError(
        'not_found',
        `device ${input.deviceId} does not exist; add it with \`vitalink devices add\` first`,
      );
    }
    if (!(await findPatient(trx, input.patientId))) {
      throw new AppError(
        'not_found',
        `patient ${input.patientId} does not exist; add it with \`vitalink patients add\` first`,
      );
    }
    await lockDeviceAssignments(trx, input.deviceId);
    // README, "Commands": assignments of the device to the same patient that overlap the
    // interval or touch it end to end become one, as wide as all of them together.
    let from = input.from;
    let to = input.to;
    const merged: AssignmentRow[] = [];
    for (;;) {
      const touching = await findTouchingAssignments(trx, input.deviceId, from, to);
      const more = touching.filter((a) => a.patientId === input.patientId && !merged.some((m) => m.id === a.id));
      if (more.length === 0) break;
      for (const a of more) {
        merged.push(a);
        if (a.validFrom < from) from = a.validFrom;
        to = to === null || a.validTo === null ? null : a.validTo > to ? a.validTo : to;
      }
    }
    // Another patient's: an open-ended one that began before is ended (the device changed
    // hands); any other overlap is refused.
    let ended: AssignmentRow | null = null;
    const others = (await findOverlappingAssignments(trx, input.deviceId, from, to)).filter(
      (a) => a.patientId !== input.patientId,
    );
    for (const a of others) {
      if (a.validTo === null && a.validFrom < from && ended === null) {
        await endAssignment(trx, a.id, from);
        ended = { ...a, validTo: from };
        continue;
      }
      const until = a.validTo ? `to ${a.validTo.toISOString()}` : 'with no end';
      const asked = `${from.toISOString()} ${to ? `to ${to.toISOString()}` : 'with no end'}`;
      throw new AppError(
        'conflict',
        `device ${input.deviceId} is assigned to patient ${a.patientId} from ${a.validFrom.toISOString()} ${until}, ` +
          `which overlaps ${asked} for patient ${input.patientId}: a device is with one patient at a time; ` +
          `choose an interval outside it, or end that assignment first`,
      );
    }
    if (merged.length === 0) {
      const assignment = await insertAssignment(trx, {
        deviceId: input.deviceId,
        patientId: input.patientId,
        validFrom: from,
        validTo: to,
      });
      return { assignment, ended, merged };
    }
    // The earliest one is kept, widened; the others it now covers go.
    const [kept, ...covered] = merged.toSorted((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
    await deleteAssignments(
      trx,
      covered.map((a) => a.id),
    );
    const assignment = await setAssignmentInterval(trx, kept.id, from, to);
    return { assignment, ended, merged };
  });
}
