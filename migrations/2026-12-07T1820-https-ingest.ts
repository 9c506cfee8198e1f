import { type Kysely, sql } from 'kysely';

/**
 * How each device last reached the service (README, "Device protocol", "Over
 * HTTPS"): `last_transport` is the transport of `last_seen_at` ('mqtt', 'https' or
 * 'nightscout'), written with it by each instance's flush of device activity
 * (src/broker/device-activity.ts), never per reading. NULL: not seen since this
 * migration (rows from before it were all MQTT contacts, and stay NULL rather
 * than claim it).
 *
 * Upgrade cost: ADD COLUMN of a nullable column without a default changes the
 * catalogue only (no rewrite of device_activity, one row per device).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE device_activity
      ADD COLUMN last_transport text CHECK (last_transport IN ('mqtt', 'https', 'nightscout'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE device_activity DROP COLUMN IF EXISTS last_transport`.execute(db);
}
