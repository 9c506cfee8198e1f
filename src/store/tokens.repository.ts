import { sql } from 'kysely';
import type { Db } from './database.ts';

export type TokenRole = 'admin' | 'operator' | 'clinician';

/** An API token found by the HMAC of its text, whatever its state. */
export interface StoredToken {
  id: string;
  /** The hash found, and the key it names (src/domain/secret-keys.ts). */
  tokenHash: Buffer;
  secretKeyId: string;
  role: TokenRole;
  /** Clinician tokens: the patients they may read. */
  patientIds: string[] | null;
  /** Clinician tokens acting as a practitioner (README, "Care teams"). */
  practitionerId: string | null;
  revoked: boolean;
  /** Expired by the database's clock. */
  expired: boolean;
}

/** A token as `tokens list` shows it: never its text or hash. */
export interface ListedToken {
  id: string;
  role: TokenRole;
  label: string | null;
  patientIds: string[] | null;
  practitionerId: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Stores a token's hash (never the token); returns its id. */
export async function insertApiToken(
  db: Db,
  token: {
    tokenHash: Buffer;
    secretKeyId: string;
    role: TokenRole;
    patientIds: string[] | null;
    practitionerId?: string | null;
    label: string | null;
    expiresAt: Date | null;
  },
): Promise<string> {
  const row = await db
    .insertInto('api_tokens')
    .values({
      token_hash: token.tokenHash,
      secret_key_id: token.secretKeyId,
      role: token.role,
      patient_ids: token.patientIds,
      practitioner_id: token.practitionerId ?? null,
      label: token.label,
      expires_at: token.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Read on every API request: probes of the token_hash index, one per key in use
 * (the token's HMAC under each), no cache (a revocation holds at once).
 */
export async function findToken(db: Db, tokenHashes: readonly Buffer[]): Promise<StoredToken | undefined> {
  const { rows } = await sql<{
    id: string;
    token_hash: Buffer;
    secret_key_id: string;
    role: TokenRole;
    patient_ids: string[] | null;
    practitioner_id: string | null;
    revoked: boolean;
    expired: boolean;
  }>`
    SELECT id, token_hash, secret_key_id, role, patient_ids, practitioner_id, revoked_at IS NOT NULL AS revoked,
           coalesce(expires_at <= now(), false) AS expired
    FROM api_tokens WHERE token_hash = ANY(${tokenHashes as Buffer[]}::bytea[])
    LIMIT 1
  `.execute(db);
  const row = rows[0];
  return row
    ? {
        id: row.id,
        tokenHash: row.token_hash,
        secretKeyId: row.secret_key_id,
        role: row.role,
        patientIds: row.patient_ids,
        practitionerId: row.practitioner_id,
        revoked: row.revoked,
        expired: row.expired,
      }
    : undefined;
}

/** The tables of bearer tokens stored as an HMAC under a key: API tokens and device tokens. */
export type HashedTokenTable = 'api_tokens' | 'device_tokens';

/** Stores a token's hash again under the current key, only while it is still `from`; false when nothing changed. */
export async function rehashToken(
  db: Db,
  table: HashedTokenTable,
  id: string,
  from: Buffer,
  to: { hash: Buffer; keyId: string },
): Promise<boolean> {
  const result = await sql`
    UPDATE ${sql.table(table)} SET token_hash = ${to.hash}, secret_key_id = ${to.keyId}
    WHERE id = ${id} AND token_hash = ${from}
  `.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Notes a use of a token, unless one was noted less than a minute ago (by any instance). */
export async function touchToken(db: Db, table: HashedTokenTable, id: string): Promise<void> {
  await sql`
    UPDATE ${sql.table(table)} SET last_used_at = now()
    WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
  `.execute(db);
}

/** What a token list or show says of a token (never its hash). */
const LISTED_COLUMNS = [
  'id',
  'role',
  'label',
  'patient_ids',
  'practitioner_id',
  'created_at',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

/** Tokens by id, `limit` of them after `afterId` (keyset: the primary key's index). */
export async function listApiTokens(db: Db, page: { afterId?: string; limit: number }): Promise<ListedToken[]> {
  let query = db.selectFrom('api_tokens').select(LISTED_COLUMNS).orderBy('id').limit(page.limit);
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
  const rows = await query.execute();
  return rows.map(listed);
}

export async function findApiToken(db: Db, id: string): Promise<ListedToken | undefined> {
  const row = await db.selectFrom('api_tokens').select(LISTED_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? listed(row) : undefined;
}

/** Revokes a token (a second revocation keeps the first time); false when there is no such token. */
export async function revokeApiToken(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

function listed(r: {
  id: string;
  role: TokenRole;
  label: string | null;
  patient_ids: string[] | null;
  practitioner_id: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ListedToken {
  return {
    id: r.id,
    role: r.role,
    label: r.label,
    patientIds: r.patient_ids,
    practitionerId: r.practitioner_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}
