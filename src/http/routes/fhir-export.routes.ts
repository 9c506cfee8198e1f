/**
 * The bulk export over HTTP (src/fhir/bulk-export.ts; README, "Data portability
 * (bulk export)"), inside the /fhir scope (its token hook, error handler and format
 * check), clinician tokens, their patients only:
 *
 *   GET    /fhir/Patient/{id}/$export     Prefer: respond-async → 202, Content-Location
 *   GET    /fhir/Group/{team}/$export     the care team's patients enrolled now that the caller sees
 *   GET    /fhir/$export-status/{job}     200 with the manifest (JSON), Expires
 *   DELETE /fhir/$export-status/{job}     202: the job is gone
 *   GET    /fhir/$export-file/{job}/Observation.ndjson   application/fhir+ndjson, streamed
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  createExportJob,
  deleteExportJob,
  type ExportJob,
  findExportJob,
  deviceLines,
  observationLines,
  patientLines,
  parseExportParams,
} from '../../fhir/bulk-export.ts';
import { findTeam, listEnrolments } from '../../store/care-teams.repository.ts';
import { findPatient } from '../../store/patients.repository.ts';
import type { Db } from '../../store/database.ts';
import { assertPatientVisible, audit, patientNotFound, principalName, requireRole } from '../auth.ts';
import { linkBase } from '../links.ts';
import { type FhirSend, rawQuery } from './fhir.routes.ts';
import type { RouteDeps, ZodApp } from './context.ts';

function requireRespondAsync(prefer: string | string[] | undefined): void {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  if (!values.some((v) => v.split(/[,;]/).some((p) => p.trim().toLowerCase() === 'respond-async'))) {
    throw new AppError('bad_request', 'a bulk export runs asynchronously: send Prefer: respond-async');
  }
}

/** The patients enrolled with a team now (its enrolments, by index, a page at a time). */
async function teamPatients(db: Db, teamId: string, at: Date): Promise<string[]> {
  const ids = new Set<string>();
  let afterId: string | undefined;
  for (;;) {
    const page = await listEnrolments(db, { teamId, activeAt: at, afterId, limit: 1000 });
    for (const e of page) ids.add(e.patientId);
    if (page.length < 1000) return [...ids].sort();
    afterId = page[page.length - 1].id;
  }
}

export function fhirExportRoutes(
  scope: ZodApp,
  deps: RouteDeps & { readonly readingMaxAgeMs: number },
  send: FhirSend,
): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);

  async function kickOff(
    request: FastifyRequest,
    reply: FastifyReply,
    kind: ExportJob['kind'],
    subjectId: string,
    patientIds: string[],
    query: Record<string, string | string[] | undefined>,
  ) {
    const principal = request.principal!;
    const { types, since } = parseExportParams(query);
    const base = linkBase(request, deps.publicUrl);
    const job = await createExportJob(db, {
      principal: principalName(principal),
      kind,
      subjectId,
      patientIds,
      types,
      since,
      transactionTime: deps.now(),
      requestUrl: `${base}${request.url}`,
    });
    await audit(db, request, principal, patientIds, 'fhir.export.kickoff', { job: job.id, kind, types });
    return send(reply.header('content-location', `${base}/fhir/$export-status/${job.id}`), 202, {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'information',
          code: 'informational',
          diagnostics: `export ${job.id} accepted: poll the Content-Location`,
        },
      ],
    });
  }

  scope.route({
    method: 'GET',
    url: '/Patient/:id/$export',
    schema: {
      tags: ['fhir'],
      summary: "FHIR Bulk Data kick-off: one patient's Observations as NDJSON (clinician; Prefer: respond-async)",
      params: z.object({ id: z.string() }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      requireRespondAsync(request.headers.prefer);
      const { id } = request.params;
      assertPatientVisible(principal, id);
      if (!(await findPatient(readDb(), id))) throw patientNotFound(id);
      return kickOff(request, reply, 'patient', id, [id], rawQuery(request.query));
    },
  });

  scope.route({
    method: 'GET',
    url: '/Group/:id/$export',
    schema: {
      tags: ['fhir'],
      summary:
        "FHIR Bulk Data kick-off: a care team's patients (enrolled now, that the caller sees) as NDJSON (clinician)",
      params: z.object({ id: z.string() }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      requireRespondAsync(request.headers.prefer);
      const { id } = request.params;
      const reads = readDb();
      const team = await findTeam(reads, id);
      const visible = team
        ? (await teamPatients(reads, team.id, deps.now())).filter((p) => principal.patientIds?.has(p))
        : [];
      // A team none of whose patients the caller sees: as if it did not exist.
      if (visible.length === 0) throw new AppError('not_found', `Group/${id} does not exist`);
      return kickOff(request, reply, 'group', id, visible, rawQuery(request.query));
    },
  });

  async function ownJob(request: { principal?: Parameters<typeof principalName>[0] }, id: string) {
    const job = await findExportJob(db, id, principalName(request.principal!), deps.now());
    if (!job) throw new AppError('not_found', `export ${id} does not exist (or expired)`);
    return job;
  }

  scope.route({
    method: 'GET',
    url: '/$export-status/:job',
    schema: {
      tags: ['fhir'],
      summary: 'FHIR Bulk Data status: the manifest of the export (its files are generated as they are downloaded)',
      params: z.object({ job: z.string() }),
    },
    handler: async (request, reply) => {
      requireRole(request.principal!, ['clinician']);
      const job = await ownJob(request, request.params.job);
      const base = linkBase(request, deps.publicUrl);
      return reply
        .status(200)
        .header('content-type', 'application/json; charset=utf-8')
        .header('expires', job.expiresAt.toUTCString())
        .send(
          JSON.stringify({
            transactionTime: job.transactionTime.toISOString(),
            request: job.requestUrl,
            requiresAccessToken: true,
            output: job.types.map((type) => ({ type, url: `${base}/fhir/$export-file/${job.id}/${type}.ndjson` })),
            error: [],
          }),
        );
    },
  });

  scope.route({
    method: 'DELETE',
    url: '/$export-status/:job',
    schema: {
      tags: ['fhir'],
      summary: 'FHIR Bulk Data: delete an export (its status and files are 404 from then on)',
      params: z.object({ job: z.string() }),
    },
    handler: async (request, reply) => {
      requireRole(request.principal!, ['clinician']);
      const job = await ownJob(request, request.params.job);
      await deleteExportJob(db, job.id);
      return reply.status(202).send();
    },
  });

  scope.route({
    method: 'GET',
    url: '/$export-file/:job/:file',
    schema: {
      tags: ['fhir'],
      summary: "FHIR Bulk Data output file: NDJSON, one resource a line, streamed from the store (the job's caller)",
      params: z.object({ job: z.string(), file: z.string() }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      const job = await ownJob(request, request.params.job);
      const type = request.params.file.replace(/\.ndjson$/, '');
      if (!job.types.some((t) => `${t}.ndjson` === request.params.file)) {
        throw new AppError('not_found', `export ${job.id} has no file ${request.params.file}`);
      }
      // Scoping holds at download: a patient who left the caller's care since the kick-off is left out.
      const patients = job.patientIds.filter((p) => principal.patientIds?.has(p));
      await audit(db, request, principal, patients, 'fhir.export.download', { job: job.id, type });
      const reads = readDb();
      const maxAge = deps.readingMaxAgeMs;
      async function* lines(): AsyncGenerator<string> {
        if (type === 'Patient') yield* patientLines(reads, patients);
        else if (type === 'Device') yield* deviceLines(reads, patients, deps.now(), deps.fhirProfiles);
        else for (const p of patients) yield* observationLines(reads, job, p, maxAge, deps.fhirProfiles);
      }
      return reply
        .status(200)
        .header('content-type', 'application/fhir+ndjson')
        .send(Readable.from(lines(), { objectMode: false }));
    },
  });
}
