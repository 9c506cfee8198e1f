import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { findPrincipal, type Principal, type Role } from '../actions/tokens.ts';
import { AppError } from '../errors.ts';
import { insertAuditEntries } from '../store/audit.repository.ts';
import type { Db } from '../store/database.ts';
import type { RequestLimits } from './rate-limits.ts';

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
  readonly installationKey: () => Promise<Buffer>;
  /** VITALINK_ADMIN_TOKEN: accepted as an admin bearer token (bootstrap). */
  readonly adminToken: string | undefined;
  /** Notes a token's use (at most once a minute per token: src/actions/tokens.ts, createTokenUsage). */
  readonly tokenUsed?: (tokenId: string) => void;
  /** The HTTP rate limits (src/http/rate-limits.ts); none in tests that build the server alone. */
  readonly limits?: RequestLimits;
}

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
  if (!deps.limits) return resolvePrincipal(deps, request);
  return deps.limits.authenticate(request, () => resolvePrincipal(deps, request));
}

async function resolvePrincipal(deps: AuthDeps, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError('unauthorized', 'send an API token as "Authorization: Bearer <token>"');
  const token = match[1];
  if (deps.adminToken && sameSecret(token, deps.adminToken)) {
    return { role: 'admin', tokenId: null, patientIds: null };
  }
  const found = await findPrincipal(deps.db, await deps.installationKey(), token);
  if ('refused' in found) {
    request.log.info({ reason: found.refused, tokenId: found.tokenId }, 'api token refused');
    throw new AppError('unauthorized', TOKEN_REFUSED);
  }
  if (found.principal.tokenId !== null) deps.tokenUsed?.(found.principal.tokenId);
  return found.principal;
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
 * A clinician sees only their patients: any other is a 404, never a 403 that
 * would confirm the patient exists (interfaces.md).
 */
export function assertPatientVisible(principal: Principal, patientId: string): void {
  if (principal.role === 'clinician' && !principal.patientIds?.has(patientId)) {
    throw new AppError('not_found', `patient ${patientId} does not exist`);
  }
}

/** Every clinician read of patient data is written down: who, which patient, what, when. */
export async function audit(
  db: Db,
  principal: Principal,
  patientIds: readonly string[],
  action: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  if (principal.role !== 'clinician' || patientIds.length === 0) return;
  await insertAuditEntries(
    db,
    patientIds.map((patientId) => ({
      tokenId: principal.tokenId,
      role: principal.role,
      patientId,
      action,
      detail: detail ?? null,
    })),
  );
}
