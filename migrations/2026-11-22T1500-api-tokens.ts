import { type Kysely, sql } from 'kysely';

/** API tokens (stored hashed) with a role, and the audit trail of clinician reads. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE api_tokens (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      token_hash bytea NOT NULL UNIQUE,
      role text NOT NULL CHECK (role IN ('admin', 'operator', 'clinician')),
      -- clinician tokens: the patients they may read (interfaces.md: any other is a 404)
      patient_ids text[],
      label text,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    )`.execute(db);

  // Every clinician read of patient data: who, which patient, what, when.
  await sql`
    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      token_id bigint REFERENCES api_tokens (id),
      role text NOT NULL,
      patient_id text NOT NULL,
      action text NOT NULL,
      detail jsonb
    )`.execute(db);
  await sql`CREATE INDEX audit_log_patient_at ON audit_log (patient_id, at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS audit_log`.execute(db);
  await sql`DROP TABLE IF EXISTS api_tokens`.execute(db);
}
