import { type Kysely, sql } from 'kysely';

/**
 * A per-device quota on the raw bytes of rejections (README, "Security",
 * "Rejection storage quota").
 *
 * rejections: `raw` may now be NULL (not kept: over the device's quota for the
 * day, `raw_dropped` says why); `raw_size` and `raw_sha256` describe the payload
 * whether or not it was kept (NULL on rows recorded before this migration, whose
 * `raw` is always there).
 * rejection_raw_quota: one row per device, the UTC day and the raw bytes of the
 * rejections recorded for it that day (kept or not), updated in the statement
 * that inserts the rejections (src/store/rejections.repository.ts).
 *
 * Upgrade cost: DROP NOT NULL and ADD COLUMN of nullable columns without a
 * default change the catalogue only (no table rewrite, no scan); the new table
 * starts empty.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE rejections
      ALTER COLUMN raw DROP NOT NULL,
      ADD COLUMN raw_size integer,
      ADD COLUMN raw_sha256 bytea,
      ADD COLUMN raw_dropped text`.execute(db);
  await sql`
    CREATE TABLE rejection_raw_quota (
      device_id text PRIMARY KEY,
      day date NOT NULL,
      raw_bytes bigint NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS rejection_raw_quota`.execute(db);
  await sql`DELETE FROM rejections WHERE raw IS NULL`.execute(db);
  await sql`
    ALTER TABLE rejections
      DROP COLUMN IF EXISTS raw_size,
      DROP COLUMN IF EXISTS raw_sha256,
      DROP COLUMN IF EXISTS raw_dropped,
      ALTER COLUMN raw SET NOT NULL`.execute(db);
}
