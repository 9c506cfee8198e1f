/**
 * FHIR R4 facade (interfaces.md, "Outside /api/v1"; README, "FHIR R4"):
 * GET /fhir/metadata, GET /fhir/Observation (search) and GET /fhir/Observation/{id}
 * (read) of the patient's readings and CGM summary indicators as Observations
 * (src/fhir/observations.ts), the DetectedIssue routes and the bulk export, in
 * application/fhir+json only. Clinician tokens only, for their patients: any other
 * patient is a 404. Errors are OperationOutcomes.
 *
 * Order of the search results: the CGM summaries first (in the order of
 * CGM_SUMMARIES), then the readings newest first, keyset-paginated on (measured time,
 * device, reading id) as GET /api/v1/patients/{id}/readings, so that readings stored
 * between two pages never make one appear twice or vanish (src/fhir/observation-query.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { CGM_SUMMARIES, opaqueId, readingObservation } from '../../fhir/observations.ts';
import {
  anyMatchingReading,
  countMatchingReadings,
  DEFAULT_READING_MAX_AGE_MS,
  matchingCgmSummaries,
  matchingReadingsPage,
  type ObservationCriteria,
  readingFilters,
  withLastUpdated,
} from '../../fhir/observation-query.ts';
import { capabilityStatement } from '../../fhir/capability-statement.ts';
import { issueTypeOf, operationOutcome } from '../../fhir/outcome.ts';
import { acceptsFhirJson, parseObservationSearch, prefersLenient, type RawQuery } from '../../fhir/search-params.ts';
import { FHIR_JSON, type Observation, type SearchsetBundle } from '../../fhir/types.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { readingsByFhirDigest } from '../../store/reading-by-fhir-id.ts';
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
import { fhirExportRoutes } from './fhir-export.routes.ts';

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

export function sendFhir(reply: FastifyReply, status: number, body: unknown) {
  return reply.status(status).header('content-type', FHIR_JSON).send(JSON.stringify(body));
}

/** The query string as parsed, unvalidated: the search refuses (or, lenient, ignores) what it does not honour. */
export const rawQuery = (query: unknown): RawQuery => query as RawQuery;

const READING_ID = /^r-[0-9a-f]{40}$/;
const CGM_ID = /^cgm-[0-9a-f]{40}$/;

/** Registered with the prefix /fhir: `app.register(fhirRoutes(deps), { prefix: '/fhir' })`. */
export function fhirRoutes(deps: RouteDeps & { readonly readingMaxAgeMs?: number }) {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);
  const readingMaxAgeMs = deps.readingMaxAgeMs ?? DEFAULT_READING_MAX_AGE_MS;
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
    // The CapabilityStatement is public (clients read it before they have a token). Then the format:
    // JSON only, so `_format` or Accept asking for anything else is a 406 (R4 http.html#mime-type).
    scope.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url !== '/fhir/metadata') {
        request.principal = await authenticateRequest(deps, request);
      }
      // The export's files are NDJSON (src/http/routes/fhir-export.routes.ts).
      if (request.routeOptions.url?.startsWith('/fhir/$export-file/')) return;
      const format = (request.query as Record<string, unknown>)._format;
      const accept = request.headers.accept;
      if (!acceptsFhirJson(typeof format === 'string' ? format : undefined, accept)) {
        return sendFhir(
          reply,
          406,
          operationOutcome(
            'not-supported',
            `this server answers FHIR JSON only (application/fhir+json); ${typeof format === 'string' ? `_format=${format}` : `Accept: ${accept}`} asks for another format`,
          ),
        );
      }
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

    scope.route({
      method: 'GET',
      url: '/Observation',
      schema: {
        tags: ['fhir'],
        summary: 'FHIR R4 search of Observations: readings and CGM summaries (clinician)',
        description:
          'A searchset Bundle (application/fhir+json) of vital-signs Observations (LOINC codes, UCUM units) and CGM summary Observations (HL7 CGM IG codes). Parameters: patient or subject, code, category, date, _lastUpdated, _count, _summary=count, _total, _format (GET /fhir/metadata). Others: 400 unless Prefer: handling=lenient. Errors are OperationOutcomes.',
      },
      handler: async (request, reply) => {
        const principal = request.principal ?? (await authenticateRequest(deps, request));
        request.principal = principal;
        requireRole(principal, ['clinician']);
        const search = parseObservationSearch(rawQuery(request.query), prefersLenient(request.headers.prefer));
        const cursor = parseCursor(search.cursor);
        assertPatientVisible(principal, search.patientId);
        const reads = readDb();
        const patient = await findPatient(reads, search.patientId);
        if (!patient) throw patientNotFound(search.patientId);
        const criteria: ObservationCriteria = {
          patientId: patient.id,
          codes: search.codes,
          categories: search.categories,
          dates: search.dates,
          lastUpdated: search.lastUpdated,
          readingMaxAgeMs,
        };
        const summaries = await matchingCgmSummaries(reads, criteria);
        const filters = readingFilters(criteria);
        // FHIR R4 search, `_total` and `_summary=count`: counting reads every matching reading
        // of the patient's history, so it is done only when the client asks for it (first page only).
        const wantsTotal = search.summaryCount || (cursor === undefined && search.total);
        const readingCount = wantsTotal ? await countMatchingReadings(reads, filters) : undefined;

        const entries: Observation[] = [];
        let next: Cursor | undefined;
        if (!search.summaryCount) {
          const count = search.count;
          // The CGM summaries not yet given (none once the readings have begun).
          const after = cursor === undefined ? -1 : cursor[0] === 'i' ? summaryIndex(cursor[1]) : Infinity;
          const pending = summaries.filter((s) => s.index > after);
          const taken = pending.slice(0, count);
          entries.push(...taken.map((s) => s.observation));
          const room = count - taken.length;
          if (room === 0) {
            // A page of summaries only: whether readings follow is one index probe per interval.
            const readingsFollow =
              readingCount !== undefined ? readingCount > 0 : await anyMatchingReading(reads, filters);
            if (pending.length > taken.length || readingsFollow) next = ['i', taken[taken.length - 1].code];
          } else if (readingCount !== 0) {
            const keyset = cursor?.[0] === 'r' ? cursor : undefined;
            const { readings, next: end } = await matchingReadingsPage(
              reads,
              filters,
              keyset ? [keyset[1], keyset[2], keyset[3]] : undefined,
              room,
            );
            entries.push(...readings.map((r) => readingObservation(patient.id, r)));
            if (end) next = ['r', ...end];
          }
        }

        await audit(db, request, principal, [patient.id], 'fhir.observation.search', {
          code: search.codes === undefined ? null : (rawQuery(request.query).code ?? null),
          date: search.dates.length > 0 ? search.echo.filter(([k]) => k === 'date').map(([, v]) => v) : null,
          count: entries.length,
          ...(search.summaryCount ? { summary: 'count' } : {}),
        });

        const base = linkBase(request, deps.publicUrl);
        const selfParams = new URLSearchParams(search.echo);
        if (search.cursor !== undefined) selfParams.set('_cursor', search.cursor);
        const links: SearchsetBundle['link'] = [{ relation: 'self', url: `${base}/fhir/Observation?${selfParams}` }];
        if (next) {
          const params = new URLSearchParams(search.echo);
          params.set('_count', String(search.count));
          params.set('_cursor', encodeCursor(JSON.stringify(next)));
          links.push({ relation: 'next', url: `${base}/fhir/Observation?${params}` });
        }
        const bundle: SearchsetBundle = {
          resourceType: 'Bundle',
          id: randomUUID(),
          meta: { lastUpdated: deps.now().toISOString() },
          type: 'searchset',
          ...(readingCount !== undefined ? { total: summaries.length + readingCount } : {}),
          link: links,
          ...(search.summaryCount
            ? {}
            : {
                entry: entries.map((resource) => ({
                  fullUrl: `${base}/fhir/Observation/${resource.id}`,
                  resource: withLastUpdated(resource),
                  search: { mode: 'match' as const },
                })),
              }),
        };
        return sendFhir(reply, 200, bundle);
      },
    });

    scope.route({
      method: 'GET',
      url: '/Observation/:id',
      schema: {
        tags: ['fhir'],
        summary: 'FHIR R4 read of an Observation: a reading or a CGM summary, by the id the search gives (clinician)',
        params: z.object({ id: z.string() }),
        querystring: z.object({ _format: z.string().optional() }),
      },
      handler: async (request, reply) => {
        const principal = request.principal!;
        requireRole(principal, ['clinician']);
        const { id } = request.params;
        const reads = readDb();
        const notFound = () => new AppError('not_found', `Observation/${id} does not exist`);
        let found: Observation | undefined;
        let patientId: string | undefined;
        if (READING_ID.test(id)) {
          // One index probe per monthly partition (src/store/reading-by-fhir-id.ts); the whole id compared here.
          const rows = (await readingsByFhirDigest(reads, Buffer.from(id.slice(2, 18), 'hex'))).filter(
            (r) => opaqueId('r', r.deviceId, r.readingId) === id,
          );
          const row = rows[0];
          if (row) {
            // Another clinician's reading: the 404 of a patient that does not exist, audited as denied.
            assertPatientVisible(principal, row.patientId);
            patientId = row.patientId;
            found = readingObservation(row.patientId, row);
          }
        } else if (CGM_ID.test(id)) {
          // The id is a digest of (patient, code): matched against the caller's patients only.
          const match = [...(principal.patientIds ?? [])]
            .flatMap((p) => CGM_SUMMARIES.map((s) => ({ p, code: s.code })))
            .find(({ p, code }) => opaqueId('cgm', p, code) === id);
          if (match) {
            const summaries = await matchingCgmSummaries(reads, { patientId: match.p, readingMaxAgeMs });
            found = summaries.find((s) => s.code === match.code)?.observation;
            patientId = match.p;
          }
        }
        if (!found || patientId === undefined) throw notFound();
        await audit(db, request, principal, [patientId], 'fhir.observation.read', { id });
        return sendFhir(reply, 200, withLastUpdated(found));
      },
    });

    // Issue #15, item 5: the bulk export ($export kick-off, status, files).
    fhirExportRoutes(scope, { ...deps, readingMaxAgeMs }, sendFhir);
  };
}

function summaryIndex(code: string): number {
  const i = CGM_SUMMARY_CODES.indexOf(code);
  if (i === -1) throw new AppError('bad_request', '_cursor is not one this server returned');
  return i;
}

const CGM_SUMMARY_CODES: readonly string[] = CGM_SUMMARIES.map((s) => s.code);
