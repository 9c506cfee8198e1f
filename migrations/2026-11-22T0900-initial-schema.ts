import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';

/**
 * Patients, devices, assignments, readings (partitioned by month of measured time),
 * the idempotency keys of readings, and rejections.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Exclusion constraint on (device =, interval &&) needs btree_gist for the text equality.
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gist`.execute(db);

  // One row: the key of the keyed hash of device secrets (architecture.md, "Security facts").
  await sql`
    CREATE TABLE installation (
      id int PRIMARY KEY CHECK (id = 1),
      secret_key bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`INSERT INTO installation (id, secret_key) VALUES (1, ${randomBytes(32)})`.execute(db);

  await sql`
    CREATE TABLE patients (
      id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
      display_name text,
      time_zone text NOT NULL DEFAULT 'Europe/Paris',
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE devices (
      id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
      secret_hash bytea NOT NULL,
      model text,
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  // device-protocol.md, "Patients": assignments never overlap for one device.
  await sql`
    CREATE TABLE device_assignments (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_id text NOT NULL REFERENCES devices (id),
      patient_id text NOT NULL REFERENCES patients (id),
      valid_from timestamptz NOT NULL,
      valid_to timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT device_assignments_interval CHECK (valid_to IS NULL OR valid_to > valid_from),
      CONSTRAINT device_assignments_no_overlap
        EXCLUDE USING gist (device_id WITH =, tstzrange(valid_from, valid_to, '[)') WITH &&)
    )`.execute(db);
  await sql`CREATE INDEX device_assignments_device_from ON device_assignments (device_id, valid_from)`.execute(db);
  await sql`CREATE INDEX device_assignments_patient ON device_assignments (patient_id)`.execute(db);

  // Unique per device and reading id, across all partitions of readings: PostgreSQL
  // cannot enforce a unique key that omits the partition key, so this table does.
  await sql`
    CREATE TABLE reading_keys (
      device_id text NOT NULL,
      reading_id text NOT NULL,
      content_hash text NOT NULL,
      measured_at timestamptz NOT NULL,
      PRIMARY KEY (device_id, reading_id)
    )`.execute(db);

  // Partitions by month of measured_at are created ahead of time by the service
  // (src/store/partitions.ts); retention is a DROP TABLE of an old month.
  await sql`
    CREATE TABLE readings (
      patient_id text NOT NULL,
      device_id text NOT NULL,
      reading_id text NOT NULL,
      type text NOT NULL,
      loinc text NOT NULL,
      unit text NOT NULL,
      value double precision,
      systolic double precision,
      diastolic double precision,
      pulse double precision,
      sent_unit text NOT NULL,
      sent_value double precision,
      sent_systolic double precision,
      sent_diastolic double precision,
      context text,
      measured_at timestamptz NOT NULL,
      received_at timestamptz NOT NULL
    ) PARTITION BY RANGE (measured_at)`.execute(db);
  await sql`CREATE INDEX readings_patient_type_time ON readings (patient_id, type, measured_at)`.execute(db);
  await sql`CREATE INDEX readings_device_reading ON readings (device_id, reading_id)`.execute(db);

  await sql`
    CREATE TABLE rejections (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_id text NOT NULL,
      reading_id text,
      reason text NOT NULL,
      detail text NOT NULL,
      raw bytea NOT NULL,
      fingerprint text NOT NULL,
      received_at timestamptz NOT NULL,
      reprocessed_at timestamptz,
      outcome text
    )`.execute(db);
  // A device that resends a message it got no PUBACK for is recorded once.
  await sql`
    CREATE UNIQUE INDEX rejections_open_fingerprint ON rejections (device_id, fingerprint)
    WHERE outcome IS NULL`.execute(db);
  await sql`CREATE INDEX rejections_received ON rejections (received_at)`.execute(db);
  await sql`CREATE INDEX rejections_device_received ON rejections (device_id, received_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'rejections',
    'readings',
    'reading_keys',
    'device_assignments',
    'devices',
    'patients',
    'installation',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)} CASCADE`.execute(db);
  }
}
