import { type Kysely, sql } from 'kysely';

/**
 * Series reads from the index alone (README, "Sizing"): the job writes an hour's
 * rollups for every patient active in that hour, so one patient's 90 days of hourly
 * rollups lie on about 2,160 heap pages, and a 90-day hourly series touched them
 * all (2,191 buffers, 10.5 ms p50 of SQL at 4.3M hourly rows: scripts/rollups-layout.ts).
 * The primary keys now carry the columns a series returns, so the read is an
 * index-only scan of the patient's contiguous key range (a few dozen pages), whatever
 * the table holds.
 *
 * Cost: about 40 more bytes per rollup row in the key (3 bytes per CGM reading);
 * the job already replaces a recomputed hour's rows (DELETE + INSERT), so no update
 * loses a HOT path. The upgrade rebuilds both keys under an exclusive lock on the
 * rollup tables: ingest goes on (it does not write rollups); the job waits.
 */
const SERIES_COLUMNS = sql`count, min, max, mean, sum`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE rollups_hourly DROP CONSTRAINT rollups_hourly_pkey,
      ADD CONSTRAINT rollups_hourly_pkey PRIMARY KEY (patient_id, type, component, hour_start) INCLUDE (${SERIES_COLUMNS})`.execute(
    db,
  );
  await sql`
    ALTER TABLE rollups_daily DROP CONSTRAINT rollups_daily_pkey,
      ADD CONSTRAINT rollups_daily_pkey PRIMARY KEY (patient_id, type, component, day) INCLUDE (${SERIES_COLUMNS})`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE rollups_hourly DROP CONSTRAINT rollups_hourly_pkey,
      ADD CONSTRAINT rollups_hourly_pkey PRIMARY KEY (patient_id, type, component, hour_start)`.execute(db);
  await sql`
    ALTER TABLE rollups_daily DROP CONSTRAINT rollups_daily_pkey,
      ADD CONSTRAINT rollups_daily_pkey PRIMARY KEY (patient_id, type, component, day)`.execute(db);
}
