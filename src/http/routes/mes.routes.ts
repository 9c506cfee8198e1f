import { z } from 'zod';
import { mesBundlesPage, requireFeedIdentity } from '../../actions/mes-bundles.ts';
import type { MesSettings } from '../../config.ts';
import { MES_PUSH_STATES, type MesPushState } from '../../domain/mes-feed.ts';
import { READING_ID_PATTERN } from '../../domain/protocol.ts';
import { listMesPushes, replayMesPushes } from '../../store/mes-pushes.repository.ts';
import { assertPatientVisible, audit, principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, iso } from '../schemas.ts';
import { decodeJsonCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  422: errorBody,
  503: errorBody,
};
const time = z.iso.datetime({ offset: true }).describe('RFC 3339');
const bundleCursor = z.tuple([z.string().regex(/^-?\d{1,20}$/), idParam, z.string().regex(READING_ID_PATTERN)]);

const push = z.object({
  id: z.string().describe('the idempotency key sent with it'),
  deviceId: z.string(),
  readingId: z.string(),
  type: z.string(),
  measuredAt: z.string(),
  state: z.enum(MES_PUSH_STATES as [MesPushState, ...MesPushState[]]),
  attempts: z.number().int(),
  createdAt: z.string().describe('queued'),
  attemptedAt: z.string().nullable().describe('the last attempt'),
  sentAt: z.string().nullable(),
  status: z.number().int().nullable().describe("the receiver's HTTP status at the last attempt"),
  answer: z.string().nullable().describe('what the receiver said, or why it was not sent'),
  location: z.string().nullable().describe('where the receiver stored the Observation'),
  deviceLocation: z.string().nullable(),
  bundle: z.unknown().optional().describe('the bundle as sent (with bundle=true)'),
});

/** README, "Feeding Mon espace santé": the bundles of a patient, and the record of what was pushed. */
export function mesRoutes(app: ZodApp, deps: RouteDeps & { mes: MesSettings }): void {
  const { db, mes } = deps;
  const readDb = deps.readDb ?? (() => db);

  app.get(
    '/patients/:id/mes-bundles',
    {
      schema: {
        tags: ['mes'],
        summary: "A patient's feeding bundles for Mon espace santé, oldest reading first (clinician)",
        description:
          'MesBundleFluxAlimentation transactions, one per reading of the types fed (VITALINK_MES_TYPES), measured at or after `since`; not sent. 409 when the patient has no qualified INS identity, 503 without VITALINK_MES_EDITOR_OID. Readings that cannot be sent come with `problem` instead of `bundle`.',
        params: z.object({ id: idParam }),
        querystring: z.object({
          since: time.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().optional(),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                deviceId: z.string(),
                readingId: z.string(),
                bundle: z.unknown().optional(),
                problem: z.string().optional(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      assertPatientVisible(principal, request.params.id);
      const reads = readDb();
      const { since, limit, cursor } = request.query;
      const after = decodeJsonCursor(cursor, bundleCursor);
      const subject = await requireFeedIdentity(reads, mes, request.params.id);
      const [result] = await Promise.all([
        mesBundlesPage(reads, mes, subject, {
          patientId: request.params.id,
          since: since ? new Date(since) : undefined,
          after,
          limit,
        }),
        audit(db, request, principal, [request.params.id], 'mes.bundles.read', { since: since ?? null }),
      ]);
      return {
        items: result.items,
        nextCursor: result.next ? encodeCursor(JSON.stringify(result.next)) : null,
      };
    },
  );

  app.get(
    '/patients/:id/mes-pushes',
    {
      schema: {
        tags: ['mes'],
        summary:
          'What was pushed to Mon espace santé for a patient, when, and the answer, newest first (clinician, admin, operator)',
        params: z.object({ id: idParam }),
        querystring: z.object({
          state: z.enum(MES_PUSH_STATES as [MesPushState, ...MesPushState[]]).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          bundle: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: z.object({ items: z.array(push) }), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician', 'admin', 'operator']);
      assertPatientVisible(principal, request.params.id);
      const { state, limit, bundle } = request.query;
      const [rows] = await Promise.all([
        listMesPushes(db, request.params.id, { limit, state, withBundle: bundle === 'true' }),
        audit(db, request, principal, [request.params.id], 'mes.pushes.read', { state: state ?? null }),
      ]);
      return {
        items: rows.map((r) => ({
          id: r.id,
          deviceId: r.deviceId,
          readingId: r.readingId,
          type: r.type,
          measuredAt: iso(r.measuredAt),
          state: r.state,
          attempts: r.attempts,
          createdAt: iso(r.createdAt),
          attemptedAt: r.attemptedAt ? iso(r.attemptedAt) : null,
          sentAt: r.sentAt ? iso(r.sentAt) : null,
          status: r.status,
          answer: r.answer,
          location: r.location,
          deviceLocation: r.deviceLocation,
          ...(bundle === 'true' ? { bundle: r.bundle } : {}),
        })),
      };
    },
  );

  app.post(
    '/mes-pushes/replay',
    {
      schema: {
        tags: ['mes'],
        summary: 'Sends refused or dead pushes again: one by id, or all of a patient (admin, operator)',
        body: z.union([z.object({ id: z.string() }).strict(), z.object({ patientId: idParam }).strict()]),
        response: { 200: z.object({ replayed: z.array(z.string()) }), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin', 'operator']);
      return { replayed: await replayMesPushes(db, request.body, deps.now()) };
    },
  );
}
