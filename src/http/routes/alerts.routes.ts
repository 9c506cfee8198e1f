import { z } from 'zod';
import { acknowledgeAlert } from '../../actions/alerts.ts';
import { ALERT_STATUSES, alertRule, isRuleKey } from '../../domain/alerts/index.ts';
import { AppError } from '../../errors.ts';
import { findAlert, findAlerts, listAlertIds, type StoredAlert } from '../../store/alerts.repository.ts';
import { assertPatientVisible, audit, AuditedNotFound, principalOf, requireRole } from '../auth.ts';
import { alert, errorBody, idParam, iso, page } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };

function toAlert(a: StoredAlert) {
  return {
    id: a.id,
    patientId: a.patientId,
    rule: a.rule,
    severity: isRuleKey(a.rule) ? alertRule(a.rule).severity : 'low',
    status: a.state.status,
    openedAt: iso(a.state.openedAt),
    acknowledgedAt: a.state.acknowledgedAt === null ? null : iso(a.state.acknowledgedAt),
    resolvedAt: a.state.resolvedAt === null ? null : iso(a.state.resolvedAt),
    threshold: a.state.threshold,
    readingIds: a.state.readingIds,
  };
}

/** Alerts of the clinician's patients: list, filter, acknowledge. */
export function alertsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;

  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: "Alerts of the caller's patients, newest first (clinician)",
        querystring: z.object({
          status: z.enum(ALERT_STATUSES).optional(),
          patient: idParam.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().optional(),
        }),
        response: { 200: page(alert), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const { status, patient, limit, cursor } = request.query;
      if (patient !== undefined) assertPatientVisible(principal, patient);
      const after = decodeCursor(cursor);
      if (after !== undefined && !/^\d{1,18}$/.test(after)) {
        throw new AppError('bad_request', 'cursor is not one this API returned');
      }
      const ids = await listAlertIds(db, {
        patientIds: patient !== undefined ? [patient] : [...(principal.patientIds ?? [])],
        status,
        beforeId: after,
        limit: limit + 1,
      });
      const alerts = await findAlerts(db, ids.slice(0, limit));
      // A clinician who asked about a patient read that patient's alerts, even if there were none.
      const read = new Set(alerts.map((a) => a.patientId));
      if (patient !== undefined) read.add(patient);
      await audit(db, request, principal, [...read], 'alerts.list');
      return {
        items: alerts.map(toAlert),
        nextCursor: ids.length > limit ? encodeCursor(alerts[alerts.length - 1].id) : null,
      };
    },
  );

  app.post(
    '/alerts/:id/acknowledge',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an alert; one whose condition already cleared is resolved (clinician)',
        params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be an alert id') }),
        response: { 200: alert, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const found = await findAlert(db, request.params.id);
      if (!found) throw new AppError('not_found', `alert ${request.params.id} does not exist`);
      // Not one of the clinician's patients: as if the alert did not exist, audited as denied.
      if (principal.role === 'clinician' && !principal.patientIds?.has(found.patientId)) {
        throw new AuditedNotFound(found.patientId, 'denied', `alert ${request.params.id} does not exist`);
      }
      const actor = principal.tokenId
        ? `token:${principal.tokenId}`
        : principal.practitionerId
          ? `practitioner:${principal.practitionerId}`
          : 'admin';
      const acknowledged = await acknowledgeAlert(db, found.id, actor, deps.now());
      await audit(db, request, principal, [found.patientId], 'alerts.acknowledge', { alertId: found.id });
      return toAlert(acknowledged);
    },
  );
}
