import { sql } from 'kysely';
import type { Db } from './database.ts';

/** A device token found by the HMAC of its text, whatever its state, with its device's state. */
export interface StoredDeviceToken {
  id: string;
  deviceId: string;
  /** The hash found, and the key it names (src/domain/secret-keys.ts). */
  tokenHash: Buffer;
  secretKeyId: string;
  revoked: boolean;
  /** Expired by the database's clock. */
  expired: boolean;
  /** The device's state: a disabled device's tokens are refused. */
  deviceEnabled: boolean;
}

/** A device token as `devices token list` shows it: never its text or hash. */
export interface ListedDeviceToken {
  id: string;
  deviceId: string;
  label: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Stores a token's hash (never the token); returns its id. */
export async function insertDeviceToken(
  db: Db,
  token: { deviceId: string; tokenHash: Buffer; secretKeyId: string; label: string | null; expiresAt: Date | null },
): Promise<string> {
  const row = await db
    .insertInto('device_tokens')
    .values({
      device_id: token.deviceId,
      token_hash: token.tokenHash,
      secret_key_id: token.secretKeyId,
      label: token.label,
      expires_at: token.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Read on every device request that carries a device token: probes of the
 * token_hash index, one per key in use, and the device's primary key. No cache: a
 * revocation, an expiry or a disable holds on the next request, on every instance.
 */
export async function findDeviceToken(db: Db, tokenHashes: readonly Buffer[]): Promise<StoredDeviceToken | undefined> {
  const { rows } = await sql<{
    id: string;
    device_id: string;
    token_hash: Buffer;
    secret_key_id: string;
    revoked: boolean;
    expired: boolean;
    enabled: boolean;
  }>`
    SELECT t.id, t.device_id, t.token_hash, t.secret_key_id, t.revoked_at IS NOT NULL AS revoked,
           coalesce(t.expires_at <= now(), false) AS expired, d.enabled
    FROM device_tokens t JOIN devices d ON d.id = t.device_id
    WHERE t.token_hash = ANY(${tokenHashes as Buffer[]}::bytea[])
    LIMIT 1
  `.execute(db);
  const row = rows[0];
  return row
    ? {
        id: row.id,
        deviceId: row.device_id,
        tokenHash: row.token_hash,
        secretKeyId: row.secret_key_id,
        revoked: row.revoked,
        expired: row.expired,
        deviceEnabled: row.enabled,
      }
    : undefined;
}

const LISTED_COLUMNS = ['id', 'device_id', 'label', 'created_at', 'expires_at', 'last_used_at', 'revoked_at'] as const;

type ListedRow = {
  id: string;
  device_id: string;
  label: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const listed = (r: ListedRow): ListedDeviceToken => ({
  id: r.id,
  deviceId: r.device_id,
  label: r.label,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/** A device's tokens by id (the device_tokens_device index). */
export async function listDeviceTokens(db: Db, deviceId: string): Promise<ListedDeviceToken[]> {
  const rows = await db
    .selectFrom('device_tokens')
    .select(LISTED_COLUMNS)
    .where('device_id', '=', deviceId)
    .orderBy('id')
    .execute();
  return rows.map(listed);
}

export async function findListedDeviceToken(db: Db, id: string): Promise<ListedDeviceToken | undefined> {
  const row = await db.selectFrom('device_tokens').select(LISTED_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && listed(row);
}

/** Revokes a token of `deviceId` (once: the first revocation time is kept); false when there is none. */
export async function revokeDeviceToken(db: Db, deviceId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('device_tokens')
    .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
