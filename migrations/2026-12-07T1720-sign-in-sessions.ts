import { type Kysely, sql } from 'kysely';

/**
 * Dashboard sessions of practitioners signed in with OpenID Connect (README,
 * "Sign-in"). The browser holds a random session id (256 bits) in an HttpOnly
 * cookie; the table holds only its SHA-256 (`id_hash`), so a copy of the table
 * opens no session.
 *
 * - expires_at: the absolute end (VITALINK_SESSION_MAX_HOURS after sign-in);
 *   last_seen_at + VITALINK_SESSION_IDLE_MINUTES is the idle end; revoked_at:
 *   signed out (or revoked by an administrator).
 * - id_token: the issuer's ID token, sent back as id_token_hint when the
 *   practitioner signs out at the issuer (RP-initiated logout).
 *
 * Cost: one row per sign-in; every request made with the cookie reads one row by
 * its primary key, and writes last_seen_at at most once a minute. Sign-in deletes
 * the rows that ended more than a day ago, through sign_in_sessions_expires.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sign_in_sessions (
      id_hash bytea PRIMARY KEY,
      practitioner_id text NOT NULL REFERENCES practitioners (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      id_token text
    )`.execute(db);
  await sql`CREATE INDEX sign_in_sessions_practitioner ON sign_in_sessions (practitioner_id)`.execute(db);
  await sql`CREATE INDEX sign_in_sessions_expires ON sign_in_sessions (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS sign_in_sessions`.execute(db);
}
