import { type Kysely, sql } from 'kysely';

/**
 * Partial aggregates of CGM glucose per patient, UTC hour and device, and per UTC
 * day and device, kept with the rollups and recomputed with them (src/store/aggregation.repository.ts): the job
 * computes the 14-day CGM indicators from them instead of 14 days of readings
 * (src/domain/indicators/cgm-partials.ts).
 *
 * Upgrade: nothing is backfilled here and no day is marked dirty (at 10,000 patients
 * that would be hours of job time competing with fresh alerts). rollups_daily gets
 * `with_partials`, NULL on the rows written before this migration. When the job needs
 * days of a CGM window whose row is not flagged, it recomputes the rollups and
 * partials of two of them per run, newest first, and reads the others' hours as
 * readings meanwhile: no run costs more than a run before this change, and a CGM
 * patient's window has its partials after about eight runs (minutes, as readings
 * arrive; eight hours at worst, by the hourly refresh).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE cgm_hourly_partials (
      patient_id text NOT NULL,
      hour_start timestamptz NOT NULL,
      device_id text NOT NULL,
      count integer NOT NULL,
      sum double precision NOT NULL,
      m2 double precision NOT NULL,
      min double precision NOT NULL,
      max double precision NOT NULL,
      below_54 integer NOT NULL,
      below_70 integer NOT NULL,
      in_70_180 integer NOT NULL,
      above_180 integer NOT NULL,
      above_250 integer NOT NULL,
      first_ms bigint NOT NULL,
      last_ms bigint NOT NULL,
      -- The positive gaps (ms) between consecutive readings inside the hour: distinct values, ascending,
      -- and how many times each occurs.
      gap_values integer[] NOT NULL,
      gap_counts integer[] NOT NULL,
      PRIMARY KEY (patient_id, hour_start, device_id)
    )`.execute(db);
  // The same, merged per UTC day (from that day's hourly rows): the whole days of a window are
  // read as 14 rows per device instead of 336.
  await sql`
    CREATE TABLE cgm_daily_partials (LIKE cgm_hourly_partials INCLUDING ALL)`.execute(db);
  await sql`ALTER TABLE cgm_daily_partials RENAME COLUMN hour_start TO day_start`.execute(db);
  await sql`ALTER TABLE rollups_daily ADD COLUMN with_partials boolean`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rollups_daily DROP COLUMN IF EXISTS with_partials`.execute(db);
  await sql`DROP TABLE IF EXISTS cgm_daily_partials`.execute(db);
  await sql`DROP TABLE IF EXISTS cgm_hourly_partials`.execute(db);
}
