/**
 * HTTP rate limits (README, "Security"), counted by @fastify/rate-limit's
 * in-memory store, so each instance counts its own requests:
 *
 * - per principal: the requests of one API token (VITALINK_ADMIN_TOKEN counts as
 *   one principal) per minute, on /api/v1 and /fhir;
 * - per source address, failed authentication: the 401s of one address per
 *   minute; once used up, every request of that address that presents or needs a
 *   token is answered 429 before its token is looked at (a guess answered 429
 *   tells nothing), until the minute ends;
 * - per source address, unknown routes: the 404s of routes that do not exist.
 *
 * Every 429 is `{ error: { code: 'rate_limited', message } }` (an OperationOutcome
 * under /fhir) with `Retry-After` in seconds, and is counted in
 * `vitalink_http_rate_limited_total{limit}`. /healthz and /readyz are never
 * limited; /metrics is not limited from loopback.
 */
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../actions/tokens.ts';
import type { HttpRateLimits } from '../config.ts';
import { AppError } from '../errors.ts';
import type { HttpLimit, Metrics } from '../metrics/metrics.ts';

export const DEFAULT_HTTP_RATE_LIMITS: HttpRateLimits = {
  perPrincipalPerMin: 600,
  authFailuresPerMin: 20,
  notFoundPerMin: 60,
};

const WINDOW_MS = 60_000;
/** Keys (tokens or addresses) remembered per limit; beyond, the least recently seen is forgotten. */
const KEYS_KEPT = 10_000;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export interface RequestLimits {
  /**
   * Runs `resolve` (the token's lookup) under the failed-authentication limit of the
   * request's address: 429 before the lookup when the address has used up its
   * failures, counting the lookups in flight as failures to come (so that
   * concurrent guesses cannot overshoot the limit); a 401 of `resolve` counts.
   * Then the principal's own limit.
   */
  authenticate(request: FastifyRequest, resolve: () => Promise<Principal>): Promise<Principal>;
  /** A request for a route that does not exist: counts against the address; 429 beyond the limit. */
  unknownRoute(request: FastifyRequest): Promise<void>;
}

/** The source address, an IPv6 one by its /64 prefix (the plugin's own default key). */
function addressKey(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

function principalKey(principal: Principal | undefined): string {
  if (principal?.tokenId) return `token:${principal.tokenId}`;
  // A signed-in practitioner (session or bearer JWT: README, "Sign-in") is one principal.
  return principal?.practitionerId ? `practitioner:${principal.practitionerId}` : 'admin-token';
}

/** Registers @fastify/rate-limit (no route limited by itself) and returns the limits of README, "Security". */
export async function registerRateLimits(
  app: FastifyInstance,
  limits: HttpRateLimits,
  metrics: Metrics,
): Promise<RequestLimits> {
  await app.register(rateLimit, { global: false });
  const limiter = (max: number, keyGenerator: (request: FastifyRequest) => string): Limiter | undefined =>
    max > 0
      ? app.createRateLimit({
          max,
          timeWindow: WINDOW_MS,
          keyGenerator,
          // `cache` (keys kept by the in-memory store) is read by the plugin's store but missing from its types.
          ...({ cache: KEYS_KEPT } as object),
        })
      : undefined;
  const principal = limiter(limits.perPrincipalPerMin, (request) => principalKey(request.principal));
  const authFailures = limiter(limits.authFailuresPerMin, addressKey);
  const unknownRoutes = limiter(limits.notFoundPerMin, addressKey);
  /** Token lookups in progress per address. */
  const inFlight = new Map<string, number>();

  const refuse = (limit: HttpLimit, ttlMs: number, message: string): AppError => {
    metrics.httpRateLimited.labels(limit).inc();
    const retryAfterSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
    return new AppError('rate_limited', `${message}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  };

  return {
    async authenticate(request, resolve) {
      let who: Principal;
      if (!authFailures) {
        who = await resolve().catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'unauthorized') metrics.httpAuthFailures.inc();
          throw error;
        });
      } else {
        const key = addressKey(request);
        const state = await authFailures(request, { increment: false });
        const pending = inFlight.get(key) ?? 0;
        if (!state.isAllowed && state.remaining - pending <= 0) {
          throw refuse(
            'auth_failure',
            state.ttl > 0 ? state.ttl : WINDOW_MS,
            `too many requests with a missing or refused API token from this address (${limits.authFailuresPerMin} a minute)`,
          );
        }
        inFlight.set(key, pending + 1);
        try {
          who = await resolve();
        } catch (error) {
          if (error instanceof AppError && error.code === 'unauthorized') {
            metrics.httpAuthFailures.inc();
            await authFailures(request);
          }
          throw error;
        } finally {
          const left = (inFlight.get(key) ?? 1) - 1;
          if (left > 0) inFlight.set(key, left);
          else inFlight.delete(key);
        }
      }
      if (principal) {
        request.principal = who;
        const state = await principal(request);
        if (!state.isAllowed && state.isExceeded) {
          throw refuse(
            'principal',
            state.ttl,
            `too many requests with this API token (${limits.perPrincipalPerMin} a minute on this instance)`,
          );
        }
      }
      return who;
    },
    async unknownRoute(request) {
      if (!unknownRoutes) return;
      const state = await unknownRoutes(request);
      if (!state.isAllowed && state.isExceeded) {
        throw refuse(
          'not_found',
          state.ttl,
          `too many requests for routes that do not exist from this address (${limits.notFoundPerMin} a minute)`,
        );
      }
    },
  };
}
