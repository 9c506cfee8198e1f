/**
 * FHIR R4 facade (interfaces.md, "Outside /api/v1"):
 * GET /fhir/Observation?patient&code&date&_count — a searchset Bundle of the
 * patient's readings and CGM summary indicators as Observations
 * (src/fhir/observations.ts), application/fhir+json. Clinician tokens only, for
 * their patients: any other patient is a 404. Errors are OperationOutcomes.
 *
 * Order of the results: the CGM summaries first (in the order of CGM_SUMMARIES),
 * then the readings newest first, keyset-paginated on (measured time, device,
 * reading id) as GET /api/v1/patients/{id}/readings, so that readings stored
 * between two pages never make one appear twice or vanish.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  CGM_INDICATOR_KEYS,
  CGM_SUMMARIES,
  cgmObservations,
  readingObservation,
  readingTypesMatching,
} from '../../fhir/observations.ts';
import { capabilityStatement } from '../../fhir/capability-statement.ts';
import { issueTypeOf, operationOutcome } from '../../fhir/outcome.ts';
import {
  codingMatches,
  measuredAtBounds,
  parseCodes,
  parseCount,
  parseDates,
  parsePatient,
  periodMatches,
} from '../../fhir/search-params.ts';
import { FHIR_JSON, type Observation, type SearchsetBundle } from '../../fhir/types.ts';
import { findIndicators } from '../../store/indicators.repository.ts';
import { findPatient } from '../../store/patients.repository.ts';
import type { ReadingFilter } from '../../store/reading-filter.ts';
import { readingsPage } from '../../store/readings-page.ts';
import { countReadings, hasReadings } from '../../store/readings.repository.ts';
import {
  assertPatientVisible,
  audit,
  auditRefusal,
  patientNotFound,
  authenticateRequest,
  requireRole,
} from '../auth.ts';
import { READING_ID_PATTERN } from '../../domain/protocol.ts';
import { linkBase } from '../links.ts';
import { idParam } from '../schemas.ts';
import { decodeJsonCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';
import { fhirDetectedIssueRoutes } from './fhir-detected-issues.routes.ts';
import { fhirPatientRoutes } from './fhir-patient.routes.ts';
import { fhirDeviceRoutes } from './fhir-device.routes.ts';

/** Where a page ended: after a CGM summary (its code), or after a reading (at in µs, device, reading id). */
const cursorSchema = z.union([
  z.tuple([z.literal('i'), z.string().regex(/^[a-z0-9-]{1,64}$/)]),
  z.tuple([z.literal('r'), z.number().int(), idParam, z.string().regex(READING_ID_PATTERN)]),
]);
type Cursor = z.infer<typeof cursorSchema>;

function parseCursor(raw: string | undefined): Cursor | undefined {
  return decodeJsonCursor(raw, cursorSchema, '_cursor is not one this server returned');
}

export type FhirSend = (reply: FastifyReply, status: number, body: unknown) => FastifyReply;

function sendFhir(reply: FastifyReply, status: number, body: unknown) {
  return reply.status(status).header('content-type', FHIR_JSON).send(JSON.stringify(body));
}

const querystring = z.object({
  patient: z.string().optional().describe('required: Patient/{id} or {id}'),
  code: z.string().optional().describe('comma-separated tokens: http://loinc.org|8867-4 or 8867-4'),
  date: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('repeatable: eq, ge, gt, le or lt and an RFC 3339 date-time, e.g. ge2024-05-01T00:00:00Z'),
  _count: z.string().optional().describe('page size, 1 to 1000, default 50'),
  _cursor: z.string().optional().describe('opaque: from the next link'),
  _total: z
    .enum(['none', 'estimate', 'accurate'])
    .optional()
    .describe('accurate or estimate: Bundle.total on the first page (counts every match); none (default): no total'),
});

/** Registered with the prefix /fhir: `app.register(fhirRoutes(deps), { prefix: '/fhir' })`. */
export function fhirRoutes(deps: RouteDeps) {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);
  return async function fhir(scope: ZodApp): Promise<void> {
    scope.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
      if (!(await auditRefusal(db, request, error))) {
        return sendFhir(reply, 500, operationOutcome('exception', 'internal error; the service log has the details'));
      }
      if (error instanceof AppError) {
        if (error.status === 401) reply.header('www-authenticate', 'Bearer');
        if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
        return sendFhir(reply, error.status, operationOutcome(issueTypeOf(error.status), error.message));
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        const detail = error.validation
          .map((v) => `${String(v.instancePath).split('/').filter(Boolean).join('.') || 'query'}: ${v.message}`)
          .join('; ');
        return sendFhir(reply, 400, operationOutcome('invalid', `invalid search parameters: ${detail}`));
      }
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        return sendFhir(reply, 400, operationOutcome('invalid', error.message));
      }
      request.log.error({ err: error, url: request.routeOptions.url }, 'FHIR request failed');
      return sendFhir(reply, 500, operationOutcome('exception', 'internal error; the service log has the details'));
    });
    scope.setNotFoundHandler(async (request, reply) => {
      await deps.limits?.unknownRoute(request);
      return sendFhir(
        reply,
        404,
        operationOutcome('not-found', `no FHIR interaction for ${request.method} ${request.url.split('?')[0]}`),
      );
    });

    // Who is calling comes first: a request without a valid token is a 401 before its parameters are looked at.
    // The CapabilityStatement is public (clients read it before they have a token).
    scope.addHook('onRequest', async (request) => {
      if (request.routeOptions.url === '/fhir/metadata') return;
      request.principal = await authenticateRequest(deps, request);
    });

    scope.route({
      method: 'GET',
      url: '/metadata',
      schema: { tags: ['fhir'], summary: 'FHIR R4 CapabilityStatement: what this facade serves (public)' },
      handler: async (request, reply) => sendFhir(reply, 200, capabilityStatement(linkBase(request, deps.publicUrl))),
    });

    // Issue #14, item 3: alerts as DetectedIssue, with the Observations that raised them.
    fhirDetectedIssueRoutes(scope, deps, sendFhir);
    // Issue #15, item 1: Patient read (FR Core, INS).
    fhirPatientRoutes(scope, deps, sendFhir);
    fhirDeviceRoutes(scope, deps, sendFhir);

    scope.route({
      method: 'GET',
      url: '/Observation',
      schema: {
        tags: ['fhir'],
        summary: 'FHIR R4 search of Observations: readings and CGM summaries (clinician)',
        description:
          'A searchset Bundle (application/fhir+json) of vital-signs Observations (LOINC codes, UCUM units) and CGM summary Observations (HL7 CGM IG codes). Errors are OperationOutcomes.',
        querystring,
      },
      handler: async (request, reply) => {
        const principal = request.principal ?? (await authenticateRequest(deps, request));
        request.principal = principal;
        requireRole(principal, ['clinician']);
        const q = request.query;
        const patientId = parsePatient(q.patient);
        const codes = parseCodes(q.code);
        const dates = parseDates(q.date);
        const count = parseCount(q._count);
        const cursor = parseCursor(q._cursor);
        assertPatientVisible(principal, patientId);
        const reads = readDb();
        const patient = await findPatient(reads, patientId);
        if (!patient) throw patientNotFound(patientId);

        const matches = (codings: readonly { system: string; code: string }[]) =>
          codes === undefined || codingMatches(codes, codings);
        const types = readingTypesMatching(matches);

        // CGM summaries: few, filtered here.
        const indicators = await findIndicators(reads, patient.id, CGM_INDICATOR_KEYS);
        const summaries = cgmObservations(patient.id, indicators, deps.fhirProfiles).filter(
          (s) => matches(s.observation.code.coding) && dates.every((d) => periodMatches(d, s.from, s.to)),
        );

        const filter: ReadingFilter = {
          patientId: patient.id,
          type: types,
          measuredAt: dates.flatMap(measuredAtBounds),
        };
        // FHIR R4 search, `_total`: Bundle.total is optional. Counting reads every matching
        // reading of the patient's history, so it is done only when the client asks for it
        // (and on the first page only).
        const wantsTotal = cursor === undefined && (q._total === 'accurate' || q._total === 'estimate');
        const readingCount = types.length === 0 ? 0 : wantsTotal ? await countReadings(reads, filter) : undefined;

        const entries: Observation[] = [];
        let next: Cursor | undefined;
        // The CGM summaries not yet given (none once the readings have begun).
        const after = cursor === undefined ? -1 : cursor[0] === 'i' ? summaryIndex(cursor[1]) : Infinity;
        const pending = summaries.filter((s) => s.index > after);
        const taken = pending.slice(0, count);
        entries.push(...taken.map((s) => s.observation));
        const room = count - taken.length;
        if (room === 0) {
          // A page of summaries only: whether readings follow is one index probe.
          const readingsFollow =
            readingCount !== undefined ? readingCount > 0 : types.length > 0 && (await hasReadings(reads, filter));
          if (pending.length > taken.length || readingsFollow) next = ['i', taken[taken.length - 1].code];
        } else if (readingCount !== 0 && types.length > 0) {
          // The page itself says whether there are readings: no probe beforehand.
          const keyset = cursor?.[0] === 'r' ? cursor : undefined;
          const { readings: page, next: after } = await readingsPage(
            reads,
            filter,
            keyset ? [keyset[1], keyset[2], keyset[3]] : undefined,
            room,
          );
          entries.push(...page.map((r) => readingObservation(patient.id, r, deps.fhirProfiles)));
          if (after) next = ['r', ...after];
        }

        await audit(db, request, principal, [patient.id], 'fhir.observation.search', {
          code: q.code ?? null,
          date: dates.length > 0 ? (Array.isArray(q.date) ? q.date : [q.date]) : null,
          count: entries.length,
        });

        const base = linkBase(request, deps.publicUrl);
        const self = `${base}${request.url}`;
        const links: SearchsetBundle['link'] = [{ relation: 'self', url: self }];
        if (next) {
          const params = new URLSearchParams({ patient: `Patient/${patient.id}` });
          if (q.code !== undefined) params.set('code', q.code);
          for (const d of q.date === undefined ? [] : Array.isArray(q.date) ? q.date : [q.date]) {
            params.append('date', d);
          }
          params.set('_count', String(count));
          params.set('_cursor', encodeCursor(JSON.stringify(next)));
          links.push({ relation: 'next', url: `${base}/fhir/Observation?${params}` });
        }
        const bundle: SearchsetBundle = {
          resourceType: 'Bundle',
          id: randomUUID(),
          meta: { lastUpdated: deps.now().toISOString() },
          type: 'searchset',
          ...(wantsTotal ? { total: summaries.length + (readingCount ?? 0) } : {}),
          link: links,
          entry: entries.map((resource) => ({
            fullUrl: `${base}/fhir/Observation/${resource.id}`,
            resource,
            search: { mode: 'match' },
          })),
        };
        return sendFhir(reply, 200, bundle);
      },
    });
  };
}

function summaryIndex(code: string): number {
  const i = CGM_SUMMARY_CODES.indexOf(code);
  if (i === -1) throw new AppError('bad_request', '_cursor is not one this server returned');
  return i;
}

const CGM_SUMMARY_CODES: readonly string[] = CGM_SUMMARIES.map((s) => s.code);
