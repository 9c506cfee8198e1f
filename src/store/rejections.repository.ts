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

/**
 * Records rejections in the caller's transaction; an open identical one is not
 * recorded twice. The rejections of a disabled device are not recorded: returns
 * the ids of those devices (their messages must not be acknowledged). Disabling
 * a device locks `rejections` too, as it does `readings` (see insertReadings).
 */
export async function insertRejections(db: Db, rows: readonly RejectionToStore[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const { rows: refused } = await sql<{ device_id: string }>`
    WITH t AS (
      SELECT * FROM unnest(${rows.map((r) => r.deviceId)}::text[], ${rows.map((r) => r.rejection.readingId)}::text[],
                ${rows.map((r) => r.rejection.reason)}::text[], ${rows.map((r) => r.rejection.detail)}::text[],
                ${rows.map((r) => r.rejection.raw.toString('base64'))}::text[],
                ${rows.map((r) => rejectionFingerprint(r.rejection))}::text[], ${rows.map((r) => r.receivedAt)}::int8[])
        AS t(device_id, reading_id, reason, detail, raw, fingerprint, received_ms)
    ),
    refused AS (
      SELECT DISTINCT t.device_id FROM t JOIN devices d ON d.id = t.device_id AND NOT d.enabled
    ),
    recorded AS (
      INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
      SELECT device_id, reading_id, reason, detail, decode(raw, 'base64'), fingerprint,
             timestamptz 'epoch' + received_ms * interval '1 millisecond'
      FROM t WHERE t.device_id NOT IN (SELECT device_id FROM refused)
      ON CONFLICT (device_id, fingerprint) WHERE outcome IS NULL DO NOTHING
      RETURNING 1
    )
    SELECT device_id FROM refused
  `.execute(db);
  return refused.map((r) => r.device_id);
}

/** A recorded rejection as operators list it. */
export interface ListedRejection {
  id: string;
  deviceId: string;
  readingId: string | null;
  reason: RejectionReason;
  detail: string;
  receivedAt: Date;
}

/** An open rejection with the payload reprocessing decodes again. */
export interface StoredRejection extends ListedRejection {
  raw: Buffer;
}

function listedRejection(r: {
  id: string;
  device_id: string;
  reading_id: string | null;
  reason: string;
  detail: string;
  received_at: Date;
}): ListedRejection {
  return {
    id: r.id,
    deviceId: r.device_id,
    readingId: r.reading_id,
    reason: r.reason as RejectionReason,
    detail: r.detail,
    receivedAt: r.received_at,
  };
}

/** Open (not yet reprocessed into a reading) rejections, oldest first. */
export async function listOpenRejections(
  db: Db,
  filter: { reason?: string; deviceId?: string; limit: number; afterId?: string },
): Promise<StoredRejection[]> {
  let q = db
    .selectFrom('rejections')
    .select(['id', 'device_id', 'reading_id', 'reason', 'detail', 'raw', 'received_at'])
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
    .select(['id', 'device_id', 'reading_id', 'reason', 'detail', 'received_at'])
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
