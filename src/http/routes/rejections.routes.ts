import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { REJECTION_REASONS } from '../../domain/rejection-reasons.ts';
import { principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, iso, page, rejection } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 422: errorBody };

/** Rejected readings, newest first, for operators. */
export function rejectionsRoutes(app: ZodApp, deps: RouteDeps): void {
  app.get(
    '/rejections',
    {
      schema: {
        tags: ['operations'],
        summary: 'Rejected readings with their reasons, newest first (operator)',
        querystring: z.object({
          device: idParam.optional(),
          reason: z.enum(REJECTION_REASONS).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().optional(),
        }),
        response: { 200: page(rejection), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['operator', 'admin']);
      const { device, reason, limit, cursor } = request.query;
      let q = deps.db
        .selectFrom('rejections')
        .select(['id', 'device_id', 'reading_id', 'reason', 'detail', 'received_at'])
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (device) q = q.where('device_id', '=', device);
      if (reason) q = q.where('reason', '=', reason);
      const after = decodeCursor(cursor);
      if (after !== undefined) {
        if (!/^\d{1,18}$/.test(after)) throw new AppError('bad_request', 'cursor is not one this API returned');
        q = q.where('id', '<', after);
      }
      const rows = await q.execute();
      const items = rows.slice(0, limit);
      return {
        items: items.map((r) => ({
          deviceId: r.device_id,
          readingId: r.reading_id,
          reason: r.reason as (typeof REJECTION_REASONS)[number],
          detail: r.detail,
          receivedAt: iso(r.received_at),
        })),
        nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null,
      };
    },
  );
}
