import { z } from 'zod';
import { markReviewed } from '../../actions/patient-reviews.ts';
import { AppError } from '../../errors.ts';
import { listReviews, type PatientReview } from '../../store/patient-reviews.repository.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { assertPatientVisible, audit, patientNotFound, principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, iso, page, review } from '../schemas.ts';
import { decodeJsonCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 422: errorBody };

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

export const toReview = (r: PatientReview) => ({
  patientId: r.patientId,
  day: r.day,
  reviewedAt: iso(r.reviewedAt),
  reviewedBy: r.reviewedBy,
  practitionerId: r.practitionerId,
});

/** "Reviewed" marks on a patient's data for a day: set and listed by the patient's clinicians, audited. */
export function reviewsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;

  app.post(
    '/patients/:id/reviews',
    {
      schema: {
        tags: ['patients'],
        summary: "Mark the patient's data reviewed for a patient-local day, today by default (clinician)",
        params: z.object({ id: idParam }),
        body: z
          .object({ day: day.optional().describe("YYYY-MM-DD, the patient's today by default; never a later day") })
          .nullish(),
        response: { 200: review, 201: review, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const patientId = request.params.id;
      assertPatientVisible(principal, patientId);
      if (!(await findPatient(db, patientId))) throw patientNotFound(patientId);
      const { review: mark, created } = await markReviewed(db, patientId, request.body?.day, principal, deps.now());
      await audit(db, request, principal, [patientId], 'patients.review', { day: mark.day });
      return reply.status(created ? 201 : 200).send(toReview(mark));
    },
  );

  app.get(
    '/patients/:id/reviews',
    {
      schema: {
        tags: ['patients'],
        summary: "The patient's reviewed marks, newest day first (clinician)",
        params: z.object({ id: idParam }),
        querystring: z.object({
          from: day.optional().describe('first day, inclusive'),
          to: day.optional().describe('last day, inclusive'),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().optional(),
        }),
        response: { 200: page(review), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const patientId = request.params.id;
      assertPatientVisible(principal, patientId);
      if (!(await findPatient(db, patientId))) throw patientNotFound(patientId);
      const { from, to, limit, cursor } = request.query;
      const after = decodeJsonCursor(cursor, z.object({ day, id: z.string().regex(/^\d{1,18}$/) }));
      if (from !== undefined && to !== undefined && from > to) {
        throw new AppError('invalid_input', 'from must not be after to');
      }
      const rows = await listReviews(db, { patientId, from, to, after, limit: limit + 1 });
      const items = rows.slice(0, limit);
      await audit(db, request, principal, [patientId], 'patients.reviews.list');
      const last = items.at(-1);
      return {
        items: items.map(toReview),
        nextCursor: rows.length > limit && last ? encodeCursor(JSON.stringify({ day: last.day, id: last.id })) : null,
      };
    },
  );
}
