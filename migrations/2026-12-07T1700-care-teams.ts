import { type Kysely, sql } from 'kysely';

/**
 * Care teams (README, "Care teams"): health professionals, the teams they belong
 * to, and the enrolment of patients in a monitoring programme followed by a team.
 * A practitioner sees exactly the patients enrolled with one of their teams, while
 * the enrolment runs ([starts_at, ends_at)); a clinician API token may act as a
 * practitioner (api_tokens.practitioner_id) instead of holding a list of patients.
 *
 * - practitioners.rpps: the RPPS number (11 digits), the key Pro Santé Connect's
 *   SubjectNameID ("8" + RPPS) is matched on; unique when present.
 * - care_teams.service_hours: the team's service hours (src/domain/service-hours.ts
 *   parses the spec), in care_teams.time_zone; NULL: always on duty.
 *
 * Cost: rows per person, team and enrolment; the scoping query reads a
 * practitioner's memberships and their teams' current enrolments through the
 * indexes below, never readings.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE practitioners (
      id text PRIMARY KEY,
      name text NOT NULL,
      rpps text UNIQUE CHECK (rpps ~ '^[0-9]{11}$'),
      role text NOT NULL DEFAULT 'physician' CHECK (role IN ('physician', 'nurse', 'coordinator')),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE care_teams (
      id text PRIMARY KEY,
      name text,
      time_zone text NOT NULL DEFAULT 'Europe/Paris',
      service_hours text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE team_members (
      team_id text NOT NULL REFERENCES care_teams (id) ON DELETE CASCADE,
      practitioner_id text NOT NULL REFERENCES practitioners (id) ON DELETE CASCADE,
      added_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (team_id, practitioner_id)
    )`.execute(db);
  await sql`CREATE INDEX team_members_practitioner ON team_members (practitioner_id)`.execute(db);
  await sql`
    CREATE TABLE enrolments (
      id bigserial PRIMARY KEY,
      patient_id text NOT NULL REFERENCES patients (id),
      team_id text NOT NULL REFERENCES care_teams (id),
      programme text NOT NULL,
      starts_at timestamptz NOT NULL,
      ends_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (ends_at IS NULL OR ends_at > starts_at)
    )`.execute(db);
  await sql`CREATE INDEX enrolments_team ON enrolments (team_id, patient_id)`.execute(db);
  await sql`CREATE INDEX enrolments_patient ON enrolments (patient_id)`.execute(db);
  await sql`ALTER TABLE api_tokens ADD COLUMN practitioner_id text REFERENCES practitioners (id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_tokens DROP COLUMN IF EXISTS practitioner_id`.execute(db);
  await sql`DROP TABLE IF EXISTS enrolments`.execute(db);
  await sql`DROP TABLE IF EXISTS team_members`.execute(db);
  await sql`DROP TABLE IF EXISTS care_teams`.execute(db);
  await sql`DROP TABLE IF EXISTS practitioners`.execute(db);
}
