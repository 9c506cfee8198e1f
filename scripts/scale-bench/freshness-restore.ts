/**
 * What the freshness phase changes in a kept database, and how it puts it back: the
 * fleet devices' secrets (their own are shown once at provisioning and not kept, so
 * the phase sets one it knows, then restores the stored hashes), the fleet patients'
 * alerts (new readings clear conditions of alerts opened by the history), the
 * readings it publishes, and its probe patients with everything they own.
 */
import { resolveKeyRing } from '../../src/actions/secret-keys.ts';
import { readSecretKeys } from '../../src/config.ts';
import { sql } from 'kysely';
import { generateDeviceSecret, hashDeviceSecret } from '../../src/domain/device-secret.ts';
import type { Db } from '../../src/store/database.ts';

/** Gives every device in `deviceIds` one new secret; `restore` puts the stored hashes back. */
export async function borrowDeviceSecrets(
  db: Db,
  deviceIds: readonly string[],
): Promise<{ secret: string; restore: () => Promise<void> }> {
  const { rows } = await sql<{ id: string; secret_hash: Buffer; secret_key_id: string }>`
    SELECT id, secret_hash, secret_key_id FROM devices WHERE id = ANY(${deviceIds}::text[])
  `.execute(db);
  if (rows.length !== deviceIds.length) throw new Error(`${deviceIds.length - rows.length} fleet devices are missing`);
  const secret = generateDeviceSecret();
  const { current } = await resolveKeyRing(db, readSecretKeys(process.env).keys);
  const hash = hashDeviceSecret(current, secret);
  await sql`UPDATE devices SET secret_hash = ${hash}, secret_key_id = ${current.id} WHERE id = ANY(${deviceIds}::text[])`.execute(
    db,
  );
  const restore = async () => {
    await sql`
      UPDATE devices d SET secret_hash = s.hash, secret_key_id = s.key_id
      FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.secret_hash)}::bytea[],
                  ${rows.map((r) => r.secret_key_id)}::text[]) AS s(id, hash, key_id)
      WHERE d.id = s.id
    `.execute(db);
  };
  return { secret, restore };
}

/**
 * The alerts of `patientIds` as they are now; `restore` deletes the alerts and
 * events added since and puts the mutable columns of the others back.
 */
export async function snapshotAlerts(db: Db, patientIds: readonly string[]): Promise<() => Promise<void>> {
  const { rows: max } = await sql<{ alert: string; event: string }>`
    SELECT (SELECT coalesce(max(id), 0) FROM alerts) AS alert, (SELECT coalesce(max(id), 0) FROM alert_events) AS event
  `.execute(db);
  const { alert: maxAlert, event: maxEvent } = max[0];
  const { rows } = await sql<Record<string, unknown>>`
    SELECT id, status, acknowledged_at, acknowledged_by, resolved_at, condition_cleared_at, occurred_at, reading_ids
    FROM alerts WHERE patient_id = ANY(${patientIds}::text[])
  `.execute(db);
  return async () => {
    await sql`
      DELETE FROM alert_events WHERE id > ${maxEvent}::int8
        AND alert_id IN (SELECT id FROM alerts WHERE patient_id = ANY(${patientIds}::text[]))
    `.execute(db);
    await sql`DELETE FROM alerts WHERE id > ${maxAlert}::int8 AND patient_id = ANY(${patientIds}::text[])`.execute(db);
    await sql`
      UPDATE alerts a SET status = s.status, acknowledged_at = s.acknowledged_at, acknowledged_by = s.acknowledged_by,
        resolved_at = s.resolved_at, condition_cleared_at = s.condition_cleared_at, occurred_at = s.occurred_at,
        reading_ids = s.reading_ids
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS s(id int8, status text, acknowledged_at timestamptz,
        acknowledged_by text, resolved_at timestamptz, condition_cleared_at timestamptz, occurred_at timestamptz,
        reading_ids text[])
      WHERE a.id = s.id
    `.execute(db);
  };
}

/**
 * Deletes the CGM readings of `patientIds` measured since `sinceMs` whose id starts
 * with `idPrefix` (readings and their keys; rejections of `deviceIds` received since),
 * and marks the days they were in dirty so that the aggregation job recomputes them as
 * they were. Returns how many readings went.
 */
export async function deletePublishedReadings(
  db: Db,
  patientIds: readonly string[],
  deviceIds: readonly string[],
  idPrefix: string,
  sinceMs: number,
): Promise<number> {
  await sql`
    DELETE FROM rejections WHERE device_id = ANY(${deviceIds}::text[]) AND received_at >= ${new Date(sinceMs)}
  `.execute(db);
  const { rows } = await sql<{ n: string }>`
    WITH gone AS (
      DELETE FROM readings
      WHERE patient_id = ANY(${patientIds}::text[]) AND type = 'cgm_glucose'
        AND measured_at >= ${new Date(sinceMs)} AND starts_with(reading_id, ${idPrefix})
      RETURNING patient_id, device_id, reading_id, type, measured_at
    ),
    keys AS (
      DELETE FROM reading_keys k USING gone g WHERE k.device_id = g.device_id AND k.reading_id = g.reading_id
    ),
    marks AS (
      INSERT INTO aggregation_dirty (patient_id, type, day)
      SELECT DISTINCT g.patient_id, g.type, (g.measured_at AT TIME ZONE p.time_zone)::date
      FROM gone g JOIN patients p ON p.id = g.patient_id
      ON CONFLICT (patient_id, type, day) DO UPDATE SET marked_at = now(), version = aggregation_dirty.version + 1
    )
    SELECT count(*) AS n FROM gone
  `.execute(db);
  return Number(rows[0].n);
}

/**
 * Deletes patients and their devices with every row that names them: readings,
 * rollups, partials, indicators, marks, alerts and their events, keys, rejections,
 * assignments. The tables are found by their `patient_id` column. The audit trail is
 * append-only (README, "Audit") and is not one of them: what was read stays recorded.
 */
export async function deletePatients(
  db: Db,
  patientIds: readonly string[],
  deviceIds: readonly string[],
): Promise<void> {
  const { rows: tables } = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attname = 'patient_id' AND NOT a.attisdropped AND n.nspname = current_schema()
      AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'audit_log'
  `.execute(db);
  await sql`
    DELETE FROM alert_events WHERE alert_id IN (SELECT id FROM alerts WHERE patient_id = ANY(${patientIds}::text[]))
  `.execute(db);
  for (const { name } of tables) {
    await sql`DELETE FROM ${sql.table(name)} WHERE patient_id = ANY(${patientIds}::text[])`.execute(db);
  }
  for (const table of ['reading_keys', 'rejections']) {
    await sql`DELETE FROM ${sql.table(table)} WHERE device_id = ANY(${deviceIds}::text[])`.execute(db);
  }
  await sql`DELETE FROM devices WHERE id = ANY(${deviceIds}::text[])`.execute(db);
  await sql`DELETE FROM patients WHERE id = ANY(${patientIds}::text[])`.execute(db);
}
