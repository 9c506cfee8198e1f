import { type Kysely, sql } from 'kysely';

/**
 * A smaller row per stored reading in reading_keys (issue #11, item 4):
 * reading_keys.measured_at is dropped. Nothing reads it: retention finds a month's
 * keys from its readings partition (src/store/retention.repository.ts), and a
 * duplicate or a conflict is told by the key and the content hash alone.
 *
 * On a loaded database: DROP COLUMN changes the catalog only (no rewrite, no scan);
 * it waits for the ACCESS EXCLUSIVE lock, so for the ingest statements in flight
 * (milliseconds). Rows written before keep their 8 bytes until retention deletes
 * them; rows written after store the column as a null (a bit in the null bitmap),
 * 8 bytes less each (about 104 -> 96 bytes of heap per key, measured in the commit).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE reading_keys DROP COLUMN measured_at`.execute(db);
}

/**
 * Puts the column back, nullable, filled from the readings: a hash join of
 * reading_keys with every partition of readings and a rewrite of reading_keys
 * (minutes at 50M keys, with ingest blocked meanwhile). Every key has its reading
 * (a key is claimed in the statement that stores it, and retention removes a
 * month's keys before its partition), so no value stays null.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE reading_keys ADD COLUMN measured_at timestamptz`.execute(db);
  await sql`
    UPDATE reading_keys k SET measured_at = r.measured_at
    FROM readings r WHERE r.device_id = k.device_id AND r.reading_id = k.reading_id`.execute(db);
}
