import { sql } from 'kysely';
import type { Db } from './database.ts';

/** How many credentials are stored under one key (README, "Rotating the key"). */
export interface KeyCensusRow {
  keyId: string;
  /** Device secrets (the current secret of each device). */
  devices: number;
  /** Of those, devices never seen connected. */
  devicesNeverSeen: number;
  /** Previous device secrets still in their grace period. */
  graceSecrets: number;
  /** Active API tokens (neither revoked nor expired: the others never work again anyway). */
  tokens: number;
  /** Of those, tokens never used. */
  tokensNeverUsed: number;
  /** Active device tokens (README, "Device tokens"). */
  deviceTokens: number;
}

/** Credentials per key id: one pass over devices, api_tokens and device_tokens (an admin command, not a hot path). */
export async function keyCensus(db: Db): Promise<KeyCensusRow[]> {
  const { rows } = await sql<{
    kind: 'device' | 'grace' | 'token' | 'device_token';
    key_id: string;
    n: string;
    never: string;
  }>`
    SELECT 'device' AS kind, d.secret_key_id AS key_id, count(*) AS n,
           count(*) FILTER (WHERE a.last_seen_at IS NULL) AS never
    FROM devices d LEFT JOIN device_activity a ON a.device_id = d.id
    GROUP BY d.secret_key_id
    UNION ALL
    SELECT 'grace', previous_secret_key_id, count(*), 0
    FROM devices WHERE previous_secret_expires_at > now() AND previous_secret_key_id IS NOT NULL
    GROUP BY previous_secret_key_id
    UNION ALL
    SELECT 'token', secret_key_id, count(*), count(*) FILTER (WHERE last_used_at IS NULL)
    FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    GROUP BY secret_key_id
    UNION ALL
    SELECT 'device_token', secret_key_id, count(*), 0
    FROM device_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    GROUP BY secret_key_id
  `.execute(db);
  const byKey = new Map<string, KeyCensusRow>();
  for (const r of rows) {
    const row = byKey.get(r.key_id) ?? {
      keyId: r.key_id,
      devices: 0,
      devicesNeverSeen: 0,
      graceSecrets: 0,
      tokens: 0,
      tokensNeverUsed: 0,
      deviceTokens: 0,
    };
    if (r.kind === 'device') {
      row.devices = Number(r.n);
      row.devicesNeverSeen = Number(r.never);
    } else if (r.kind === 'grace') {
      row.graceSecrets = Number(r.n);
    } else if (r.kind === 'device_token') {
      row.deviceTokens = Number(r.n);
    } else {
      row.tokens = Number(r.n);
      row.tokensNeverUsed = Number(r.never);
    }
    byKey.set(r.key_id, row);
  }
  return [...byKey.values()].sort((a, b) => a.keyId.localeCompare(b.keyId));
}

/** The devices and active tokens with a credential under one of `keyIds`, at most `limit` of each, by id. */
export async function credentialsUnder(
  db: Db,
  keyIds: readonly string[],
  limit: number,
): Promise<{ deviceIds: string[]; tokenIds: string[] }> {
  if (keyIds.length === 0) return { deviceIds: [], tokenIds: [] };
  const ids = keyIds as string[];
  const devices = await sql<{ id: string }>`
    SELECT id FROM devices
    WHERE secret_key_id = ANY(${ids}::text[])
       OR (previous_secret_key_id = ANY(${ids}::text[]) AND previous_secret_expires_at > now())
    ORDER BY id LIMIT ${limit}
  `.execute(db);
  const tokens = await sql<{ id: string }>`
    SELECT id FROM api_tokens
    WHERE secret_key_id = ANY(${ids}::text[]) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    ORDER BY id LIMIT ${limit}
  `.execute(db);
  return { deviceIds: devices.rows.map((r) => r.id), tokenIds: tokens.rows.map((r) => r.id) };
}
