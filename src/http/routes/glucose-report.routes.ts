import { z } from 'zod';
import { glucoseReport } from '../../actions/glucose-report.ts';
import { REPORT_DEFAULT_DAYS, REPORT_MAX_DAYS } from '../../domain/glucose-report.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { glucoseReportPdf } from '../glucose-report-pdf.ts';
import { assertPatientVisible, audit, patientNotFound, principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 422: errorBody };

const days = z.coerce
  .number()
  .int()
  .min(1)
  .max(REPORT_MAX_DAYS)
  .default(REPORT_DEFAULT_DAYS)
  .describe(
    `the period in days (default ${REPORT_DEFAULT_DAYS}, at most ${REPORT_MAX_DAYS}), ending where the CGM indicators end`,
  );

const percentiles = z.array(z.number().nullable());
const report = z.object({
  patient: z.object({ id: z.string(), displayName: z.string().nullable(), timeZone: z.string() }),
  days: z.number().int(),
  from: z.string().describe('the period is from < at ≤ to'),
  to: z.string(),
  source: z
    .enum(['indicators', 'readings'])
    .describe('indicators: the stored CGM indicators, as GET /patients/{id}/indicators (14 days)'),
  computedAt: z.string().nullable(),
  sufficient: z.boolean().describe('sensor active ≥ 70 %'),
  statistics: z.array(
    z.object({
      key: z.string(),
      value: z.number().nullable(),
      unit: z.string(),
      n: z.number().int(),
      sufficient: z.boolean(),
    }),
  ),
  ranges: z.array(
    z.object({
      key: z.string(),
      range: z.string(),
      value: z.number().nullable(),
      target: z.object({ op: z.enum(['<', '>']), percent: z.number() }),
      combinedWith: z.string().optional(),
    }),
  ),
  agp: z
    .object({
      x: z.array(z.number()),
      p5: percentiles,
      p25: percentiles,
      p50: percentiles,
      p75: percentiles,
      p95: percentiles,
      days: z.number().int(),
      n: z.number().int().describe('readings behind the profile: the statistics’ n'),
    })
    .describe('per 15-minute slot of the local day (x: seconds since midnight of the slot centre)'),
  daily: z.array(
    z.object({
      date: z.string(),
      n: z.number().int(),
      runs: z.array(z.array(z.tuple([z.number(), z.number()]))).describe('[seconds since local midnight, mg/dL]'),
    }),
  ),
});

/** The glucose report (README, "Glucose report (AGP)"): JSON for the dashboard, PDF to print or file. */
export function glucoseReportRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);

  const load = async (request: Parameters<typeof principalOf>[0], id: string, n: number, format: 'json' | 'pdf') => {
    const principal = principalOf(request);
    requireRole(principal, ['clinician']);
    assertPatientVisible(principal, id);
    const reads = readDb();
    const patient = await findPatient(reads, id);
    if (!patient) throw patientNotFound(id);
    const [result] = await Promise.all([
      glucoseReport(reads, patient, n, deps.now().getTime()),
      audit(db, request, principal, [patient.id], 'glucose_report.read', { days: n, format }),
    ]);
    return result;
  };

  app.get(
    '/patients/:id/glucose-report',
    {
      schema: {
        tags: ['indicators'],
        summary: "The patient's glucose report (AGP): statistics, time in ranges, AGP, daily profiles (clinician)",
        params: z.object({ id: idParam }),
        querystring: z.object({ days }),
        response: { 200: report, ...errors },
      },
    },
    async (request) => load(request, request.params.id, request.query.days, 'json'),
  );

  app.get(
    '/patients/:id/glucose-report.pdf',
    {
      schema: {
        tags: ['indicators'],
        summary: "The patient's glucose report (AGP) as a one-page PDF (clinician)",
        description: 'application/pdf: the numbers of GET /patients/{id}/glucose-report, drawn on one page.',
        params: z.object({ id: idParam }),
        querystring: z.object({
          days,
          paper: z.enum(['a4', 'letter']).default('a4').describe('page size'),
        }),
        response: { 200: z.unknown().describe('the PDF document'), ...errors },
      },
    },
    async (request, reply) => {
      const result = await load(request, request.params.id, request.query.days, 'pdf');
      const pdf = await glucoseReportPdf(
        result,
        deps.now().getTime(),
        request.query.paper === 'letter' ? 'LETTER' : 'A4',
      );
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', `inline; filename="glucose-report-${result.patient.id}.pdf"`)
        .send(pdf);
    },
  );
}
