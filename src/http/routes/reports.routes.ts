import { z } from 'zod';
import { assertMayReadTeamReport, teamActivityReport } from '../../actions/activity-report.ts';
import { activityCsv } from '../../domain/activity-report.ts';
import { audit, principalOf } from '../auth.ts';
import { activityReport, errorBody, idParam } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };

/** The monthly activity report of a care team (README, "Monthly activity report"). */
export function reportsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;
  app.get(
    '/reports/activity',
    {
      schema: {
        tags: ['reports'],
        summary: "A care team's monthly activity report (admin, or a practitioner member of the team)",
        description:
          'JSON, or CSV (text/csv, one line for the team then one per patient) with format=csv or Accept: text/csv.',
        querystring: z.object({
          team: idParam.describe('the care team'),
          month: z
            .string()
            .regex(/^2\d{3}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM, e.g. 2026-11')
            .describe("YYYY-MM, a calendar month in the team's time zone"),
          format: z
            .enum(['json', 'csv'])
            .optional()
            .describe('csv: text/csv; default: JSON unless Accept asks for text/csv'),
        }),
        response: { 200: activityReport, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { team, month, format } = request.query;
      await assertMayReadTeamReport(db, principal, team);
      const report = await teamActivityReport(db, team, month, deps.now());
      // Counts about each patient of the report: every one of them is written down as read.
      await audit(
        db,
        request,
        principal,
        report.patients.map((p) => p.patientId),
        'reports.activity',
        { team, month },
      );
      const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/.test(request.headers.accept ?? ''));
      if (csv) {
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="activity-${team}-${month}.csv"`)
          .send(activityCsv(report) as never); // a string: sent as it is, not serialized
      }
      return report;
    },
  );
}
