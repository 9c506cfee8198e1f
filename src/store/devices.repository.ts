import { sql } from 'kysely';
import { notifyCredentialChange } from './credential-events.ts';
import type { Db } from './database.ts';
import type { DeviceTransport } from '../domain/device-transports.ts';

export interface DeviceRow {
  id: string;
  model: string | null;
  enabled: boolean;
  createdAt: Date;
}

/** The key kept in the database by installations from before VITALINK_SECRET_KEY; null once forgotten. */
export async function loadDatabaseKey(db: Db): Promise<Buffer | null> {
  const row = await db.selectFrom('installation').select('secret_key').where('id', '=', 1).executeTakeFirst();
  return row?.secret_key ?? null;
}

/** `vitalink keys forget-database-key`: removes the key from the database; false when it was already gone. */
export async function forgetDatabaseKey(db: Db): Promise<boolean> {
  const result = await db
    .updateTable('installation')
    .set({ secret_key: null })
    .where('id', '=', 1)
    .where('secret_key', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** What CONNECT checks (src/broker/authenticate.ts): the secret, a previous one in its grace period, the state. */
export interface DeviceCredentials {
  secretHash: Buffer;
  /** The key the hash was made under (src/domain/secret-keys.ts). */
  secretKeyId: string;
  enabled: boolean;
  /** The secret before the last rotation, while its grace period lasts (else null). */
  previousSecretHash: Buffer | null;
  previousSecretKeyId: string | null;
  previousSecretExpiresAt: Date | null;
}

export async function findDeviceCredentials(db: Db, id: string): Promise<DeviceCredentials | undefined> {
  const [row] = await deviceCredentials(db, [id]);
  return row;
}

/**
 * The credentials of several devices at once (the broker's re-check of its live
 * sessions). The grace period is judged by the database's clock, as it was set.
 */
export async function findDevicesCredentials(db: Db, ids: readonly string[]): Promise<Map<string, DeviceCredentials>> {
  const rows = await deviceCredentials(db, ids);
  return new Map(rows.map((r) => [r.id, r]));
}

async function deviceCredentials(db: Db, ids: readonly string[]): Promise<(DeviceCredentials & { id: string })[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<{
    id: string;
    secret_hash: Buffer;
    secret_key_id: string;
    enabled: boolean;
    previous_secret_hash: Buffer | null;
    previous_secret_key_id: string | null;
    previous_secret_expires_at: Date | null;
  }>`
    SELECT id, secret_hash, secret_key_id, enabled,
           CASE WHEN previous_secret_expires_at > now() THEN previous_secret_hash END AS previous_secret_hash,
           CASE WHEN previous_secret_expires_at > now() THEN previous_secret_key_id END AS previous_secret_key_id,
           CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END AS previous_secret_expires_at
    FROM devices WHERE id = ANY(${ids as string[]}::text[])
  `.execute(db);
  return rows.map((row) => ({
    id: row.id,
    secretHash: row.secret_hash,
    secretKeyId: row.secret_key_id,
    enabled: row.enabled,
    previousSecretHash: row.previous_secret_hash,
    previousSecretKeyId: row.previous_secret_key_id,
    previousSecretExpiresAt: row.previous_secret_expires_at,
  }));
}

export async function insertDevice(
  db: Db,
  device: { id: string; secretHash: Buffer; secretKeyId: string; model: string | null },
): Promise<DeviceRow> {
  const row = await db
    .insertInto('devices')
    .values({
      id: device.id,
      secret_hash: device.secretHash,
      secret_key_id: device.secretKeyId,
      model: device.model,
    })
    .returning(['id', 'model', 'enabled', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, model: row.model, enabled: row.enabled, createdAt: row.created_at };
}

export async function findDevice(db: Db, id: string): Promise<DeviceRow | undefined> {
  const row = await db
    .selectFrom('devices')
    .select(['id', 'model', 'enabled', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { id: row.id, model: row.model, enabled: row.enabled, createdAt: row.created_at } : undefined;
}

/**
 * Disables a device: no CONNECT from then on, and no reading of it stored after
 * this commits. The SHARE lock on `readings` and `rejections` waits for the
 * batches being written (their statements hold ROW EXCLUSIVE until they commit)
 * and holds new ones until this commits; those then take their snapshot and see
 * the device disabled (src/store/readings.repository.ts). Ingestion pauses for
 * that long: the batches in flight plus this transaction, milliseconds; at most
 * `lockTimeoutMs`, after which this fails and nothing changed.
 * Returns false when there is no such device.
 */
export async function disableDevice(db: Db, id: string, lockTimeoutMs: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('lock_timeout', ${String(lockTimeoutMs)}, true)`.execute(trx);
    const row = await trx
      .updateTable('devices')
      .set({ enabled: false, disabled_at: sql`CASE WHEN enabled THEN now() ELSE disabled_at END` })
      .where('id', '=', id)
      .returning('id')
      .executeTakeFirst();
    if (!row) return false;
    // LOCK TABLE ONLY readings, ONLY rejections IN SHARE MODE, as their owner: the service's
    // role may not lock them so (README, "Security", "Database roles").
    await sql`SELECT vitalink_hold_ingest()`.execute(trx);
    await notifyCredentialChange(trx, { device: id });
    return true;
  });
}

/** Enables a device again; returns false when there is no such device. */
export async function enableDevice(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('devices')
    .set({ enabled: true, disabled_at: null })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Replaces a device's secret hash. With a grace period, the previous hash stays
 * valid until then; without, it is forgotten at once. Live sessions are told
 * (NOTIFY) and re-checked. Returns the end of the grace period (null: none), or
 * undefined when there is no such device.
 */
export async function rotateDeviceSecret(
  db: Db,
  id: string,
  secret: { hash: Buffer; keyId: string },
  graceSeconds: number,
): Promise<{ graceUntil: Date | null } | undefined> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ grace_until: Date | null }>`
      UPDATE devices SET
        secret_hash = ${secret.hash},
        secret_key_id = ${secret.keyId},
        secret_rotated_at = now(),
        previous_secret_hash = CASE WHEN ${graceSeconds}::int > 0 THEN secret_hash END,
        previous_secret_key_id = CASE WHEN ${graceSeconds}::int > 0 THEN secret_key_id END,
        previous_secret_expires_at = CASE WHEN ${graceSeconds}::int > 0
                                          THEN now() + ${graceSeconds}::int * interval '1 second' END
      WHERE id = ${id}
      RETURNING previous_secret_expires_at AS grace_until
    `.execute(trx);
    if (rows.length === 0) return undefined;
    await notifyCredentialChange(trx, { device: id });
    return { graceUntil: rows[0].grace_until };
  });
}

/**
 * Stores a device's secret hash again under the current key (after a CONNECT
 * verified it under a previous one): the current secret (`slot` 'current') or the
 * previous one in its grace period. Only while the stored hash is still `from`, so
 * that a rotation in between is never undone. No notification: the secret is the
 * same, live sessions stay. Returns whether a row changed.
 */
export async function rehashDeviceSecret(
  db: Db,
  id: string,
  slot: 'current' | 'previous',
  from: Buffer,
  to: { hash: Buffer; keyId: string },
): Promise<boolean> {
  const result =
    slot === 'current'
      ? await db
          .updateTable('devices')
          .set({ secret_hash: to.hash, secret_key_id: to.keyId })
          .where('id', '=', id)
          .where('secret_hash', '=', from)
          .executeTakeFirst()
      : await db
          .updateTable('devices')
          .set({ previous_secret_hash: to.hash, previous_secret_key_id: to.keyId })
          .where('id', '=', id)
          .where('previous_secret_hash', '=', from)
          .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A device as `devices list` and `devices show` give it. */
export interface DeviceState {
  id: string;
  model: string | null;
  enabled: boolean;
  createdAt: Date;
  disabledAt: Date | null;
  secretRotatedAt: Date | null;
  /** End of the previous secret's grace period, while it lasts. */
  previousSecretValidUntil: Date | null;
  /** The patient of the assignment that holds now, if any. */
  patientId: string | null;
  lastSeenAt: Date | null;
  /** How the device reached the service at lastSeenAt (null: not recorded). */
  lastTransport: DeviceTransport | null;
  lastReadingAt: Date | null;
  lastRejection: { at: Date; reason: string } | null;
}

export interface DeviceFilter {
  enabled?: boolean;
  /** Devices assigned to this patient now. */
  patientId?: string;
  /** Keyset pagination: devices whose id sorts after this one. */
  afterId?: string;
  limit: number;
}

/**
 * One page of devices in id order, each with its state. Cheap at any size: per
 * device on the page, one probe of the assignments index, one of device_activity
 * (kept up to date by the broker, not per reading) and one backward probe of
 * rejections_device_received; nothing scans readings or rejections.
 */
export async function listDeviceStates(db: Db, filter: DeviceFilter): Promise<DeviceState[]> {
  const conditions = [sql`true`];
  if (filter.afterId !== undefined) conditions.push(sql`d.id > ${filter.afterId}`);
  if (filter.enabled !== undefined) conditions.push(sql`d.enabled = ${filter.enabled}`);
  if (filter.patientId !== undefined) {
    conditions.push(sql`d.id IN (
      SELECT da.device_id FROM device_assignments da
      WHERE da.patient_id = ${filter.patientId} AND da.valid_from <= now() AND (da.valid_to IS NULL OR now() < da.valid_to))`);
  }
  return deviceStates(db, sql.join(conditions, sql` AND `), filter.limit);
}

export async function findDeviceState(db: Db, id: string): Promise<DeviceState | undefined> {
  const [row] = await deviceStates(db, sql`d.id = ${id}`, 1);
  return row;
}

async function deviceStates(db: Db, where: ReturnType<typeof sql>, limit: number): Promise<DeviceState[]> {
  const { rows } = await sql<{
    id: string;
    model: string | null;
    enabled: boolean;
    created_at: Date;
    disabled_at: Date | null;
    secret_rotated_at: Date | null;
    grace_until: Date | null;
    patient_id: string | null;
    last_seen_at: Date | null;
    last_transport: DeviceTransport | null;
    last_reading_at: Date | null;
    rejection_reason: string | null;
    rejection_at: Date | null;
  }>`
    SELECT d.id, d.model, d.enabled, d.created_at, d.disabled_at, d.secret_rotated_at,
           CASE WHEN d.previous_secret_expires_at > now() THEN d.previous_secret_expires_at END AS grace_until,
           a.patient_id, act.last_seen_at, act.last_transport, act.last_reading_at,
           rj.reason AS rejection_reason, rj.received_at AS rejection_at
    FROM devices d
    LEFT JOIN LATERAL (
      SELECT da.patient_id FROM device_assignments da
      WHERE da.device_id = d.id AND da.valid_from <= now() AND (da.valid_to IS NULL OR now() < da.valid_to)
      ORDER BY da.valid_from DESC LIMIT 1
    ) a ON true
    -- LIMIT 1 keeps it a probe per device (a plain join was planned as a merge from the first device on).
    LEFT JOIN LATERAL (
      SELECT da.last_seen_at, da.last_transport, da.last_reading_at FROM device_activity da WHERE da.device_id = d.id LIMIT 1
    ) act ON true
    LEFT JOIN LATERAL (
      SELECT r.reason, r.received_at FROM rejections r
      WHERE r.device_id = d.id ORDER BY r.received_at DESC LIMIT 1
    ) rj ON true
    WHERE ${where}
    ORDER BY d.id
    LIMIT ${limit}
  `.execute(db);
  return rows.map((r) => ({
    id: r.id,
    model: r.model,
    enabled: r.enabled,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    secretRotatedAt: r.secret_rotated_at,
    previousSecretValidUntil: r.grace_until,
    patientId: r.patient_id,
    lastSeenAt: r.last_seen_at,
    lastTransport: r.last_transport,
    lastReadingAt: r.last_reading_at,
    lastRejection: r.rejection_at && r.rejection_reason ? { at: r.rejection_at, reason: r.rejection_reason } : null,
  }));
}

/** What the broker saw of a device since its last flush (epoch ms; 0: nothing). */
export interface DeviceActivity {
  deviceId: string;
  lastSeenAt: number;
  /** The transport of lastSeenAt (null: only a stored reading was noted). */
  lastTransport: DeviceTransport | null;
  lastReadingAt: number;
}

/** One statement for every device with news: times only move forward. */
export async function recordDeviceActivity(db: Db, rows: readonly DeviceActivity[]): Promise<void> {
  if (rows.length === 0) return;
  const at = (ms: number) => (ms > 0 ? ms : null);
  await sql`
    INSERT INTO device_activity (device_id, last_seen_at, last_reading_at, last_transport)
    SELECT t.device_id,
           timestamptz 'epoch' + t.seen_ms * interval '1 millisecond',
           timestamptz 'epoch' + t.reading_ms * interval '1 millisecond',
           t.transport
    FROM unnest(${rows.map((r) => r.deviceId)}::text[], ${rows.map((r) => at(r.lastSeenAt))}::int8[],
                ${rows.map((r) => at(r.lastReadingAt))}::int8[],
                ${rows.map((r) => r.lastTransport)}::text[]) AS t(device_id, seen_ms, reading_ms, transport)
    JOIN devices d ON d.id = t.device_id
    ORDER BY t.device_id
    ON CONFLICT (device_id) DO UPDATE SET
      last_seen_at = GREATEST(device_activity.last_seen_at, EXCLUDED.last_seen_at),
      last_reading_at = GREATEST(device_activity.last_reading_at, EXCLUDED.last_reading_at),
      -- The transport goes with the latest contact, whichever instance saw it.
      last_transport = CASE
        WHEN EXCLUDED.last_transport IS NOT NULL
         AND (device_activity.last_seen_at IS NULL OR EXCLUDED.last_seen_at >= device_activity.last_seen_at)
        THEN EXCLUDED.last_transport ELSE device_activity.last_transport END
  `.execute(db);
}
