import { type Kysely, sql } from 'kysely';

/**
 * Cheaper inserts on the ingestion path, measured with scripts/store-load.ts:
 * - readings_device_reading is dropped: no query reads readings by (device, reading
 *   id); that lookup is reading_keys' primary key, which also gives measured_at and
 *   so the partition. One index fewer to maintain per stored reading.
 * - reading_keys compares its key bytewise (COLLATE "C"): the key is an identifier,
 *   never sorted for people, and memcmp is cheaper than the database's collation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS readings_device_reading`.execute(db);
  await sql`
    ALTER TABLE reading_keys
      ALTER COLUMN device_id TYPE text COLLATE "C",
      ALTER COLUMN reading_id TYPE text COLLATE "C"`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE reading_keys
      ALTER COLUMN device_id TYPE text COLLATE "default",
      ALTER COLUMN reading_id TYPE text COLLATE "default"`.execute(db);
  await sql`CREATE INDEX readings_device_reading ON readings (device_id, reading_id)`.execute(db);
}
