import { type Kysely, sql } from 'kysely';

/**
 * The audit trail a data protection officer can rely on: each row also says which
 * request it came from (fastify's request id, also in the access log line), the TCP
 * peer, the principal (`token:<id>` or `admin-token`) and the outcome (`allowed`,
 * `denied`, `not_found`).
 *
 * The new columns are nullable without a default: a catalogue change only, no rewrite
 * of existing rows (rows written before this migration have them null). The keyset
 * index (patient_id, at, id) serves `vitalink audit export`; building it reads the
 * whole table once (plain CREATE INDEX: writes to audit_log wait while it builds) and
 * it replaces (patient_id, at), which it covers. Then a statement trigger makes the
 * table append-only against mistakes (below).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE audit_log
      ADD COLUMN request_id text,
      ADD COLUMN source_address text,
      ADD COLUMN principal text,
      ADD COLUMN outcome text CHECK (outcome IN ('allowed', 'denied', 'not_found'))`.execute(db);
  await sql`CREATE INDEX audit_log_patient_at_id ON audit_log (patient_id, at, id)`.execute(db);
  await sql`DROP INDEX IF EXISTS audit_log_patient_at`.execute(db);

  // Append-only against mistakes: UPDATE and TRUNCATE always refused, DELETE unless the
  // transaction set vitalink.retention = 'on' (only src/store/retention.repository.ts
  // does). Not against someone holding the service's role: that role owns the table
  // and can drop the trigger. One check per statement, not per row.
  await sql`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('vitalink.retention', true) = 'on' THEN
        RETURN NULL;
      END IF;
      RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'old entries are removed by the retention job only (VITALINK_RETENTION_AUDIT_DAYS)';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log`.execute(db);
  await sql`DROP FUNCTION IF EXISTS audit_log_append_only()`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS audit_log_patient_at ON audit_log (patient_id, at)`.execute(db);
  await sql`DROP INDEX IF EXISTS audit_log_patient_at_id`.execute(db);
  await sql`
    ALTER TABLE audit_log
      DROP COLUMN request_id, DROP COLUMN source_address, DROP COLUMN principal, DROP COLUMN outcome`.execute(db);
}
