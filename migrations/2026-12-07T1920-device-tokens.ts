import { type Kysely, sql } from 'kysely';

/**
 * Device tokens (README, "Over HTTPS", "Device tokens"): bearer credentials of one
 * device for `POST /api/v1/devices/{id}/readings`, made by `vitalink devices token
 * create` and shown once. Stored as API tokens are: `token_hash` is the HMAC-SHA256
 * of the token under the secret key named by `secret_key_id`
 * (src/domain/secret-keys.ts), looked up by its unique index, one probe per key in
 * use and request. A token of a removed device goes with it.
 *
 * Upgrade cost: a new empty table and its index on device_id (lists by device).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE device_tokens (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
      token_hash bytea NOT NULL UNIQUE,
      secret_key_id text NOT NULL,
      label text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX device_tokens_device ON device_tokens (device_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS device_tokens`.execute(db);
}
