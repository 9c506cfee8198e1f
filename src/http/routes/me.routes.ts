import { z } from 'zod';
import { careOf } from '../../actions/care-teams.ts';
import { ROLES } from '../../actions/tokens.ts';
import { principalOf } from '../auth.ts';
import { errorBody, practitioner, team } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

/** `GET /api/v1/me`: who the token belongs to, so a client can show the views it may open. */
export function meRoutes(app: ZodApp, deps: Pick<RouteDeps, 'db' | 'now'>): void {
  app.get(
    '/me',
    {
      schema: {
        tags: ['tokens'],
        summary: "The caller's role and, for a clinician, their patients, and the practitioner they act as",
        response: {
          200: z.object({
            role: z.enum(ROLES),
            patientIds: z
              .array(z.string())
              .nullable()
              .describe("null: not limited to a list (admin, operator); a practitioner's: those of their teams now"),
            practitioner: practitioner
              .nullable()
              .describe('the practitioner a clinician token acts as (README, "Care teams"); null: none'),
            teams: z.array(team).describe("the practitioner's teams, each with whether it is on duty now"),
          }),
          401: errorBody,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const care = principal.practitionerId
        ? await careOf(deps.db, principal.practitionerId, deps.now())
        : { practitioner: null, teams: [] };
      return {
        role: principal.role,
        patientIds: principal.patientIds ? [...principal.patientIds].sort() : null,
        practitioner: care.practitioner,
        teams: care.teams,
      };
    },
  );
}
