import { type Kysely, sql } from 'kysely';

/**
 * A version of who is in whose care (README, "Care teams", "Cost"): every change
 * of an enrolment or a team membership bumps it, in the same transaction, so an
 * instance may keep a practitioner's patients in memory for as long as the version
 * has not moved and no enrolment of theirs starts or ends (src/store/care-scope.ts).
 * A request then reads this one row instead of all the practitioner's enrolments.
 *
 * Cost: one row; one UPDATE per statement that changes enrolments or team_members
 * (rare, administrative writes).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE care_scope_version (
      id integer PRIMARY KEY CHECK (id = 1),
      version bigint NOT NULL
    )`.execute(db);
  await sql`INSERT INTO care_scope_version (id, version) VALUES (1, 1)`.execute(db);
  await sql`
    CREATE FUNCTION care_scope_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE care_scope_version SET version = version + 1 WHERE id = 1;
      RETURN NULL;
    END $$`.execute(db);
  for (const table of ['enrolments', 'team_members']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_care_scope`)}
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${sql.table(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION care_scope_bump()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS enrolments_care_scope ON enrolments`.execute(db);
  await sql`DROP TRIGGER IF EXISTS team_members_care_scope ON team_members`.execute(db);
  await sql`DROP FUNCTION IF EXISTS care_scope_bump()`.execute(db);
  await sql`DROP TABLE IF EXISTS care_scope_version`.execute(db);
}
