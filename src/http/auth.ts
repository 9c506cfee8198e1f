import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { findPrincipal, type Principal, type Role } from '../actions/tokens.ts';
import { AppError } from '../errors.ts';
import { type AuditOutcome, insertAuditEntries } from '../store/audit.repository.ts';
import type { KeyRing, RehashOnce } from '../domain/secret-keys.ts';
import { patientsInCareOf } from '../store/care-scope.ts';
import type { Db } from '../store/database.ts';
import type { RequestLimits } from './rate-limits.ts';
import { looksLikeJwt, principalOfAccessToken } from '../actions/access-tokens.ts';
import type { OidcIssuer } from '../actions/oidc-issuer.ts';
import { csrfTokenMatches, findSession, practitionerPrincipal } from '../actions/sign-in.ts';
import { type CookieNames, readCookie } from './session-cookies.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Constant-time comparison of a presented credential with the expected one. */
export function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface AuthDeps {
  readonly db: Db;
  /** The keys tokens are stored under (src/actions/secret-keys.ts, resolveKeyRing). */
  readonly keys: KeyRing;
  /** A token found under a previous key is stored again under the current one, once (none: never). */
  readonly rehash?: RehashOnce;
  /** VITALINK_ADMIN_TOKEN: accepted as an admin bearer token (bootstrap). */
  readonly adminToken: string | undefined;
  /** Notes a token's use (at most once a minute per token: src/actions/tokens.ts, createTokenUsage). */
  readonly tokenUsed?: (tokenId: string) => void;
  /** The HTTP rate limits (src/http/rate-limits.ts); none in tests that build the server alone. */
  readonly limits?: RequestLimits;
  /** The clock of enrolments' scoping (README, "Care teams"); the system's by default. */
  readonly now?: () => Date;
  /** Sign-in with OpenID Connect (README, "Sign-in"): session cookies and bearer JWTs; none when not configured. */
  readonly signIn?: { readonly issuer: OidcIssuer; readonly cookies: CookieNames; readonly now: () => Date };
}

/** The answer to a refused session cookie or bearer JWT: the same whatever the reason (the log says which). */
export const SESSION_REFUSED =
  'your session has ended (signed out, expired or revoked) or this access token is not accepted; sign in again';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The answer to a refused token: the same whatever the reason, so that it tells
 * an attacker nothing; the log says which (unknown, revoked, expired).
 */
export const TOKEN_REFUSED =
  'this API token is unknown or revoked, or has expired; ask an administrator for a new one (README, "Revoking a device or a token")';

/**
 * Resolves the caller of a request from `Authorization: Bearer <token>`; 401 when
 * absent or unknown; 429 when the source address has used up its failed
 * authentications (before the token is looked at) or the token its requests.
 */
export async function authenticateRequest(deps: AuthDeps, request: FastifyRequest): Promise<Principal> {
  const principal = deps.limits
    ? await deps.limits.authenticate(request, () => resolvePrincipal(deps, request))
    : await resolvePrincipal(deps, request);
  return inCareOf(deps, principal);
}

/**
 * Scoping by care team (README, "Care teams"): a principal acting as a
 * practitioner may read the patients enrolled with their teams at the time of
 * the request, on the primary (an enrolment ended or a member removed holds from
 * the next request, on every instance). Cost: one primary-key read of the care
 * scope's version while nothing changed, else memberships and enrolments by index
 * (src/store/care-scope.ts), never readings.
 */
async function inCareOf(deps: AuthDeps, principal: Principal): Promise<Principal> {
  // Sessions and access tokens of a practitioner are scoped when made (src/actions/sign-in.ts, practitionerPrincipal).
  if (!principal.practitionerId || principal.tokenId === null) return principal;
  const at = deps.now?.() ?? new Date();
  return { ...principal, patientIds: await patientsInCareOf(deps.db, principal.practitionerId, at) };
}

async function resolvePrincipal(deps: AuthDeps, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header && deps.signIn) {
    const sessionId = readCookie(request, deps.signIn.cookies.session);
    if (sessionId) return sessionPrincipal(deps, deps.signIn, request, sessionId);
  }
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError('unauthorized', 'send an API token as "Authorization: Bearer <token>"');
  const token = match[1];
  if (deps.adminToken && sameSecret(token, deps.adminToken)) {
    return { role: 'admin', tokenId: null, patientIds: null };
  }
  if (deps.signIn && looksLikeJwt(token)) {
    const found = await principalOfAccessToken(deps.db, deps.signIn.issuer, token, deps.signIn.now());
    if ('refused' in found) {
      request.log.info({ reason: found.refused }, 'access token refused');
      throw new AppError('unauthorized', SESSION_REFUSED);
    }
    return found.principal;
  }
  const rehash = deps.rehash && {
    once: deps.rehash,
    onRehashed: (tokenId: string, fromKeyId: string, toKeyId: string) =>
      request.log.info({ tokenId, fromKeyId, toKeyId }, 'api token re-hashed under the current key'),
    onError: (err: unknown) => request.log.warn({ err }, 'api token re-hash failed; its next use tries again'),
  };
  const found = await findPrincipal(deps.db, deps.keys, token, rehash);
  if ('refused' in found) {
    request.log.info({ reason: found.refused, tokenId: found.tokenId }, 'api token refused');
    throw new AppError('unauthorized', TOKEN_REFUSED);
  }
  if (found.principal.tokenId !== null) deps.tokenUsed?.(found.principal.tokenId);
  return found.principal;
}

/**
 * The practitioner of a session cookie (src/actions/sign-in.ts, findSession). A
 * request that changes something must carry the session's CSRF token in
 * X-CSRF-Token: another site can make the browser send the cookie (not with
 * SameSite=Strict in today's browsers, but the token does not depend on that),
 * never read the token.
 */
async function sessionPrincipal(
  deps: AuthDeps,
  signIn: NonNullable<AuthDeps['signIn']>,
  request: FastifyRequest,
  sessionId: string,
): Promise<Principal> {
  const now = signIn.now();
  const found = await findSession(deps.db, signIn.issuer.settings, sessionId, now, (err) =>
    request.log.warn({ err }, 'session last use not recorded'),
  );
  if ('refused' in found) {
    request.log.info({ reason: found.refused }, 'session refused');
    throw new AppError('unauthorized', SESSION_REFUSED);
  }
  if (!SAFE_METHODS.has(request.method) && !csrfTokenMatches(sessionId, header(request, 'x-csrf-token'))) {
    request.log.info({ reason: 'csrf' }, 'session request refused');
    throw new AppError(
      'forbidden',
      'a request made with the sign-in cookie that changes something needs the X-CSRF-Token header of GET /auth/session',
    );
  }
  return practitionerPrincipal(deps.db, found.session.practitionerId, now);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller, resolved by the API's onRequest hook before any input is validated. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'send an API token as "Authorization: Bearer <token>"');
  return request.principal;
}

/** 403 unless the caller has one of the roles. */
export function requireRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role)) {
    throw new AppError('forbidden', `this needs a ${roles.join(' or ')} token; yours is ${principal.role}`);
  }
}

/**
 * A 404 about a patient that the audit log records (src/http/server.ts, error
 * handler): `denied` when the patient is not on the caller's token, `not_found` when
 * no such patient exists. The caller sees the same answer either way.
 */
export class AuditedNotFound extends AppError {
  readonly patientId: string;
  readonly outcome: 'denied' | 'not_found';
  constructor(patientId: string, outcome: 'denied' | 'not_found', message = `patient ${patientId} does not exist`) {
    super('not_found', message);
    this.patientId = patientId;
    this.outcome = outcome;
  }
}

/**
 * A clinician sees only their patients: any other is a 404, never a 403 that
 * would confirm the patient exists (interfaces.md). The attempt is audited as `denied`.
 */
export function assertPatientVisible(principal: Principal, patientId: string): void {
  if (principal.role === 'clinician' && !principal.patientIds?.has(patientId)) {
    throw new AuditedNotFound(patientId, 'denied');
  }
}

/** The 404 for a patient that does not exist, audited as `not_found`. */
export function patientNotFound(patientId: string): AuditedNotFound {
  return new AuditedNotFound(patientId, 'not_found');
}

/** How the audit log names a caller: its token, a signed-in practitioner (session or bearer JWT), or the bootstrap VITALINK_ADMIN_TOKEN. */
export function principalName(principal: Principal): string {
  if (principal.tokenId !== null) return `token:${principal.tokenId}`;
  return principal.practitionerId ? `practitioner:${principal.practitionerId}` : 'admin-token';
}

/**
 * Every read or write of a patient's data or identity over the API is written down,
 * whatever the caller's role: the request (its id, as in the access log line, and the
 * TCP peer; X-Forwarded-For is not trusted), the principal, the patient, the action
 * and the outcome. Never clinical values.
 */
export async function audit(
  db: Db,
  request: FastifyRequest,
  principal: Principal,
  patientIds: readonly string[],
  action: string,
  detail?: Record<string, unknown>,
  outcome: AuditOutcome = 'allowed',
): Promise<void> {
  if (patientIds.length === 0) return;
  await insertAuditEntries(
    db,
    patientIds.map((patientId) => ({
      tokenId: principal.tokenId,
      role: principal.role,
      principal: principalName(principal),
      patientId,
      action,
      outcome,
      requestId: request.id,
      // The client's address: behind a trusted load balancer, from its X-Forwarded-For.
      sourceAddress: request.ip ?? null,
      detail: detail ?? null,
    })),
  );
}

/**
 * Writes the audit row of a 404 about a patient (denied or missing), before the
 * error handler answers; false when that write failed (the handler then answers 500).
 */
export async function auditRefusal(db: Db, request: FastifyRequest, error: unknown): Promise<boolean> {
  if (!(error instanceof AuditedNotFound) || !request.principal) return true;
  try {
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    await audit(db, request, request.principal, [error.patientId], route, undefined, error.outcome);
    return true;
  } catch (failure) {
    request.log.error({ err: failure }, 'audit write failed');
    return false;
  }
}
