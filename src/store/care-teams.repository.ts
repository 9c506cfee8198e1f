import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * The patients a practitioner may read at `at`: those enrolled with one of their
 * teams, while the enrolment runs (starts_at ≤ at < ends_at). Cost: the
 * practitioner's memberships, then their teams' enrolments by index; never readings.
 */
export async function patientsInCareOf(db: Db, practitionerId: string, at: Date): Promise<string[]> {
  const { rows } = await sql<{ patient_id: string }>`
    SELECT DISTINCT e.patient_id
    FROM team_members m
    JOIN enrolments e ON e.team_id = m.team_id
    WHERE m.practitioner_id = ${practitionerId}
      AND e.starts_at <= ${at} AND (e.ends_at IS NULL OR e.ends_at > ${at})`.execute(db);
  return rows.map((r) => r.patient_id);
}
