import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { REJECTION_REASONS } from '../../domain/rejection-reasons.ts';
import { listRejections } from '../../store/rejections.repository.ts';
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
      const after = decodeCursor(cursor);
      if (after !== undefined && !/^\d{1,18}$/.test(after)) {
        throw new AppError('bad_request', 'cursor is not one this API returned');
      }
      const rows = await listRejections(deps.db, { deviceId: device, reason, beforeId: after, limit: limit + 1 });
      const items = rows.slice(0, limit);
      return {
        items: items.map((r) => ({
          deviceId: r.deviceId,
          readingId: r.readingId,
          reason: r.reason,
          detail: r.detail,
          receivedAt: iso(r.receivedAt),
          raw: {
            kept: r.rawDropped === null,
            size: r.rawSize,
            sha256: r.rawSha256,
            notKeptBecause: r.rawDropped,
          },
        })),
        nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null,
      };
    },
  );
}
