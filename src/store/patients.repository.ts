import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface PatientRow {
  id: string;
  displayName: string | null;
  timeZone: string;
  createdAt: Date;
}

function toPatientRow(r: { id: string; display_name: string | null; time_zone: string; created_at: Date }): PatientRow {
  return { id: r.id, displayName: r.display_name, timeZone: r.time_zone, createdAt: r.created_at };
}

export async function insertPatient(
  db: Db,
  patient: { id: string; displayName: string | null; timeZone: string },
): Promise<PatientRow> {
  const row = await db
    .insertInto('patients')
    .values({ id: patient.id, display_name: patient.displayName, time_zone: patient.timeZone })
    .returning(['id', 'display_name', 'time_zone', 'created_at'])
    .executeTakeFirstOrThrow();
  return toPatientRow(row);
}

export async function findPatient(db: Db, id: string): Promise<PatientRow | undefined> {
  const row = await db
    .selectFrom('patients')
    .select(['id', 'display_name', 'time_zone', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toPatientRow(row) : undefined;
}

/**
 * Up to `limit` patients by id, after `afterId`; `onlyIds`, when given, keeps
 * those ids only (a clinician's patients).
 */
export async function listPatients(
  db: Db,
  options: { limit: number; afterId?: string; onlyIds?: readonly string[] },
): Promise<PatientRow[]> {
  let q = db
    .selectFrom('patients')
    .select(['id', 'display_name', 'time_zone', 'created_at'])
    .orderBy('id')
    .limit(options.limit);
  if (options.afterId !== undefined) q = q.where('id', '>', options.afterId);
  if (options.onlyIds !== undefined) q = q.where('id', 'in', [...options.onlyIds]);
  const rows = await q.execute();
  return rows.map(toPatientRow);
}

/** Those of `ids` that are patients. */
export async function existingPatientIds(db: Db, ids: readonly string[]): Promise<string[]> {
  const found = await db
    .selectFrom('patients')
    .select('id')
    .where('id', 'in', [...ids])
    .execute();
  return found.map((f) => f.id);
}

/**
 * Locks a patient's row until the transaction ends: the aggregation job holds
 * the same lock while it evaluates the patient, so the two never interleave.
 */
export async function lockPatient(db: Db, patientId: string): Promise<void> {
  await sql`SELECT 1 FROM patients WHERE id = ${patientId} FOR NO KEY UPDATE`.execute(db);
}
