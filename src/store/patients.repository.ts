import type { Db } from './database.ts';

export interface PatientRow {
  id: string;
  displayName: string | null;
  timeZone: string;
  createdAt: Date;
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
  return { id: row.id, displayName: row.display_name, timeZone: row.time_zone, createdAt: row.created_at };
}

export async function findPatient(db: Db, id: string): Promise<PatientRow | undefined> {
  const row = await db
    .selectFrom('patients')
    .select(['id', 'display_name', 'time_zone', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row
    ? { id: row.id, displayName: row.display_name, timeZone: row.time_zone, createdAt: row.created_at }
    : undefined;
}
