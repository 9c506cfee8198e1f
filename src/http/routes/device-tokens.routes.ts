import { z } from 'zod';
import { createDeviceToken, listTokensOfDevice, revokeTokenOfDevice } from '../../actions/device-tokens.ts';
import { principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, text } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 422: errorBody };

const deviceToken = z.object({
  id: z.string(),
  deviceId: z.string(),
  label: z.string().nullable(),
  state: z.enum(['active', 'revoked', 'expired']),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/**
 * Device tokens over HTTP mirror the CLI (`vitalink devices token create|list|revoke`;
 * README, "Over HTTPS", "Device tokens"). Admin only.
 */
export function deviceTokensRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;

  app.post(
    '/devices/:id/tokens',
    {
      schema: {
        tags: ['devices'],
        summary:
          "Create a device token, for that device's HTTPS readings only; the token is in this response only (admin)",
        params: z.object({ id: idParam }),
        body: z
          .object({
            label: text(200).optional(),
            expires: text(64).optional().describe('a duration (90d, 12h), a date or time, or never; default 365d'),
          })
          .default({}),
        response: {
          201: z.object({ token: z.string(), id: z.string(), deviceId: z.string(), expiresAt: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      const created = await createDeviceToken(
        db,
        deps.keys,
        { deviceId: request.params.id, label: request.body.label, expires: request.body.expires },
        deps.now(),
      );
      return reply.status(201).send({
        token: created.token,
        id: created.id,
        deviceId: created.deviceId,
        expiresAt: created.expiresAt?.toISOString() ?? null,
      });
    },
  );

  app.get(
    '/devices/:id/tokens',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's tokens with their state, never their text (admin)",
        params: z.object({ id: idParam }),
        response: { 200: z.object({ items: z.array(deviceToken) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return { items: await listTokensOfDevice(db, request.params.id, deps.now()) };
    },
  );

  app.post(
    '/devices/:id/tokens/:tokenId/revoke',
    {
      schema: {
        tags: ['devices'],
        summary: 'Revoke a device token: refused from its next request, on every instance (admin)',
        params: z.object({ id: idParam, tokenId: z.string().max(20) }),
        response: { 200: deviceToken, ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return revokeTokenOfDevice(db, request.params.id, request.params.tokenId, deps.now());
    },
  );
}
