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
 * it replaces (patient_id, at), which it covers.
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
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX IF NOT EXISTS audit_log_patient_at ON audit_log (patient_id, at)`.execute(db);
  await sql`DROP INDEX IF EXISTS audit_log_patient_at_id`.execute(db);
  await sql`
    ALTER TABLE audit_log
      DROP COLUMN request_id, DROP COLUMN source_address, DROP COLUMN principal, DROP COLUMN outcome`.execute(db);
}
