import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface AssignmentRow {
  id: string;
  deviceId: string;
  patientId: string;
  validFrom: Date;
  validTo: Date | null;
}

function toRow(r: {
  id: string;
  device_id: string;
  patient_id: string;
  valid_from: Date;
  valid_to: Date | null;
}): AssignmentRow {
  return { id: r.id, deviceId: r.device_id, patientId: r.patient_id, validFrom: r.valid_from, validTo: r.valid_to };
}

/** Assignments of a device that overlap [from, to) (to null: open-ended). */
export async function findOverlappingAssignments(
  db: Db,
  deviceId: string,
  from: Date,
  to: Date | null,
): Promise<AssignmentRow[]> {
  const rows = await db
    .selectFrom('device_assignments')
    .select(['id', 'device_id', 'patient_id', 'valid_from', 'valid_to'])
    .where('device_id', '=', deviceId)
    .where(sql<boolean>`tstzrange(valid_from, valid_to, '[)') && tstzrange(${from}, ${to}, '[)')`)
    .orderBy('valid_from')
    .execute();
  return rows.map(toRow);
}

/**
 * Assignments of a device that overlap [from, to) or touch it end to end (one ends
 * where the other begins): the ones of the same patient that an assignment merges with.
 */
export async function findTouchingAssignments(
  db: Db,
  deviceId: string,
  from: Date,
  to: Date | null,
): Promise<AssignmentRow[]> {
  const rows = await db
    .selectFrom('device_assignments')
    .select(['id', 'device_id', 'patient_id', 'valid_from', 'valid_to'])
    .where('device_id', '=', deviceId)
    .where(
      sql<boolean>`(tstzrange(valid_from, valid_to, '[)') && tstzrange(${from}, ${to}, '[)')
        OR tstzrange(valid_from, valid_to, '[)') -|- tstzrange(${from}, ${to}, '[)'))`,
    )
    .orderBy('valid_from')
    .execute();
  return rows.map(toRow);
}

/** Holds the device's row until the end of the transaction: one change of its assignments at a time. */
export async function lockDeviceAssignments(db: Db, deviceId: string): Promise<void> {
  await sql`SELECT 1 FROM devices WHERE id = ${deviceId} FOR UPDATE`.execute(db);
}

/** Sets an assignment's interval (a merge widens it). */
export async function setAssignmentInterval(db: Db, id: string, from: Date, to: Date | null): Promise<AssignmentRow> {
  const row = await db
    .updateTable('device_assignments')
    .set({ valid_from: from, valid_to: to })
    .where('id', '=', id)
    .returning(['id', 'device_id', 'patient_id', 'valid_from', 'valid_to'])
    .executeTakeFirstOrThrow();
  return toRow(row);
}

export async function deleteAssignments(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom('device_assignments').where('id', 'in', ids).execute();
}

export async function endAssignment(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable('device_assignments').set({ valid_to: at }).where('id', '=', id).execute();
}

export async function insertAssignment(
  db: Db,
  a: { deviceId: string; patientId: string; validFrom: Date; validTo: Date | null },
): Promise<AssignmentRow> {
  const row = await db
    .insertInto('device_assignments')
    .values({ device_id: a.deviceId, patient_id: a.patientId, valid_from: a.validFrom, valid_to: a.validTo })
    .returning(['id', 'device_id', 'patient_id', 'valid_from', 'valid_to'])
    .executeTakeFirstOrThrow();
  return toRow(row);
}

export async function listAssignments(db: Db, deviceId: string): Promise<AssignmentRow[]> {
  const rows = await db
    .selectFrom('device_assignments')
    .select(['id', 'device_id', 'patient_id', 'valid_from', 'valid_to'])
    .where('device_id', '=', deviceId)
    .orderBy('valid_from')
    .execute();
  return rows.map(toRow);
}

/** The devices ever assigned to the patient, by id (the device_assignments_patient index). */
export async function listDeviceIdsOfPatient(db: Db, patientId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('device_assignments')
    .select('device_id')
    .distinct()
    .where('patient_id', '=', patientId)
    .orderBy('device_id')
    .execute();
  return rows.map((r) => r.device_id);
}
