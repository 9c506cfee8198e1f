import { type Kysely, sql } from 'kysely';

/** Alerts (indicators.md, "Alerts"): per-patient thresholds, alerts and their history. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE alert_thresholds (
      patient_id text NOT NULL REFERENCES patients (id),
      rule text NOT NULL,
      threshold jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (patient_id, rule)
    )`.execute(db);

  await sql`
    CREATE TABLE alerts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      patient_id text NOT NULL REFERENCES patients (id),
      rule text NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
      opened_at timestamptz NOT NULL,
      acknowledged_at timestamptz,
      acknowledged_by text,
      resolved_at timestamptz,
      condition_cleared_at timestamptz,
      occurred_at timestamptz,
      threshold jsonb NOT NULL,
      -- "deviceId/readingId" of the reading(s) that raised it (reading ids are unique per device)
      reading_ids text[] NOT NULL
    )`.execute(db);
  // At most one open (or acknowledged) alert per patient and rule.
  await sql`CREATE UNIQUE INDEX alerts_one_active ON alerts (patient_id, rule) WHERE status <> 'resolved'`.execute(db);
  await sql`CREATE INDEX alerts_patient_rule ON alerts (patient_id, rule, id DESC)`.execute(db);
  await sql`CREATE INDEX alerts_status ON alerts (status, opened_at)`.execute(db);

  await sql`
    CREATE TABLE alert_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      alert_id bigint NOT NULL REFERENCES alerts (id),
      at timestamptz NOT NULL,
      event text NOT NULL CHECK (event IN ('opened', 'updated', 'condition_cleared', 'acknowledged', 'resolved')),
      actor text,
      reading_ids text[]
    )`.execute(db);
  await sql`CREATE INDEX alert_events_alert ON alert_events (alert_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['alert_events', 'alerts', 'alert_thresholds']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
