import { type Kysely, sql } from 'kysely';

/**
 * Issue #15, items 2 and 5.
 *
 * 1. `GET /fhir/Observation/{id}` of a reading: the id is `r-` and the first 40 hex
 *    digits of sha256(device id, "\n", reading id) (src/fhir/observations.ts,
 *    opaqueId), which no stored column gives. `readings_fhir_id` indexes the first 8
 *    bytes of that digest (the read compares the whole id afterwards), so that a read
 *    is one index probe per monthly partition (the partition key, measured_at, is not
 *    in the id): never a scan of a patient's history. `decode(…, 'escape')` is the
 *    id's bytes (device and reading ids are [A-Za-z0-9._:-], never a backslash) and,
 *    unlike textsend or convert_to, immutable, as an index expression must be.
 *    Cost: one more index entry per stored reading (8 bytes of key, about 24 bytes of
 *    index tuple; measured with scripts/store-load.ts on a shared machine: database CPU
 *    per stored row 44–45 µs against 35–39 without it); on a loaded database the index is built on every partition inside
 *    the migration, blocking ingest meanwhile (minutes at 50M readings).
 * 2. `fhir_exports`: the bulk export jobs (FHIR Bulk Data kick-off, status, files;
 *    src/fhir/bulk-export.ts). A job holds what was asked (patients, types, since)
 *    and its transaction time; its files are generated when they are downloaded,
 *    from the store, so nothing else is stored. Jobs expire (`expires_at`) and are
 *    deleted by the next kick-off after that.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX readings_fhir_id ON readings
      (substring(sha256(decode(device_id || E'\\n' || reading_id, 'escape')), 1, 8))`.execute(db);
  await sql`
    CREATE TABLE fhir_exports (
      id uuid PRIMARY KEY,
      principal text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('patient', 'group')),
      subject_id text NOT NULL,
      patient_ids text[] NOT NULL,
      types text[] NOT NULL,
      since timestamptz,
      transaction_time timestamptz NOT NULL,
      request_url text NOT NULL,
      expires_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX fhir_exports_expiry ON fhir_exports (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE fhir_exports`.execute(db);
  await sql`DROP INDEX readings_fhir_id`.execute(db);
}
