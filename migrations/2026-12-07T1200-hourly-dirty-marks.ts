import { type Kysely, sql } from 'kysely';

/**
 * Dirty marks that say which hours of the day changed, so that the job recomputes
 * those hours and derives the day from its hourly rows instead of rereading the
 * whole day (src/store/aggregation.repository.ts, recomputeRollups).
 *
 * `hours`: for each reading a commit stored, the start of the piece of time that is
 * both in its UTC hour and in its patient-local hour (the later of the two starts;
 * the two are the same except in zones whose offset is not whole hours), distinct,
 * ascending. `hours_version`: the `version` the writer that last set `hours` gave the
 * mark. A mark is read by hour only if both are set and `hours_version = version`;
 * otherwise the whole day is recomputed, as before. So marks queued before this
 * migration (both NULL), and marks bumped by a writer that does not know the columns
 * (an older instance during a rolling upgrade, a script), keep their old meaning.
 *
 * Two nullable columns without a default: a change of the catalogue only, no rewrite
 * of the table, whatever it holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE aggregation_dirty ADD COLUMN hours timestamptz[], ADD COLUMN hours_version bigint`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE aggregation_dirty DROP COLUMN IF EXISTS hours, DROP COLUMN IF EXISTS hours_version`.execute(db);
}
