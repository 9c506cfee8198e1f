import { hash } from 'node:crypto';
import { sql } from 'kysely';
import type { Rejection } from '../domain/reading.ts';
import type { RejectionReason } from '../domain/rejection-reasons.ts';
import type { Db } from './database.ts';

export interface RejectionToStore {
  readonly deviceId: string;
  readonly receivedAt: number;
  readonly rejection: Rejection;
}

/** Same device, same reason, same bytes: a resend of a message that got no PUBACK. */
export function rejectionFingerprint(r: Rejection): string {
  return hash('sha1', Buffer.concat([Buffer.from(`${r.reason}\u0000${r.readingId ?? ''}\u0000`), r.raw]), 'base64');
}

/** What insertRejections did beyond recording. */
export interface RecordedRejections {
  /** Devices found disabled: none of their rejections was recorded (their messages must not be acknowledged). */
  readonly disabled: string[];
  /** Indexes (into the rows given) of rejections recorded without their raw bytes: over the device's quota. */
  readonly rawDropped: number[];
}

/**
 * Records rejections in the caller's transaction; an open identical one is not
 * recorded twice. The rejections of a disabled device are not recorded (see
 * RecordedRejections). Disabling a device locks `rejections` too, as it does
 * `readings` (see insertReadings).
 *
 * `rawBytesPerDeviceDay` (null: no quota) bounds the raw bytes kept per device
 * and UTC day (README, "Security", "Rejection storage quota"): the same statement
 * adds the raw sizes of the new rejections to the device's row of
 * rejection_raw_quota (reset when the day changes) and keeps the raw bytes of a
 * rejection only while the running total stays within the quota; beyond it the
 * rejection is recorded with its size and SHA-256 but `raw` NULL and
 * `raw_dropped` 'quota'. The upsert locks the device's counter row until commit,
 * so instances writing at once are counted one after the other; devices are
 * upserted in id order so that two batches cannot deadlock on them.
 */
export async function insertRejections(
  db: Db,
  rows: readonly RejectionToStore[],
  rawBytesPerDeviceDay: number | null = null,
): Promise<RecordedRejections> {
  if (rows.length === 0) return { disabled: [], rawDropped: [] };
  const fingerprints = rows.map((r) => rejectionFingerprint(r.rejection));
  const { rows: result } = await sql<{ kind: 'refused' | 'dropped'; device_id: string; fingerprint: string | null }>`
    WITH t AS (
      SELECT * FROM unnest(${rows.map((r) => r.deviceId)}::text[], ${rows.map((r) => r.rejection.readingId)}::text[],
                ${rows.map((r) => r.rejection.reason)}::text[], ${rows.map((r) => r.rejection.detail)}::text[],
                ${rows.map((r) => r.rejection.raw.toString('base64'))}::text[],
                ${rows.map((r) => r.rejection.raw.length)}::int4[],
                ${rows.map((r) => hash('sha256', r.rejection.raw, 'base64'))}::text[],
                ${fingerprints}::text[], ${rows.map((r) => r.receivedAt)}::int8[])
        WITH ORDINALITY AS t(device_id, reading_id, reason, detail, raw, raw_size, raw_sha256, fingerprint, received_ms, ord)
    ),
    refused AS (
      SELECT DISTINCT t.device_id FROM t JOIN devices d ON d.id = t.device_id AND NOT d.enabled
    ),
    fresh AS (
      SELECT DISTINCT ON (t.device_id, t.fingerprint) t.*,
             timestamptz 'epoch' + t.received_ms * interval '1 millisecond' AS received_at
      FROM t
      WHERE t.device_id NOT IN (SELECT device_id FROM refused)
        AND NOT EXISTS (SELECT 1 FROM rejections r
                        WHERE r.device_id = t.device_id AND r.fingerprint = t.fingerprint AND r.outcome IS NULL)
      ORDER BY t.device_id, t.fingerprint, t.ord
    ),
    charge AS (
      SELECT device_id, max((received_at AT TIME ZONE 'UTC')::date) AS day, sum(raw_size)::int8 AS bytes
      FROM fresh WHERE ${rawBytesPerDeviceDay}::int8 IS NOT NULL GROUP BY device_id
    ),
    counted AS (
      INSERT INTO rejection_raw_quota AS q (device_id, day, raw_bytes)
      SELECT device_id, day, bytes FROM charge ORDER BY device_id
      ON CONFLICT (device_id) DO UPDATE SET
        day = GREATEST(q.day, excluded.day),
        raw_bytes = CASE WHEN excluded.day > q.day THEN excluded.raw_bytes ELSE q.raw_bytes + excluded.raw_bytes END
      RETURNING device_id, raw_bytes
    ),
    decided AS (
      SELECT f.*,
             ${rawBytesPerDeviceDay}::int8 IS NULL
               OR c.raw_bytes - ch.bytes + sum(f.raw_size) OVER (PARTITION BY f.device_id ORDER BY f.ord)
                  <= ${rawBytesPerDeviceDay}::int8 AS kept
      FROM fresh f LEFT JOIN counted c USING (device_id) LEFT JOIN charge ch USING (device_id)
    ),
    recorded AS (
      INSERT INTO rejections (device_id, reading_id, reason, detail, raw, raw_size, raw_sha256, raw_dropped,
                              fingerprint, received_at)
      SELECT device_id, reading_id, reason, detail, CASE WHEN kept THEN decode(raw, 'base64') END, raw_size,
             decode(raw_sha256, 'base64'), CASE WHEN kept THEN NULL ELSE 'quota' END, fingerprint, received_at
      FROM decided
      ON CONFLICT (device_id, fingerprint) WHERE outcome IS NULL DO NOTHING
      RETURNING device_id, fingerprint, raw_dropped
    )
    SELECT 'refused' AS kind, device_id, NULL AS fingerprint FROM refused
    UNION ALL
    SELECT 'dropped', device_id, fingerprint FROM recorded WHERE raw_dropped IS NOT NULL
  `.execute(db);
  const disabled: string[] = [];
  const dropped = new Set<string>();
  for (const r of result) {
    if (r.kind === 'refused') disabled.push(r.device_id);
    else dropped.add(`${r.device_id}\u0000${r.fingerprint}`);
  }
  const rawDropped: number[] = [];
  if (dropped.size > 0) {
    for (let i = 0; i < rows.length; i++) {
      const key = `${rows[i].deviceId}\u0000${fingerprints[i]}`;
      // Identical rejections in one batch are recorded once: count the first.
      if (dropped.delete(key)) rawDropped.push(i);
    }
  }
  return { disabled, rawDropped };
}

/** Why a rejection's raw bytes were not kept: over the device's quota of the day. */
export type RawDropped = 'quota';

/** A recorded rejection as operators list it. */
export interface ListedRejection {
  id: string;
  deviceId: string;
  readingId: string | null;
  reason: RejectionReason;
  detail: string;
  receivedAt: Date;
  /** Size of the payload received (null: recorded before sizes were; its raw bytes are kept). */
  rawSize: number | null;
  /** SHA-256 of the payload received, base64 (null: recorded before hashes were). */
  rawSha256: string | null;
  /** Set when the raw bytes were not kept (and the rejection cannot be reprocessed). */
  rawDropped: RawDropped | null;
}

/** An open rejection with the payload reprocessing decodes again (null: not kept). */
export interface StoredRejection extends ListedRejection {
  raw: Buffer | null;
}

function listedRejection(r: {
  id: string;
  device_id: string;
  reading_id: string | null;
  reason: string;
  detail: string;
  received_at: Date;
  raw_size: number | null;
  raw_sha256: Buffer | null;
  raw_dropped: string | null;
}): ListedRejection {
  return {
    id: r.id,
    deviceId: r.device_id,
    readingId: r.reading_id,
    reason: r.reason as RejectionReason,
    detail: r.detail,
    receivedAt: r.received_at,
    rawSize: r.raw_size,
    rawSha256: r.raw_sha256?.toString('base64') ?? null,
    rawDropped: r.raw_dropped as RawDropped | null,
  };
}

/** Open (not yet reprocessed into a reading) rejections, oldest first. */
export async function listOpenRejections(
  db: Db,
  filter: { reason?: string; deviceId?: string; limit: number; afterId?: string },
): Promise<StoredRejection[]> {
  let q = db
    .selectFrom('rejections')
    .select([
      'id',
      'device_id',
      'reading_id',
      'reason',
      'detail',
      'raw',
      'raw_size',
      'raw_sha256',
      'raw_dropped',
      'received_at',
    ])
    .where('outcome', 'is', null)
    .orderBy('id')
    .limit(filter.limit);
  if (filter.reason) q = q.where('reason', '=', filter.reason);
  if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
  if (filter.afterId) q = q.where('id', '>', filter.afterId);
  const rows = await q.execute();
  return rows.map((r) => ({ ...listedRejection(r), raw: r.raw }));
}

/** Rejections, newest first, optionally of one device or reason and older than `beforeId`; up to `limit`. */
export async function listRejections(
  db: Db,
  filter: { deviceId?: string; reason?: RejectionReason; beforeId?: string; limit: number },
): Promise<ListedRejection[]> {
  let q = db
    .selectFrom('rejections')
    .select([
      'id',
      'device_id',
      'reading_id',
      'reason',
      'detail',
      'raw_size',
      'raw_sha256',
      'raw_dropped',
      'received_at',
    ])
    .orderBy('id', 'desc')
    .limit(filter.limit);
  if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
  if (filter.reason) q = q.where('reason', '=', filter.reason);
  if (filter.beforeId !== undefined) q = q.where('id', '<', filter.beforeId);
  const rows = await q.execute();
  return rows.map(listedRejection);
}

/** Closes a rejection that reprocessing turned into a reading (or found to be a duplicate). */
export async function closeRejection(db: Db, id: string, outcome: string, now: Date): Promise<void> {
  await db.updateTable('rejections').set({ outcome, reprocessed_at: now }).where('id', '=', id).execute();
}

/** Notes a rejection that reprocessing rejected again, possibly for another reason. */
export async function updateOpenRejection(
  db: Db,
  id: string,
  change: { reason: RejectionReason; detail: string },
  now: Date,
): Promise<void> {
  await db
    .updateTable('rejections')
    .set({ reason: change.reason, detail: change.detail, reprocessed_at: now })
    .where('id', '=', id)
    .execute();
}

/**
 * How many rejections of these devices are recorded (`vitalink simulate`'s check).
 * Cost: a range of rejections_device_received (device_id, received_at) per device:
 * the devices' own rejections only.
 */
export async function countRejectionsOfDevices(db: Db, deviceIds: readonly string[]): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM rejections WHERE device_id = ANY(${[...deviceIds]}::text[])
  `.execute(db);
  return Number(rows[0]?.n ?? 0);
}
