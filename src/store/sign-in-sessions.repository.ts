import type { Db } from './database.ts';

/**
 * Dashboard sessions (migrations/2026-12-07T1720-sign-in-sessions.ts) and the
 * practitioner a signed-in person is. Every lookup goes through a primary key or
 * a unique index: cost independent of history.
 */

export interface SignInPractitioner {
  id: string;
  name: string;
  role: 'physician' | 'nurse' | 'coordinator';
}

/** The practitioner with this RPPS number (unique index on practitioners.rpps). */
export async function findPractitionerByRpps(db: Db, rpps: string): Promise<SignInPractitioner | undefined> {
  return db.selectFrom('practitioners').select(['id', 'name', 'role']).where('rpps', '=', rpps).executeTakeFirst();
}

/** The practitioner with this id (primary key). */
export async function findPractitionerById(db: Db, id: string): Promise<SignInPractitioner | undefined> {
  return db.selectFrom('practitioners').select(['id', 'name', 'role']).where('id', '=', id).executeTakeFirst();
}

export interface StoredSession {
  practitionerId: string;
  practitionerName: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  idToken: string | null;
}

export async function insertSignInSession(
  db: Db,
  session: { idHash: Buffer; practitionerId: string; createdAt: Date; expiresAt: Date; idToken: string | null },
): Promise<void> {
  await db
    .insertInto('sign_in_sessions')
    .values({
      id_hash: session.idHash,
      practitioner_id: session.practitionerId,
      created_at: session.createdAt,
      last_seen_at: session.createdAt,
      expires_at: session.expiresAt,
      id_token: session.idToken,
    })
    .execute();
}

/** Deletes the sessions that ended before `before` (index sign_in_sessions_expires); returns how many. */
export async function deleteEndedSessions(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('sign_in_sessions').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A session by the hash of its id (primary key), with its practitioner's name (primary key). */
export async function findSignInSession(db: Db, idHash: Buffer): Promise<StoredSession | undefined> {
  return db
    .selectFrom('sign_in_sessions as s')
    .innerJoin('practitioners as p', 'p.id', 's.practitioner_id')
    .select([
      's.practitioner_id as practitionerId',
      'p.name as practitionerName',
      's.created_at as createdAt',
      's.last_seen_at as lastSeenAt',
      's.expires_at as expiresAt',
      's.revoked_at as revokedAt',
      's.id_token as idToken',
    ])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
}

/** Notes a session's use (its idle end moves on). */
export async function touchSignInSession(db: Db, idHash: Buffer, at: Date): Promise<void> {
  await db
    .updateTable('sign_in_sessions')
    .set({ last_seen_at: at })
    .where('id_hash', '=', idHash)
    .where('last_seen_at', '<', at)
    .execute();
}

/** Ends a session (sign-out); false when there was no live one. */
export async function revokeSignInSession(db: Db, idHash: Buffer, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('sign_in_sessions')
    .set({ revoked_at: at })
    .where('id_hash', '=', idHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends every live session of a practitioner (index sign_in_sessions_practitioner); returns how many. */
export async function revokePractitionerSessions(db: Db, practitionerId: string, at: Date): Promise<number> {
  const result = await db
    .updateTable('sign_in_sessions')
    .set({ revoked_at: at })
    .where('practitioner_id', '=', practitionerId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
