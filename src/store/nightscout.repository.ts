import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface NightscoutUploader {
  deviceId: string;
  patientId: string;
  secretHash: Buffer;
  secretKeyId: string;
  /** The device's state: a disabled device's uploads are refused. */
  enabled: boolean;
}

/** Makes (or replaces the secret of) the uploader of a device. */
export async function upsertUploader(
  db: Db,
  row: { deviceId: string; patientId: string; secretHash: Buffer; secretKeyId: string },
): Promise<void> {
  await db
    .insertInto('nightscout_uploaders')
    .values({
      device_id: row.deviceId,
      patient_id: row.patientId,
      secret_hash: row.secretHash,
      secret_key_id: row.secretKeyId,
    })
    .onConflict((oc) =>
      oc.column('device_id').doUpdateSet({
        patient_id: row.patientId,
        secret_hash: row.secretHash,
        secret_key_id: row.secretKeyId,
      }),
    )
    .execute();
}

/**
 * The uploader whose secret hashes to one of `hashes` (one per key of the ring).
 * Cost: probes of the unique index on secret_hash, whatever the number of uploaders.
 */
export async function findUploader(db: Db, hashes: readonly Buffer[]): Promise<NightscoutUploader | undefined> {
  const row = await db
    .selectFrom('nightscout_uploaders as u')
    .innerJoin('devices as d', 'd.id', 'u.device_id')
    .select(['u.device_id', 'u.patient_id', 'u.secret_hash', 'u.secret_key_id', 'd.enabled'])
    .where('u.secret_hash', 'in', hashes as Buffer[])
    .executeTakeFirst();
  return (
    row && {
      deviceId: row.device_id,
      patientId: row.patient_id,
      secretHash: row.secret_hash,
      secretKeyId: row.secret_key_id,
      enabled: row.enabled,
    }
  );
}

export interface GlucoseRow {
  deviceId: string;
  readingId: string;
  at: number;
  mgdl: number;
}

/**
 * A patient's CGM readings, newest first, at most `limit`, within [from, to].
 * Cost: a backward scan of readings_patient_type_time (patient, type, time) in
 * each monthly partition the range reaches, stopped after `limit` rows: bounded by
 * `limit` (at most 1001), not by the history's size.
 */
export async function recentGlucose(
  db: Db,
  patientId: string,
  range: { from?: number; to?: number; limit: number },
): Promise<GlucoseRow[]> {
  const bounds = [sql`true`];
  if (range.from !== undefined) bounds.push(sql`measured_at >= ${new Date(range.from)}`);
  if (range.to !== undefined) bounds.push(sql`measured_at <= ${new Date(range.to)}`);
  const { rows } = await sql<{ device_id: string; reading_id: string; at_ms: string; value: number }>`
    SELECT device_id, reading_id, (extract(epoch FROM measured_at) * 1000)::int8 AS at_ms, value
    FROM readings
    WHERE patient_id = ${patientId} AND type = 'cgm_glucose' AND ${sql.join(bounds, sql` AND `)}
    ORDER BY measured_at DESC
    LIMIT ${range.limit}
  `.execute(db);
  return rows.map((r) => ({ deviceId: r.device_id, readingId: r.reading_id, at: Number(r.at_ms), mgdl: r.value }));
}
