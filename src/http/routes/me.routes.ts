import { z } from 'zod';
import { ROLES } from '../../actions/tokens.ts';
import { principalOf } from '../auth.ts';
import { errorBody } from '../schemas.ts';
import type { ZodApp } from './context.ts';

/** `GET /api/v1/me`: who the token belongs to, so a client can show the views it may open. */
export function meRoutes(app: ZodApp): void {
  app.get(
    '/me',
    {
      schema: {
        tags: ['tokens'],
        summary: "The caller's role and, for a clinician, their patients",
        response: {
          200: z.object({
            role: z.enum(ROLES),
            patientIds: z.array(z.string()).nullable().describe('null: not limited to a list (admin, operator)'),
          }),
          401: errorBody,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        role: principal.role,
        patientIds: principal.patientIds ? [...principal.patientIds].sort() : null,
      };
    },
  );
}
