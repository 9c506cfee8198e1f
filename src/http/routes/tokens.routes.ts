import { z } from 'zod';
import { createApiToken, listTokens, MAX_TOKENS_PAGE, revokeToken, ROLES, type Role } from '../../actions/tokens.ts';
import { AppError } from '../../errors.ts';
import { principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, page, text, token } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 422: errorBody };

export interface TokensRouteDeps extends RouteDeps {
  /** Default lifetime of a new token per role (VITALINK_TOKEN_TTL_*_DAYS). */
  readonly tokenTtlDays?: Readonly<Record<Role, number>>;
}

/** API tokens over HTTP mirror the CLI (`vitalink tokens create|list|revoke`). Admin only. */
export function tokensRoutes(app: ZodApp, deps: TokensRouteDeps): void {
  const { db } = deps;

  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'API tokens with their state, never their text, by id, a page at a time (admin)',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(MAX_TOKENS_PAGE).default(100),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: page(token), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const after = decodeCursor(request.query.cursor);
      if (after !== undefined && !/^\d{1,18}$/.test(after)) {
        throw new AppError('bad_request', 'cursor is not one this API returned');
      }
      const result = await listTokens(db, deps.now(), { afterId: after, limit: request.query.limit });
      return { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null };
    },
  );

  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token; the token is in this response only (admin)',
        body: z.object({
          role: z.enum(ROLES),
          patientIds: z.array(idParam).max(10_000).optional(),
          practitionerId: idParam
            .optional()
            .describe('a clinician token acting as this practitioner: its patients are those of their teams'),
          label: text(200).optional(),
          expires: text(64)
            .optional()
            .describe("a duration (90d, 12h), a date or time, or never; default: the role's lifetime"),
        }),
        response: {
          201: z.object({ token: z.string(), role: z.enum(ROLES), id: z.string(), expiresAt: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      const created = await createApiToken(db, deps.keys, { ...request.body, ttlDays: deps.tokenTtlDays }, deps.now());
      return reply.status(201).send({
        token: created.token,
        role: created.role,
        id: created.id,
        expiresAt: created.expiresAt?.toISOString() ?? null,
      });
    },
  );

  app.post(
    '/tokens/:id/revoke',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token: refused from its next request, on every instance (admin)',
        params: z.object({ id: z.string().max(64) }),
        response: { 200: token, ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return revokeToken(db, request.params.id, deps.now());
    },
  );
}
