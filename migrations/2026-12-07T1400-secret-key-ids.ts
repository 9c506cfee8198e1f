import { type Kysely, sql } from 'kysely';

/**
 * The key that protects device secrets and API tokens comes from outside the
 * database (README, "Security", "Rotating the key"): each stored hash now names
 * the key it was made under. Every hash so far was made under the key kept in
 * `installation`, named `database`; that key may be forgotten once nothing is
 * under it (`vitalink keys forget-database-key`), hence its column becomes nullable.
 *
 * ADD COLUMN with a constant default is a catalogue change (no rewrite of the
 * tables); the default is dropped after, so that every new hash must name its key.
 * The CHECK on devices reads the table once (it holds one row per device).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE installation ALTER COLUMN secret_key DROP NOT NULL`.execute(db);
  await sql`
    ALTER TABLE devices
      ADD COLUMN secret_key_id text NOT NULL DEFAULT 'database',
      ADD COLUMN previous_secret_key_id text`.execute(db);
  await sql`ALTER TABLE devices ALTER COLUMN secret_key_id DROP DEFAULT`.execute(db);
  await sql`UPDATE devices SET previous_secret_key_id = 'database' WHERE previous_secret_hash IS NOT NULL`.execute(db);
  await sql`
    ALTER TABLE devices ADD CONSTRAINT devices_previous_secret_key
      CHECK ((previous_secret_hash IS NULL) = (previous_secret_key_id IS NULL))`.execute(db);
  await sql`ALTER TABLE api_tokens ADD COLUMN secret_key_id text NOT NULL DEFAULT 'database'`.execute(db);
  await sql`ALTER TABLE api_tokens ALTER COLUMN secret_key_id DROP DEFAULT`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_tokens DROP COLUMN secret_key_id`.execute(db);
  await sql`ALTER TABLE devices DROP CONSTRAINT devices_previous_secret_key`.execute(db);
  await sql`ALTER TABLE devices DROP COLUMN previous_secret_key_id, DROP COLUMN secret_key_id`.execute(db);
}
