import { type Kysely, sql } from 'kysely';

/**
 * Retention (README, "Retention"):
 * - reading_keys_pruned: the UTC months whose duplicate keys were removed. The
 *   keys of a month are found from its readings partition (by primary key probes),
 *   so reading_keys needs no index on measured_at and the write path stays as it
 *   was; this table tells later runs that a month is done, so that no run reads a
 *   partition twice, and that its partition may be dropped.
 * - indexes on the time columns that retention deletes by, none on the ingestion
 *   path: rollups (written by the aggregation job, one entry per rollup row it
 *   rewrites) and the audit trail (one entry per clinician read). rejections
 *   already has rejections_received.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE reading_keys_pruned (
      month timestamptz PRIMARY KEY,
      keys_removed bigint NOT NULL,
      pruned_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX rollups_daily_day ON rollups_daily (day)`.execute(db);
  await sql`CREATE INDEX rollups_hourly_hour ON rollups_hourly (hour_start)`.execute(db);
  await sql`CREATE INDEX audit_log_at ON audit_log (at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS audit_log_at`.execute(db);
  await sql`DROP INDEX IF EXISTS rollups_hourly_hour`.execute(db);
  await sql`DROP INDEX IF EXISTS rollups_daily_day`.execute(db);
  await sql`DROP TABLE IF EXISTS reading_keys_pruned`.execute(db);
}
