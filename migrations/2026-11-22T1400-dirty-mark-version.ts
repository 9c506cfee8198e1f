import { type Kysely, sql } from 'kysely';

/**
 * A version on each dirty mark, bumped by every commit that touches it. The
 * aggregation job reads marks without locking them and deletes a mark only if its
 * version did not move meanwhile, so ingestion never waits for a job to finish.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE aggregation_dirty ADD COLUMN version bigint NOT NULL DEFAULT 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE aggregation_dirty DROP COLUMN version`.execute(db);
}
