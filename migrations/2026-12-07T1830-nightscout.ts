import { type Kysely, sql } from 'kysely';

/**
 * Nightscout-style uploaders (README, "Device protocol", "Nightscout uploads"):
 * one per device, made by `vitalink nightscout enable --patient ID [--device ID]`.
 * `secret_hash` is the keyed hash (HMAC-SHA256 under the secret key named by
 * `secret_key_id`, src/domain/secret-keys.ts) of the SHA-1 hex of the upload
 * secret, the form in which apps send it (`api-secret` header): looked up by its
 * unique index, one probe per request whatever the number of uploaders.
 *
 * Upgrade cost: a new empty table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE nightscout_uploaders (
      device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
      patient_id text NOT NULL REFERENCES patients (id),
      secret_hash bytea NOT NULL UNIQUE,
      secret_key_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS nightscout_uploaders`.execute(db);
}
