import { type Kysely, sql } from 'kysely';

/**
 * Aggregation: dirty marks written by every commit of readings, hourly and daily
 * rollups per patient-local time, and the latest value of each indicator.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // What a commit touched: (patient, type, patient-local day). Taken by the jobs
  // with FOR UPDATE SKIP LOCKED, recomputed, then deleted.
  await sql`
    CREATE TABLE aggregation_dirty (
      patient_id text NOT NULL,
      type text NOT NULL,
      day date NOT NULL,
      first_marked_at timestamptz NOT NULL DEFAULT now(),
      marked_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (patient_id, type, day)
    )`.execute(db);
  await sql`CREATE INDEX aggregation_dirty_first_marked ON aggregation_dirty (first_marked_at)`.execute(db);

  // Patients whose indicators must be recomputed although no reading arrived:
  // windows move with the clock (indicators.md: at least once an hour).
  await sql`
    CREATE TABLE indicators_dirty (
      patient_id text PRIMARY KEY,
      marked_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // indicators.md, "Daily rollups": count, min, max, mean, sample SD, first and last
  // reading time; blood pressure per component; the sum (for steps).
  for (const [table, bucket] of [
    ['rollups_daily', 'day date NOT NULL'],
    ['rollups_hourly', 'hour_start timestamptz NOT NULL'],
  ] as const) {
    await sql`
      CREATE TABLE ${sql.table(table)} (
        patient_id text NOT NULL,
        type text NOT NULL,
        component text NOT NULL,
        ${sql.raw(bucket)},
        count integer NOT NULL,
        min double precision NOT NULL,
        max double precision NOT NULL,
        mean double precision NOT NULL,
        sd double precision,
        sum double precision NOT NULL,
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        computed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (patient_id, type, component, ${sql.raw(bucket.split(' ')[0])})
      )`.execute(db);
  }

  await sql`
    CREATE TABLE patient_indicators (
      patient_id text NOT NULL REFERENCES patients (id),
      key text NOT NULL,
      value double precision,
      unit text NOT NULL,
      from_at timestamptz NOT NULL,
      to_at timestamptz NOT NULL,
      n integer NOT NULL,
      sufficient boolean NOT NULL,
      computed_at timestamptz NOT NULL,
      PRIMARY KEY (patient_id, key)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'patient_indicators',
    'rollups_hourly',
    'rollups_daily',
    'indicators_dirty',
    'aggregation_dirty',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
