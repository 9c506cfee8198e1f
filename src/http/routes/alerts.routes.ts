import { z } from 'zod';
import { acknowledgeAlert, alertHistoryView } from '../../actions/alerts.ts';
import {
  ACKNOWLEDGE_ACTIONS,
  ACKNOWLEDGE_NOTE_MAX,
  ALERT_STATUSES,
  actorName,
  alertRule,
  isRuleKey,
} from '../../domain/alerts/index.ts';
import { AppError } from '../../errors.ts';
import { findAlert, findAlerts, listAlertIds, type StoredAlert } from '../../store/alerts.repository.ts';
import type { Principal } from '../../actions/tokens.ts';
import { assertPatientVisible, audit, AuditedNotFound, principalOf, requireRole } from '../auth.ts';
import { alert, alertHistoryEntry, errorBody, idParam, iso, page, text } from '../schemas.ts';
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
    event: { at: a.occurredAt === null ? null : iso(a.occurredAt), readings: a.eventReadings },
    acknowledgement:
      a.state.acknowledgedAt === null
        ? null
        : {
            at: iso(a.state.acknowledgedAt),
            by: a.acknowledgedBy ?? 'unknown',
            action: a.acknowledgedAction,
            note: a.acknowledgedNote,
          },
  };
}

const alertIdParams = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be an alert id') });

/**
 * The alert, if it is one of the caller's patients'; else a 404 as if it did not
 * exist, audited as denied when the alert is another patient's.
 */
async function visibleAlert(deps: RouteDeps, principal: Principal, id: string): Promise<StoredAlert> {
  const found = await findAlert(deps.db, id);
  if (!found) throw new AppError('not_found', `alert ${id} does not exist`);
  if (principal.role === 'clinician' && !principal.patientIds?.has(found.patientId)) {
    throw new AuditedNotFound(found.patientId, 'denied', `alert ${id} does not exist`);
  }
  return found;
}

/**
 * POST /alerts/{id}/acknowledge takes `{action, note?}`: new clients say what they
 * did. Clients from before actions existed send no body or `{}`: the alert is still
 * acknowledged, recorded with no action. A note without an action is refused.
 */
const acknowledgeBody = z
  .object({
    action: z.enum(ACKNOWLEDGE_ACTIONS).optional().describe('what was done; required with a note'),
    note: text(ACKNOWLEDGE_NOTE_MAX).optional().describe(`free text, at most ${ACKNOWLEDGE_NOTE_MAX} characters`),
  })
  .nullish()
  .describe('{action, note?} from new clients; no body or {} (older clients): acknowledged with no action');

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
        summary:
          'Acknowledge an alert with the action taken and a note; one whose condition already cleared is resolved (clinician)',
        params: alertIdParams,
        body: acknowledgeBody,
        response: { 200: alert, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const found = await visibleAlert(deps, principal, request.params.id);
      if (request.body?.note !== undefined && request.body.action === undefined) {
        throw new AppError('invalid_input', 'say what was done: action is required with a note', { field: 'action' });
      }
      const note = request.body?.note?.trim() ? request.body.note : null;
      const acknowledged = await acknowledgeAlert(
        db,
        found.id,
        { actor: actorName(principal), action: request.body?.action ?? null, note },
        deps.now(),
      );
      // Never the note (clinical free text) in the audit row.
      await audit(db, request, principal, [found.patientId], 'alerts.acknowledge', { alertId: found.id });
      return toAlert(acknowledged);
    },
  );

  app.get(
    '/alerts/:id/history',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Everything that happened to an alert, oldest first: who, when, what (clinician)',
        params: alertIdParams,
        response: {
          200: z.object({ alertId: z.string(), patientId: z.string(), items: z.array(alertHistoryEntry) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const found = await visibleAlert(deps, principal, request.params.id);
      const items = await alertHistoryView(db, found.id);
      await audit(db, request, principal, [found.patientId], 'alerts.history', { alertId: found.id });
      return { alertId: found.id, patientId: found.patientId, items };
    },
  );
}
