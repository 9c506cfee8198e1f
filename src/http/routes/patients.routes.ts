import { z } from 'zod';
import { patientIdentityView, setPatientIdentity } from '../../actions/patient-identity.ts';
import { addPatient } from '../../actions/provisioning.ts';
import { setPatientThresholds } from '../../actions/alerts.ts';
import { ALERT_RULES, effectiveThreshold, type Thresholds } from '../../domain/alerts/index.ts';
import { IDENTITY_METHOD_NAMES, IDENTITY_STATUS_NAMES, INS_KIND_NAMES, SEXES } from '../../domain/ins.ts';
import { AppError } from '../../errors.ts';
import type { Principal } from '../../actions/tokens.ts';
import { loadThresholds } from '../../store/alerts.repository.ts';
import type { Db } from '../../store/database.ts';
import { type PatientSummary, patientSummaries } from '../../store/patient-summaries.repository.ts';
import { listIndicators } from '../../store/indicators.repository.ts';
import { findPatientIdentity } from '../../store/patient-identities.repository.ts';
import { findPatient, listPatients, type PatientRow } from '../../store/patients.repository.ts';
import { assertPatientVisible, audit, patientNotFound, principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, indicator, iso, page, patient, patientIdentity, text, threshold } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const toPatient = (p: PatientRow, summary: PatientSummary | null) => ({
  id: p.id,
  displayName: p.displayName,
  timeZone: p.timeZone,
  createdAt: iso(p.createdAt),
  summary: summary && {
    ...summary,
    lastReadingAt: summary.lastReadingAt ? iso(summary.lastReadingAt) : null,
    lastReview: summary.lastReview && {
      day: summary.lastReview.day,
      reviewedAt: iso(summary.lastReview.reviewedAt),
      reviewedBy: summary.lastReview.reviewedBy,
    },
  },
});

/** Alerts, last reading and adherence are clinical data: for clinicians (audited), not for admins. */
const summariesFor = (db: Db, principal: Principal, ids: string[]) =>
  principal.role === 'clinician' ? patientSummaries(db, ids) : Promise.resolve(new Map<string, PatientSummary>());

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };

export function patientsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);
  /** Clinicians read from the replica when there is one; an admin reads what they just wrote, from the primary. */
  const readsOf = (principal: Principal) => (principal.role === 'clinician' ? readDb() : db);

  app.post(
    '/patients',
    {
      schema: {
        tags: ['patients'],
        summary: 'Create a patient (admin)',
        body: z.object({
          id: idParam,
          timeZone: z.string().optional().describe('IANA zone, Europe/Paris by default'),
          displayName: text(200).optional(),
        }),
        response: { 201: patient, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const created = await addPatient(db, request.body);
      return reply.status(201).send(toPatient(created, null));
    },
  );

  app.get(
    '/patients',
    {
      schema: {
        tags: ['patients'],
        summary: 'List patients (admin: all; clinician: their own)',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().optional(),
        }),
        response: { 200: page(patient), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin', 'clinician']);
      const { limit, cursor } = request.query;
      const after = decodeCursor(cursor);
      if (after !== undefined && !idParam.safeParse(after).success) {
        throw new AppError('bad_request', 'cursor is not one this API returned');
      }
      // A clinician sees their listed patients and no other; '' (no patient has that id)
      // keeps the list non-empty, so a token without patients sees none rather than an error.
      const reads = readsOf(principal);
      const rows = await listPatients(reads, {
        limit: limit + 1,
        afterId: after,
        onlyIds: principal.role === 'clinician' ? ['', ...(principal.patientIds ?? [])] : undefined,
      });
      const shown = rows.slice(0, limit);
      const summaries = await summariesFor(
        reads,
        principal,
        shown.map((r) => r.id),
      );
      const items = shown.map((r) => toPatient(r, summaries.get(r.id) ?? null));
      await audit(
        db,
        request,
        principal,
        items.map((p) => p.id),
        'patients.list',
      );
      return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null };
    },
  );

  app.get(
    '/patients/:id',
    {
      schema: {
        tags: ['patients'],
        summary: 'One patient (admin; clinician for their own)',
        params: z.object({ id: idParam }),
        response: { 200: patient, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin', 'clinician']);
      assertPatientVisible(principal, request.params.id);
      const reads = readsOf(principal);
      const found = await findPatient(reads, request.params.id);
      if (!found) throw patientNotFound(request.params.id);
      const [summaries, identity] = await Promise.all([
        summariesFor(reads, principal, [found.id]),
        findPatientIdentity(reads, found.id),
      ]);
      await audit(db, request, principal, [found.id], 'patients.read');
      return {
        ...toPatient(found, summaries.get(found.id) ?? null),
        identity: identity ? patientIdentityView(identity, principal.role === 'admin' ? 'admin' : 'clinician') : null,
      };
    },
  );

  app.put(
    '/patients/:id/identity',
    {
      schema: {
        tags: ['patients'],
        summary: "Set a patient's identity: traits, INS and identity status (admin)",
        description:
          'The INS (15 characters: 13 and the key) is checked, Corsica 2A/2B included; RECUP and QUAL need the INS, ' +
          'QUAL the birthplace. The INS is shared with clinicians and over FHIR only for a QUAL identity.',
        params: z.object({ id: idParam }),
        body: z.object({
          birthFamilyName: text(200).min(1),
          firstNames: z.array(text(100).min(1)).min(1).max(20).describe('in order; the first is the first given name'),
          birthDate: z.string().describe('YYYY-MM-DD'),
          sex: z.enum(SEXES),
          birthplaceCode: z.string().max(5).nullable().optional().describe('INSEE code, e.g. 75056, 2A004'),
          ins: z
            .object({
              value: z.string().max(20).describe('15 characters: 13 and the 2-digit key'),
              kind: z.enum(INS_KIND_NAMES),
            })
            .nullable()
            .optional(),
          status: z.enum(IDENTITY_STATUS_NAMES),
          statusMethod: z.enum(IDENTITY_METHOD_NAMES).nullable().optional(),
          statusSetAt: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('default: now, or kept if the status is the same'),
        }),
        response: { 200: patientIdentity, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const patientId = request.params.id;
      if (!(await findPatient(db, patientId))) throw patientNotFound(patientId);
      const { statusSetAt, ...body } = request.body;
      const row = await setPatientIdentity(
        db,
        patientId,
        { ...body, statusSetAt: statusSetAt === undefined ? undefined : new Date(statusSetAt) },
        deps.now(),
      );
      await audit(db, request, principal, [patientId], 'patients.identity.write', { status: row.status });
      return patientIdentityView(row, 'admin');
    },
  );

  app.get(
    '/patients/:id/indicators',
    {
      schema: {
        tags: ['indicators'],
        summary: "The latest value of each of the patient's indicators (clinician)",
        params: z.object({ id: idParam }),
        response: { 200: z.object({ patientId: z.string(), indicators: z.array(indicator) }), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const patientId = request.params.id;
      assertPatientVisible(principal, patientId);
      const reads = readDb();
      if (!(await findPatient(reads, patientId))) throw patientNotFound(patientId);
      const [indicators] = await Promise.all([
        listIndicators(reads, patientId),
        audit(db, request, principal, [patientId], 'indicators.read'),
      ]);
      return {
        patientId,
        indicators: indicators.map((r) => ({
          key: r.key,
          value: r.value,
          unit: r.unit,
          from: iso(r.from),
          to: iso(r.to),
          n: r.n,
          sufficient: r.sufficient,
          computedAt: iso(r.computedAt),
        })),
      };
    },
  );

  const thresholdsBody = z.object({
    thresholds: z
      .array(
        z.object({
          rule: z.string(),
          threshold,
          default: threshold,
          overridden: z.boolean(),
          unit: z.string(),
        }),
      )
      .describe('every alert rule with the threshold in force for this patient'),
  });

  const readThresholds = async (patientId: string) => {
    const overrides = await loadThresholds(db, patientId);
    return {
      thresholds: ALERT_RULES.map((rule) => ({
        rule: rule.key,
        threshold: effectiveThreshold(rule, overrides as Thresholds),
        default: rule.defaultThreshold,
        overridden: rule.key in overrides,
        unit: rule.unit,
      })),
    };
  };

  app.get(
    '/patients/:id/thresholds',
    {
      schema: {
        tags: ['alerts'],
        summary: "The patient's alert thresholds (clinician)",
        params: z.object({ id: idParam }),
        response: { 200: thresholdsBody, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      assertPatientVisible(principal, request.params.id);
      if (!(await findPatient(db, request.params.id))) {
        throw patientNotFound(request.params.id);
      }
      await audit(db, request, principal, [request.params.id], 'thresholds.read');
      return readThresholds(request.params.id);
    },
  );

  app.put(
    '/patients/:id/thresholds',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Set per-patient alert thresholds; null restores the default (clinician)',
        params: z.object({ id: idParam }),
        body: z.record(z.string(), threshold.nullable()).describe('{ "spo2_low": 88, "bp_high": null }'),
        response: { 200: thresholdsBody, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const patientId = request.params.id;
      assertPatientVisible(principal, patientId);
      const entries = Object.entries(request.body);
      if (entries.length === 0) throw new AppError('invalid_input', 'send at least one rule with its threshold');
      // All or nothing: every entry is checked, then all are written in one transaction.
      await setPatientThresholds(db, patientId, request.body);
      await audit(db, request, principal, [patientId], 'thresholds.write', { rules: entries.map(([r]) => r) });
      return readThresholds(patientId);
    },
  );
}
