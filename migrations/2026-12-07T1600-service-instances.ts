import { type Kysely, sql } from 'kysely';

/**
 * Instances that share this database and what they report (README, "Running
 * several instances"): each live instance upserts its row every few seconds
 * (src/actions/instance-reports.ts), so that the ops view of any instance shows
 * them all and their sum. A row is removed when its instance stops, and rows not
 * reported for an hour by whichever instance reports next.
 *
 * Cost: one row per instance, one small UPDATE per instance every 5 s.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE service_instances (
      instance_id text PRIMARY KEY,
      started_at timestamptz NOT NULL,
      reported_at timestamptz NOT NULL,
      report jsonb NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS service_instances`.execute(db);
}
