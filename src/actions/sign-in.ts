import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcSettings } from '../config.ts';
import {
  type Claims,
  type IdentityProblem,
  practitionerKeyOf,
  type PractitionerKey,
  professionCodes,
} from '../domain/practitioner-identity.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { patientsInCareOf } from '../store/care-scope.ts';
import {
  deleteEndedSessions,
  findPractitionerById,
  findPractitionerByRpps,
  findSignInSession,
  insertSignInSession,
  revokePractitionerSessions,
  revokeSignInSession,
  type SignInPractitioner,
  touchSignInSession,
} from '../store/sign-in-sessions.repository.ts';
import type { OidcIssuer } from './oidc-issuer.ts';
import type { Principal } from './tokens.ts';

/**
 * Sign-in with OpenID Connect for the dashboard (README, "Sign-in"): the
 * authorization code flow with PKCE (S256), state and nonce; the service is a
 * confidential client (client_secret_basic). States of a sign-in: begun (the
 * browser holds the pending state in a short-lived HttpOnly cookie and goes to
 * the issuer), finished (code exchanged, ID token checked by openid-client,
 * userinfo read, practitioner found, session row written), or refused (no
 * session). States of a session: live, ended (absolute or idle expiry), revoked.
 */

/** How long a begun sign-in may take at the issuer. */
export const PENDING_SIGN_IN_MS = 10 * 60_000;

/** What the browser keeps between /auth/login and /auth/callback (its own cookie: never readable by scripts). */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** When the sign-in began (ms since the epoch). */
  at: number;
}

export function encodePending(p: PendingSignIn): string {
  return Buffer.from(JSON.stringify(p)).toString('base64url');
}

export function decodePending(text: string | undefined, now: Date): PendingSignIn | undefined {
  if (!text || text.length > 1000) return undefined;
  try {
    const p = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PendingSignIn>;
    if (typeof p.state !== 'string' || typeof p.nonce !== 'string' || typeof p.verifier !== 'string') return undefined;
    if (typeof p.at !== 'number' || now.getTime() - p.at > PENDING_SIGN_IN_MS || p.at > now.getTime() + 60_000) {
      return undefined;
    }
    return p as PendingSignIn;
  } catch {
    return undefined;
  }
}

/** The issuer's authorization URL for a new sign-in, and what the browser keeps until the callback. */
export async function beginSignIn(issuer: OidcIssuer, now: Date): Promise<{ url: URL; pending: PendingSignIn }> {
  const s = issuer.settings;
  const config = await issuer.configuration();
  const pending: PendingSignIn = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
    at: now.getTime(),
  };
  const parameters: Record<string, string> = {
    redirect_uri: s.redirectUrl,
    scope: s.scopes,
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  };
  // Pro Santé Connect: eIDAS "substantial" level of assurance (french-interop.md).
  if (s.acrValues) parameters.acr_values = s.acrValues;
  return { url: client.buildAuthorizationUrl(config, parameters), pending };
}

export type SignInOutcome =
  | {
      ok: true;
      /** The session id, for the cookie only: never stored, never logged. */
      sessionId: string;
      practitioner: SignInPractitioner;
      expiresAt: Date;
      professions: string[];
    }
  /** No practitioner for these claims: `shown` is the identifier the person may give their administrator. */
  | { ok: false; reason: IdentityProblem | 'unknown_practitioner' | 'acr_not_met'; shown: string | null };

/**
 * Finishes a sign-in from the issuer's answer (`callbackUrl`: the redirect URL
 * with the query the browser brought). openid-client checks the state, the PKCE
 * verifier at the token endpoint, and the ID token (signature, iss, aud, exp,
 * nonce). Pro Santé Connect returns most claims from userinfo only (not in the
 * ID token): userinfo is read too, its `sub` checked against the ID token's, and
 * the ID token's claims win where both have one.
 */
export async function finishSignIn(
  db: Db,
  issuer: OidcIssuer,
  pending: PendingSignIn,
  callbackUrl: URL,
  now: Date,
): Promise<SignInOutcome> {
  const s = issuer.settings;
  const config = await issuer.configuration();
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const idClaims = tokens.claims()!;
  // The level of assurance asked for (acr_values, eidas1 at PSC) must be the one reached: an ID
  // token without acr, or with another, is refused (OpenID Connect Core §3.1.2.1 leaves it to the client).
  if (s.acrValues && !s.acrValues.split(/\s+/).includes(String(idClaims.acr ?? ''))) {
    return { ok: false, reason: 'acr_not_met', shown: s.acrValues };
  }
  let claims: Claims = idClaims;
  if (config.serverMetadata().userinfo_endpoint) {
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    claims = { ...userinfo, ...idClaims };
  }
  const found = practitionerKeyOf(claims, s.practitionerClaims, s.practitionerMatch);
  if ('problem' in found) return { ok: false, reason: found.problem, shown: null };
  const practitioner = await findPractitioner(db, found.key);
  if (!practitioner) {
    return {
      ok: false,
      reason: 'unknown_practitioner',
      shown: found.key.by === 'rpps' ? found.key.rpps : found.key.id,
    };
  }
  const sessionId = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + s.sessionMaxMs);
  // Rows of sessions that ended more than a day ago go (index sign_in_sessions_expires).
  await deleteEndedSessions(db, new Date(now.getTime() - 86_400_000));
  await insertSignInSession(db, {
    idHash: sessionHash(sessionId),
    practitionerId: practitioner.id,
    createdAt: now,
    expiresAt,
    idToken: tokens.id_token ?? null,
  });
  return { ok: true, sessionId, practitioner, expiresAt, professions: professionCodes(claims) };
}

export function findPractitioner(db: Db, key: PractitionerKey): Promise<SignInPractitioner | undefined> {
  return key.by === 'rpps' ? findPractitionerByRpps(db, key.rpps) : findPractitionerById(db, key.id);
}

/** The session id is 256 random bits: its SHA-256 is what the table keeps (no key needed at that entropy). */
export function sessionHash(sessionId: string): Buffer {
  return createHash('sha256').update(sessionId).digest();
}

/**
 * The CSRF token of a session (README, "Sign-in", "Cookies and CSRF"): derived
 * from the session id, which only the browser's HttpOnly cookie holds; the
 * dashboard reads it from GET /auth/session (same origin only) and sends it as
 * X-CSRF-Token with every request that changes something.
 */
export function csrfToken(sessionId: string): string {
  return createHmac('sha256', sessionId).update('vitalink csrf v1').digest('base64url');
}

export function csrfTokenMatches(sessionId: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(csrfToken(sessionId)).digest();
  return timingSafeEqual(a, b);
}

/** Why a session cookie was refused (for the log only). */
export type SessionRefusal = 'unknown' | 'revoked' | 'expired' | 'idle';

/** How often, at most, a session's last use is written. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

export interface LiveSession {
  practitionerId: string;
  practitionerName: string;
  expiresAt: Date;
  /** When the session ends if unused from now on. */
  idleEndsAt: Date;
}

/**
 * The session of a cookie, or why it is refused. Cost: one row by primary key
 * (joined with its practitioner by primary key), and an UPDATE of last_seen_at
 * at most once a minute per session (not awaited by the request).
 */
export async function findSession(
  db: Db,
  settings: OidcSettings,
  sessionId: string,
  now: Date,
  onTouchError: (err: unknown) => void,
): Promise<{ session: LiveSession } | { refused: SessionRefusal }> {
  if (sessionId.length !== 43) return { refused: 'unknown' };
  const hash = sessionHash(sessionId);
  const row = await findSignInSession(db, hash);
  if (!row) return { refused: 'unknown' };
  if (row.revokedAt) return { refused: 'revoked' };
  if (row.expiresAt <= now) return { refused: 'expired' };
  if (row.lastSeenAt.getTime() + settings.sessionIdleMs <= now.getTime()) return { refused: 'idle' };
  if (now.getTime() - row.lastSeenAt.getTime() >= SESSION_TOUCH_INTERVAL_MS) {
    touchSignInSession(db, hash, now).catch(onTouchError);
  }
  return {
    session: {
      practitionerId: row.practitionerId,
      practitionerName: row.practitionerName,
      expiresAt: row.expiresAt,
      idleEndsAt: new Date(Math.min(row.expiresAt.getTime(), now.getTime() + settings.sessionIdleMs)),
    },
  };
}

/**
 * A practitioner's principal: a clinician whose patients are those enrolled with
 * their teams now (src/store/care-teams.repository.ts: their memberships, then
 * their teams' enrolments by index; never readings).
 */
export async function practitionerPrincipal(db: Db, practitionerId: string, now: Date): Promise<Principal> {
  return {
    role: 'clinician',
    tokenId: null,
    practitionerId,
    patientIds: await patientsInCareOf(db, practitionerId, now),
  };
}

/**
 * Ends a session (sign-out) and returns where the browser goes next: the
 * issuer's end_session_endpoint (RP-initiated logout, with the ID token as
 * id_token_hint) when the issuer offers one, else null (the dashboard).
 */
export async function endSession(db: Db, issuer: OidcIssuer, sessionId: string, now: Date): Promise<URL | null> {
  const hash = sessionHash(sessionId);
  const row = await findSignInSession(db, hash);
  await revokeSignInSession(db, hash, now);
  let config: client.Configuration;
  try {
    config = await issuer.configuration();
  } catch {
    return null; // signed out here; the issuer is unreachable, its own session lives on
  }
  if (!config.serverMetadata().end_session_endpoint) return null;
  const parameters: Record<string, string> = {
    post_logout_redirect_uri: issuer.settings.postLogoutRedirectUrl,
    client_id: issuer.settings.clientId,
  };
  if (row?.idToken) parameters.id_token_hint = row.idToken;
  return client.buildEndSessionUrl(config, parameters);
}

/** Ends every live session of a practitioner (`vitalink sessions revoke`); 404 for an unknown practitioner. */
export async function revokeSessionsOf(db: Db, practitionerId: string, now: Date): Promise<number> {
  if (!(await findPractitionerById(db, practitionerId))) {
    throw new AppError(
      'not_found',
      `practitioner ${practitionerId} does not exist; \`vitalink practitioners add\` adds one`,
    );
  }
  return revokePractitionerSessions(db, practitionerId, now);
}
