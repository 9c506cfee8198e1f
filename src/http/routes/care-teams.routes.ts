import { z } from 'zod';
import {
  addMember,
  addPractitioner,
  addTeam,
  enrol,
  endEnrolment,
  listEnrolmentsPage,
  listPractitionersPage,
  listTeamsPage,
  MAX_CARE_PAGE,
  removeMember,
  setTeamHours,
  showEnrolment,
  showPractitioner,
  showTeam,
} from '../../actions/care-teams.ts';
import { MAX_WORKLIST, worklist } from '../../actions/worklist.ts';
import { PRACTITIONER_ROLES } from '../../domain/practitioners.ts';
import { AppError } from '../../errors.ts';
import { audit, principalOf, requireRole } from '../auth.ts';
import { enrolment, errorBody, idParam, member, page, practitioner, team, text, worklistItem } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_CARE_PAGE).default(100),
  cursor: z.string().max(200).optional(),
});

/** A page's cursor holds the last id; 400 when it is not one this API returned. */
function afterOf(cursor: string | undefined, pattern: z.ZodType<string>): string | undefined {
  const after = decodeCursor(cursor);
  if (after !== undefined && !pattern.safeParse(after).success) {
    throw new AppError('bad_request', 'cursor is not one this API returned');
  }
  return after;
}

const enrolmentId = z.string().regex(/^\d{1,18}$/, 'must be an enrolment id');
const time = z.string().max(64).describe('RFC 3339 with an offset, or epoch milliseconds');

/**
 * Care teams over HTTP (README, "Care teams"), mirroring the CLI: practitioners,
 * teams and their members and service hours, enrolments (admin); the worklist
 * of the caller's patients (clinician). Enrolments name a patient and a
 * programme: every read or write of one is audited, as patients are.
 */
export function careTeamsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;

  // ------------------------------------------------------------ practitioners

  app.get(
    '/practitioners',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Practitioners by id, a page at a time (admin)',
        querystring: listQuery,
        response: { 200: page(practitioner), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const { limit, cursor } = request.query;
      const result = await listPractitionersPage(db, { afterId: afterOf(cursor, idParam), limit });
      return { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null };
    },
  );

  app.post(
    '/practitioners',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Add a practitioner (admin)',
        body: z.object({
          id: idParam,
          name: text(200),
          rpps: z.string().max(11).optional().describe('RPPS number, 11 digits'),
          role: z.enum(PRACTITIONER_ROLES).optional().describe('physician by default'),
        }),
        response: { 201: practitioner, ...errors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      return reply.status(201).send(await addPractitioner(db, request.body));
    },
  );

  app.get(
    '/practitioners/:id',
    {
      schema: {
        tags: ['care teams'],
        summary: 'One practitioner and their teams (admin)',
        params: z.object({ id: idParam }),
        response: { 200: practitioner.extend({ teams: z.array(team) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return showPractitioner(db, request.params.id, deps.now());
    },
  );

  // ------------------------------------------------------------ teams

  app.get(
    '/teams',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Care teams by id with whether each is on duty now, a page at a time (admin)',
        querystring: listQuery,
        response: { 200: page(team), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const { limit, cursor } = request.query;
      const result = await listTeamsPage(db, { afterId: afterOf(cursor, idParam), limit }, deps.now());
      return { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null };
    },
  );

  app.post(
    '/teams',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Add a care team (admin)',
        body: z.object({
          id: idParam,
          name: text(200).optional(),
          timeZone: z.string().max(64).optional().describe('IANA zone of its service hours, Europe/Paris by default'),
          serviceHours: text(500)
            .nullable()
            .optional()
            .describe('e.g. "mon-fri 08:00-18:00; sat 09:00-12:00"; none: always on duty'),
        }),
        response: { 201: team, ...errors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      return reply.status(201).send(await addTeam(db, request.body, deps.now()));
    },
  );

  app.get(
    '/teams/:id',
    {
      schema: {
        tags: ['care teams'],
        summary: 'One care team, its duty now and its members (admin)',
        params: z.object({ id: idParam }),
        response: { 200: team.extend({ members: z.array(member) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return showTeam(db, request.params.id, deps.now());
    },
  );

  app.put(
    '/teams/:id/hours',
    {
      schema: {
        tags: ['care teams'],
        summary: "Set a team's service hours (null: always on duty) and optionally its time zone (admin)",
        params: z.object({ id: idParam }),
        body: z.object({
          serviceHours: text(500).nullable(),
          timeZone: z.string().max(64).optional(),
        }),
        response: { 200: team, ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return setTeamHours(db, request.params.id, request.body, deps.now());
    },
  );

  const membership = z.object({ teamId: z.string(), practitionerId: z.string() });

  app.post(
    '/teams/:id/members',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Add a practitioner to a team: they see its patients from their next request (admin)',
        params: z.object({ id: idParam }),
        body: z.object({ practitionerId: idParam }),
        response: {
          200: membership.extend({ added: z.boolean().describe('false: already a member') }),
          ...errors,
        },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return addMember(db, request.params.id, request.body.practitionerId);
    },
  );

  app.delete(
    '/teams/:id/members/:practitionerId',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Remove a practitioner from a team: they no longer see its patients from their next request (admin)',
        params: z.object({ id: idParam, practitionerId: idParam }),
        response: { 200: membership.extend({ removed: z.literal(true) }), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      return removeMember(db, request.params.id, request.params.practitionerId);
    },
  );

  // ------------------------------------------------------------ enrolments

  app.get(
    '/enrolments',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Enrolments by id, by team and/or patient, optionally only those running now (admin)',
        querystring: listQuery.extend({
          team: idParam.optional(),
          patient: idParam.optional(),
          active: z.enum(['true', 'false']).optional().describe('true: only those running now'),
        }),
        response: { 200: page(enrolment), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const { limit, cursor, team: teamId, patient, active } = request.query;
      const result = await listEnrolmentsPage(
        db,
        { teamId, patientId: patient, active: active === 'true', afterId: afterOf(cursor, enrolmentId), limit },
        deps.now(),
      );
      await audit(db, request, principal, [...new Set(result.items.map((e) => e.patientId))], 'enrolments.list');
      return { items: result.items, nextCursor: result.next ? encodeCursor(result.next) : null };
    },
  );

  app.post(
    '/enrolments',
    {
      schema: {
        tags: ['care teams'],
        summary: 'Enrol a patient in a programme followed by a team, over [from, to) (admin)',
        body: z.object({
          patientId: idParam,
          teamId: idParam,
          programme: z.string().max(64).describe('one of the programmes of README, "Care teams"'),
          from: time.optional().describe('default: now'),
          to: time.optional().describe('exclusive; none: open-ended'),
        }),
        response: { 201: enrolment, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const created = await enrol(db, request.body, deps.now());
      await audit(db, request, principal, [created.patientId], 'enrolments.create', {
        enrolmentId: created.id,
        teamId: created.teamId,
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/enrolments/:id',
    {
      schema: {
        tags: ['care teams'],
        summary: 'One enrolment (admin)',
        params: z.object({ id: enrolmentId }),
        response: { 200: enrolment, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const found = await showEnrolment(db, request.params.id, deps.now());
      await audit(db, request, principal, [found.patientId], 'enrolments.read', { enrolmentId: found.id });
      return found;
    },
  );

  app.post(
    '/enrolments/:id/end',
    {
      schema: {
        tags: ['care teams'],
        summary: "End an enrolment: from then on the team's members no longer see the patient (admin)",
        params: z.object({ id: enrolmentId }),
        body: z.object({ at: time.optional().describe('default: now') }),
        response: { 200: enrolment, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const ended = await endEnrolment(db, request.params.id, request.body.at, deps.now());
      await audit(db, request, principal, [ended.patientId], 'enrolments.end', { enrolmentId: ended.id });
      return ended;
    },
  );

  // ------------------------------------------------------------ worklist

  app.get(
    '/worklist',
    {
      schema: {
        tags: ['care teams'],
        summary:
          "The caller's patients, open alerts first (worst severity, then waiting longest), with their teams' duty (clinician)",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(MAX_WORKLIST).default(500) }),
        response: {
          200: z.object({
            at: z.string().describe('the time the worklist was computed for'),
            teams: z.array(team).describe("the practitioner's teams with their duty now; empty for a list token"),
            items: z.array(worklistItem),
            total: z.number().int().describe('patients in care; items holds the first `limit`'),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const of = principal.practitionerId
        ? { practitionerId: principal.practitionerId }
        : { patientIds: [...(principal.patientIds ?? [])] };
      const list = await worklist(db, of, deps.now(), request.query.limit);
      // A practitioner's scope was computed at authentication: keep only those (an enrolment starting in between waits).
      const items = list.items.filter((i) => principal.patientIds?.has(i.patientId));
      await audit(
        db,
        request,
        principal,
        items.map((i) => i.patientId),
        'worklist.read',
      );
      return { ...list, items };
    },
  );
}
