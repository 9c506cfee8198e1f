/**
 * Alerts over FHIR R4 as DetectedIssue resources (src/fhir/detected-issues.ts):
 * GET /fhir/DetectedIssue?patient&_count (a searchset Bundle, newest alert first,
 * keyset pages on the alert id) and GET /fhir/DetectedIssue/{id}. Clinician tokens
 * only, for their patients: any other patient or alert is a 404. Registered inside
 * the /fhir scope of fhir.routes.ts, which answers errors as OperationOutcomes.
 * Cost: the alerts' own rows (alerts_patient_rule index and primary key); the event
 * values are stored with the alert, so no reading is read.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { alertDetectedIssue } from '../../fhir/detected-issues.ts';
import { parseCount, parsePatient } from '../../fhir/search-params.ts';
import type { FhirSend } from './fhir.routes.ts';
import type { SearchsetBundle } from '../../fhir/types.ts';
import { findAlert, findAlerts, listAlertIds } from '../../store/alerts.repository.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { assertPatientVisible, audit, patientNotFound, requireRole } from '../auth.ts';
import { linkBase } from '../links.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

export function fhirDetectedIssueRoutes(scope: ZodApp, deps: RouteDeps, send: FhirSend): void {
  const { db } = deps;

  scope.route({
    method: 'GET',
    url: '/DetectedIssue',
    schema: {
      tags: ['fhir'],
      summary: "FHIR R4 search of DetectedIssues: the patient's alerts with their event (clinician)",
      description:
        'A searchset Bundle (application/fhir+json), newest alert first; implicated and evidence point at the Observations of the readings that raised each alert.',
      querystring: z.object({
        patient: z.string().optional().describe('required: Patient/{id} or {id}'),
        _count: z.string().optional().describe('page size, 1 to 1000, default 50'),
        _cursor: z.string().optional().describe('opaque: from the next link'),
      }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      const q = request.query;
      const patientId = parsePatient(q.patient);
      const count = parseCount(q._count);
      const before = decodeCursor(q._cursor);
      if (before !== undefined && !/^\d{1,18}$/.test(before)) {
        throw new AppError('bad_request', '_cursor is not one this server returned');
      }
      assertPatientVisible(principal, patientId);
      if (!(await findPatient(db, patientId))) throw patientNotFound(patientId);
      const ids = await listAlertIds(db, { patientIds: [patientId], beforeId: before, limit: count + 1 });
      const alerts = await findAlerts(db, ids.slice(0, count));
      await audit(db, request, principal, [patientId], 'fhir.detectedissue.search', { count: alerts.length });
      const base = linkBase(request, deps.publicUrl);
      const links: SearchsetBundle['link'] = [{ relation: 'self', url: `${base}${request.url}` }];
      if (ids.length > count) {
        const params = new URLSearchParams({
          patient: `Patient/${patientId}`,
          _count: String(count),
          _cursor: encodeCursor(alerts[alerts.length - 1].id),
        });
        links.push({ relation: 'next', url: `${base}/fhir/DetectedIssue?${params}` });
      }
      const bundle: SearchsetBundle = {
        resourceType: 'Bundle',
        id: randomUUID(),
        meta: { lastUpdated: deps.now().toISOString() },
        type: 'searchset',
        link: links,
        entry: alerts.map((a) => ({
          fullUrl: `${base}/fhir/DetectedIssue/${a.id}`,
          resource: alertDetectedIssue(a),
          search: { mode: 'match' },
        })),
      };
      return send(reply, 200, bundle);
    },
  });

  scope.route({
    method: 'GET',
    url: '/DetectedIssue/:id',
    schema: {
      tags: ['fhir'],
      summary: 'FHIR R4 read of a DetectedIssue: one alert with its event (clinician)',
      params: z.object({ id: z.string() }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      const { id } = request.params;
      const found = /^\d{1,18}$/.test(id) ? await findAlert(db, id) : undefined;
      // Another clinician's alert: as if it did not exist.
      if (!found || !principal.patientIds?.has(found.patientId)) {
        throw new AppError('not_found', `DetectedIssue/${id} does not exist`);
      }
      await audit(db, request, principal, [found.patientId], 'fhir.detectedissue.read', { alertId: found.id });
      return send(reply, 200, alertDetectedIssue(found));
    },
  });
}
