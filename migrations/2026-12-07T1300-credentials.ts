import { type Kysely, sql } from 'kysely';

/**
 * Credentials that can be listed, expired and revoked (README, "Security").
 *
 * devices: when it was disabled, when its secret was last rotated (a session
 * authenticated before that is closed), and the previous secret's hash with the
 * end of its grace period (`vitalink devices rotate-secret --grace`).
 * device_activity: one small row per device, written at most once per flush
 * interval by each instance (src/broker/device-activity.ts), never per reading:
 * when the device was last seen and when it last had a reading stored.
 * api_tokens: an expiry (NULL: never; every token created before this migration)
 * and the last time it was used (written at most once a minute per token).
 *
 * Upgrade cost: ADD COLUMN of nullable columns without a default changes the
 * catalogue only (no table rewrite); device_activity starts empty.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE devices
      ADD COLUMN disabled_at timestamptz,
      ADD COLUMN secret_rotated_at timestamptz,
      ADD COLUMN previous_secret_hash bytea,
      ADD COLUMN previous_secret_expires_at timestamptz`.execute(db);
  await sql`
    CREATE TABLE device_activity (
      device_id text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
      last_seen_at timestamptz,
      last_reading_at timestamptz
    )`.execute(db);
  await sql`
    ALTER TABLE api_tokens
      ADD COLUMN expires_at timestamptz,
      ADD COLUMN last_used_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_tokens DROP COLUMN IF EXISTS expires_at, DROP COLUMN IF EXISTS last_used_at`.execute(db);
  await sql`DROP TABLE IF EXISTS device_activity`.execute(db);
  await sql`
    ALTER TABLE devices
      DROP COLUMN IF EXISTS disabled_at,
      DROP COLUMN IF EXISTS secret_rotated_at,
      DROP COLUMN IF EXISTS previous_secret_hash,
      DROP COLUMN IF EXISTS previous_secret_expires_at`.execute(db);
}
