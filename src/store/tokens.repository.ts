import type { Db } from './database.ts';

export type TokenRole = 'admin' | 'operator' | 'clinician';

/** An API token that is not revoked, found by the HMAC of its text. */
export interface ActiveToken {
  id: string;
  role: TokenRole;
  /** Clinician tokens: the patients they may read. */
  patientIds: string[] | null;
}

/** Stores a token's hash (never the token); returns its id. */
export async function insertApiToken(
  db: Db,
  token: { tokenHash: Buffer; role: TokenRole; patientIds: string[] | null; label: string | null },
): Promise<string> {
  const row = await db
    .insertInto('api_tokens')
    .values({
      token_hash: token.tokenHash,
      role: token.role,
      patient_ids: token.patientIds,
      label: token.label,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function findActiveToken(db: Db, tokenHash: Buffer): Promise<ActiveToken | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .select(['id', 'role', 'patient_ids'])
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { id: row.id, role: row.role, patientIds: row.patient_ids } : undefined;
}
