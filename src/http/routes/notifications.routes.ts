import { z } from 'zod';
import {
  addNotificationChannel,
  deadLetters,
  listNotificationChannels,
  MAX_DEAD_LETTERS,
  removeNotificationChannel,
  replayNotifications,
} from '../../actions/notifications.ts';
import { CHANNEL_KINDS, NOTIFICATION_PURPOSES } from '../../domain/notifications.ts';
import type { Channel } from '../../store/notifications.repository.ts';
import { principalOf, requireRole } from '../auth.ts';
import { errorBody, iso, text } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };

const teamId = text(64).min(1);

const channel = z.object({
  id: z.string(),
  teamId: z.string(),
  kind: z.enum(CHANNEL_KINDS),
  target: z.string(),
  escalation: z.boolean(),
  createdAt: z.string(),
});

const deadLetter = z.object({
  id: z.string(),
  alertId: z.string(),
  teamId: z.string(),
  channelId: z.string(),
  channel: z.enum(CHANNEL_KINDS),
  purpose: z.enum(NOTIFICATION_PURPOSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deadAt: z.string().nullable(),
});

const channelJson = (c: Channel) => ({ ...c, createdAt: iso(c.createdAt) });

/**
 * Notification channels and dead letters over HTTP mirror the CLI (`vitalink
 * notifications ...`, README, "Notifications"): channels are the admin's, dead
 * letters the admin's and the operator's (they hold ids and errors, no patient data).
 */
export function notificationsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;

  app.get(
    '/notification-channels',
    {
      schema: {
        tags: ['notifications'],
        summary: "Where teams' alerts are sent (admin); secrets are never shown again",
        querystring: z.object({ team: teamId.optional() }),
        response: { 200: z.object({ items: z.array(channel) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return { items: (await listNotificationChannels(db, request.query.team)).map(channelJson) };
    },
  );

  app.post(
    '/notification-channels',
    {
      schema: {
        tags: ['notifications'],
        summary:
          "Add where a team's alerts are sent: a webhook (its secret is in this response only) or an e-mail address (admin)",
        body: z.object({
          teamId,
          webhook: text(2000).optional().describe('an https:// URL (http:// to this machine only)'),
          email: text(320).optional(),
          secret: text(512)
            .optional()
            .describe('the webhook signing secret, 32 characters or more; generated when left out'),
          escalation: z
            .boolean()
            .optional()
            .describe('the second contact, told when an alert is not acknowledged in time'),
        }),
        response: { 201: channel.extend({ secret: z.string().optional() }), ...errors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      const { channel: added, secret } = await addNotificationChannel(db, deps.keys, request.body);
      return reply.status(201).send({ ...channelJson(added), ...(secret !== undefined ? { secret } : {}) });
    },
  );

  app.delete(
    '/notification-channels/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Remove a notification channel; what it was sent stays in the history (admin)',
        params: z.object({ id: z.string().max(64) }),
        response: { 200: z.object({ id: z.string(), removed: z.literal(true) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      await removeNotificationChannel(db, request.params.id, deps.now());
      return { id: request.params.id, removed: true as const };
    },
  );

  app.get(
    '/notifications/dead-letters',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Notifications that failed for good, oldest first (admin, operator)',
        querystring: z.object({
          team: teamId.optional(),
          limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTERS).default(100),
        }),
        response: { 200: z.object({ items: z.array(deadLetter) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin', 'operator']);
      const items = await deadLetters(db, { teamId: request.query.team, limit: request.query.limit });
      return {
        items: items.map((d) => ({ ...d, createdAt: iso(d.createdAt), deadAt: d.deadAt ? iso(d.deadAt) : null })),
      };
    },
  );

  app.post(
    '/notifications/replay',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Send dead letters again, one by id or all, with the same idempotency key (admin, operator)',
        body: z.union([z.strictObject({ id: z.string().max(64) }), z.strictObject({ all: z.literal(true) })]),
        response: { 200: z.object({ replayed: z.array(z.string()) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin', 'operator']);
      const body = request.body;
      const replayed = await replayNotifications(db, 'id' in body ? { id: body.id } : { all: true }, deps.now());
      return { replayed };
    },
  );
}
