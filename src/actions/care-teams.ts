import { isReservedId, RESERVED_ID_MESSAGE } from '../domain/ids.ts';
import { PRACTITIONER_ROLES, type PractitionerRole, RPPS_PATTERN } from '../domain/practitioners.ts';
import { isProgramme, type Programme, unknownProgrammeMessage } from '../domain/programmes.ts';
import { DEVICE_ID_PATTERN } from '../domain/protocol.ts';
import { isOnDuty, nextOpening, parseServiceHours, type ServiceHours } from '../domain/service-hours.ts';
import { AppError } from '../errors.ts';
import {
  deleteMember,
  type EnrolmentRow,
  findEnrolment,
  findEnrolmentForUpdate,
  findOverlappingEnrolments,
  findPractitioner,
  findTeam,
  insertEnrolment,
  insertMember,
  insertPractitioner,
  insertTeam,
  listEnrolments,
  listPractitioners,
  listTeams,
  membersOf,
  type PractitionerRow,
  setEnrolmentEnd,
  teamsOf,
  type TeamRow,
  updateTeam,
} from '../store/care-teams.repository.ts';
import type { Db } from '../store/database.ts';
import { findPatient, lockPatient } from '../store/patients.repository.ts';
import { checkTimeZone, DEFAULT_TIME_ZONE, parseTimeArgument } from './provisioning.ts';

/**
 * Care teams (README, "Care teams"): the rules shared by the CLI
 * (`vitalink practitioners …`, `teams …`, `enrol`, `enrolments …`) and the admin
 * API (/api/v1/practitioners, /teams, /enrolments).
 */

// ---------------------------------------------------------------- views

export interface PractitionerView {
  id: string;
  name: string;
  rpps: string | null;
  role: PractitionerRole;
  createdAt: string;
}

export interface TeamView {
  id: string;
  name: string | null;
  timeZone: string;
  /** null: always on duty. */
  serviceHours: string | null;
  onDuty: boolean;
  /** When the team is next on duty; null while it is on duty. */
  nextOpening: string | null;
  createdAt: string;
}

export type EnrolmentState = 'upcoming' | 'running' | 'ended';

export interface EnrolmentView {
  id: string;
  patientId: string;
  teamId: string;
  programme: Programme;
  from: string;
  /** Exclusive; null: open-ended. */
  to: string | null;
  state: EnrolmentState;
  createdAt: string;
}

export function practitionerView(p: PractitionerRow): PractitionerView {
  return { id: p.id, name: p.name, rpps: p.rpps, role: p.role, createdAt: p.createdAt.toISOString() };
}

/** The stored spec was checked when written; one that no longer parses counts as always on duty. */
function hoursOf(team: TeamRow): ServiceHours | null {
  if (team.serviceHours === null) return null;
  const parsed = parseServiceHours(team.serviceHours);
  return parsed.ok ? parsed.hours : null;
}

export function teamView(team: TeamRow, now: Date): TeamView {
  const hours = hoursOf(team);
  const onDuty = isOnDuty(hours, team.timeZone, now);
  return {
    id: team.id,
    name: team.name,
    timeZone: team.timeZone,
    serviceHours: team.serviceHours,
    onDuty,
    nextOpening: onDuty ? null : nextOpening(hours, team.timeZone, now).toISOString(),
    createdAt: team.createdAt.toISOString(),
  };
}

export function enrolmentState(e: EnrolmentRow, now: Date): EnrolmentState {
  if (e.startsAt > now) return 'upcoming';
  if (e.endsAt !== null && e.endsAt <= now) return 'ended';
  return 'running';
}

export function enrolmentView(e: EnrolmentRow, now: Date): EnrolmentView {
  return {
    id: e.id,
    patientId: e.patientId,
    teamId: e.teamId,
    programme: e.programme as Programme,
    from: e.startsAt.toISOString(),
    to: e.endsAt?.toISOString() ?? null,
    state: enrolmentState(e, now),
    createdAt: e.createdAt.toISOString(),
  };
}

// ---------------------------------------------------------------- checks

function checkId(kind: 'practitioner' | 'team', id: string): void {
  if (!DEVICE_ID_PATTERN.test(id)) {
    throw new AppError('invalid_input', `${kind} id "${id}" is invalid: use 1 to 64 characters of A-Z a-z 0-9 . _ -`, {
      field: 'id',
    });
  }
  if (isReservedId(id))
    throw new AppError('invalid_input', `${kind} id "${id}" ${RESERVED_ID_MESSAGE}`, { field: 'id' });
}

function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** `hours` as given: null or '' (always on duty) or a spec that parseServiceHours accepts. */
function checkHours(hours: string | null | undefined): string | null {
  if (hours === undefined || hours === null || hours.trim() === '') return null;
  const parsed = parseServiceHours(hours);
  if (!parsed.ok) throw new AppError('invalid_input', parsed.message, { field: 'serviceHours' });
  return parsed.hours.spec;
}

function noPractitioner(id: string): AppError {
  return new AppError(
    'not_found',
    `practitioner ${id} does not exist; add them with \`vitalink practitioners add --id ${id} --name NAME\` (or POST /api/v1/practitioners)`,
  );
}

function noTeam(id: string): AppError {
  return new AppError(
    'not_found',
    `team ${id} does not exist; add it with \`vitalink teams add --id ${id}\` (or POST /api/v1/teams)`,
  );
}

function noEnrolment(id: string): AppError {
  return new AppError(
    'not_found',
    `enrolment ${id} does not exist; \`vitalink enrolments list --patient ID\` (or GET /api/v1/enrolments) shows the enrolments and their ids`,
  );
}

/** Most items in one page of the lists of this file. */
export const MAX_CARE_PAGE = 1000;

function checkLimit(limit: number | undefined): number {
  const n = limit ?? 100;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CARE_PAGE) {
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_CARE_PAGE}`, { field: 'limit' });
  }
  return n;
}

/** One page of a list: `next` is what to ask after for the next page (null: the last page). */
export interface CarePage<T> {
  items: T[];
  next: string | null;
}

function pageOf<R, T>(rows: R[], limit: number, view: (r: R) => T, key: (r: R) => string): CarePage<T> {
  const kept = rows.slice(0, limit);
  return { items: kept.map(view), next: rows.length > limit ? key(kept[kept.length - 1]) : null };
}

// ---------------------------------------------------------------- practitioners

export async function addPractitioner(
  db: Db,
  input: { id: string; name: string; rpps?: string; role?: string },
): Promise<PractitionerView> {
  checkId('practitioner', input.id);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) {
    throw new AppError('invalid_input', "a practitioner's name is 1 to 200 characters (--name)", { field: 'name' });
  }
  const rpps = input.rpps === undefined || input.rpps === '' ? null : input.rpps;
  if (rpps !== null && !RPPS_PATTERN.test(rpps)) {
    throw new AppError('invalid_input', `RPPS number "${rpps}" is not 11 digits (--rpps, e.g. 10101010101)`, {
      field: 'rpps',
    });
  }
  const role = input.role ?? 'physician';
  if (!(PRACTITIONER_ROLES as readonly string[]).includes(role)) {
    throw new AppError('invalid_input', `role "${role}" is not one of ${PRACTITIONER_ROLES.join(', ')} (--role)`, {
      field: 'role',
    });
  }
  try {
    return practitionerView(await insertPractitioner(db, { id: input.id, name, rpps, role: role as PractitionerRole }));
  } catch (error) {
    if (isUniqueViolation(error, 'practitioners_pkey')) {
      throw new AppError('conflict', `practitioner ${input.id} already exists`);
    }
    if (isUniqueViolation(error)) {
      throw new AppError('conflict', `RPPS number ${rpps} is already another practitioner's; check the number`);
    }
    throw error;
  }
}

export async function listPractitionersPage(
  db: Db,
  page: { afterId?: string; limit?: number },
): Promise<CarePage<PractitionerView>> {
  const limit = checkLimit(page.limit);
  const rows = await listPractitioners(db, { afterId: page.afterId, limit: limit + 1 });
  return pageOf(rows, limit, practitionerView, (r) => r.id);
}

export async function showPractitioner(
  db: Db,
  id: string,
  now: Date,
): Promise<PractitionerView & { teams: TeamView[] }> {
  const found = await findPractitioner(db, id);
  if (!found) throw noPractitioner(id);
  const teams = await teamsOf(db, id);
  return { ...practitionerView(found), teams: teams.map((t) => teamView(t, now)) };
}

/** Who a practitioner is and their teams with their duty now: GET /api/v1/me. */
export async function careOf(
  db: Db,
  practitionerId: string,
  now: Date,
): Promise<{ practitioner: PractitionerView | null; teams: TeamView[] }> {
  const [found, teams] = await Promise.all([findPractitioner(db, practitionerId), teamsOf(db, practitionerId)]);
  return { practitioner: found ? practitionerView(found) : null, teams: teams.map((t) => teamView(t, now)) };
}

// ---------------------------------------------------------------- teams

export async function addTeam(
  db: Db,
  input: { id: string; name?: string; timeZone?: string; serviceHours?: string | null },
  now: Date,
): Promise<TeamView> {
  checkId('team', input.id);
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  await checkTimeZone(db, timeZone);
  const serviceHours = checkHours(input.serviceHours);
  try {
    const team = await insertTeam(db, { id: input.id, name: input.name?.trim() || null, timeZone, serviceHours });
    return teamView(team, now);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', `team ${input.id} already exists`);
    throw error;
  }
}

export async function listTeamsPage(
  db: Db,
  page: { afterId?: string; limit?: number },
  now: Date,
): Promise<CarePage<TeamView>> {
  const limit = checkLimit(page.limit);
  const rows = await listTeams(db, { afterId: page.afterId, limit: limit + 1 });
  return pageOf(
    rows,
    limit,
    (t) => teamView(t, now),
    (t) => t.id,
  );
}

export type MemberView = PractitionerView & { addedAt: string };

export async function showTeam(db: Db, id: string, now: Date): Promise<TeamView & { members: MemberView[] }> {
  const team = await findTeam(db, id);
  if (!team) throw noTeam(id);
  const members = await membersOf(db, id);
  return {
    ...teamView(team, now),
    members: members.map((m) => ({ ...practitionerView(m), addedAt: m.addedAt.toISOString() })),
  };
}

/** Sets a team's service hours (null or '': always on duty) and, when given, its time zone. */
export async function setTeamHours(
  db: Db,
  id: string,
  input: { serviceHours: string | null; timeZone?: string },
  now: Date,
): Promise<TeamView> {
  const serviceHours = checkHours(input.serviceHours);
  if (input.timeZone !== undefined) await checkTimeZone(db, input.timeZone);
  const team = await updateTeam(db, id, { serviceHours, timeZone: input.timeZone });
  if (!team) throw noTeam(id);
  return teamView(team, now);
}

export async function addMember(
  db: Db,
  teamId: string,
  practitionerId: string,
): Promise<{ teamId: string; practitionerId: string; added: boolean }> {
  return db.transaction().execute(async (trx) => {
    if (!(await findTeam(trx, teamId))) throw noTeam(teamId);
    if (!(await findPractitioner(trx, practitionerId))) throw noPractitioner(practitionerId);
    const added = await insertMember(trx, teamId, practitionerId);
    return { teamId, practitionerId, added };
  });
}

/** Removes a member: from their next request they no longer see the team's patients. */
export async function removeMember(
  db: Db,
  teamId: string,
  practitionerId: string,
): Promise<{ teamId: string; practitionerId: string; removed: true }> {
  if (!(await deleteMember(db, teamId, practitionerId))) {
    if (!(await findTeam(db, teamId))) throw noTeam(teamId);
    throw new AppError(
      'not_found',
      `practitioner ${practitionerId} is not a member of team ${teamId}; \`vitalink teams show --id ${teamId}\` lists its members`,
    );
  }
  return { teamId, practitionerId, removed: true };
}

// ---------------------------------------------------------------- enrolments

/**
 * Enrols a patient in a programme followed by a team over [from, to): from
 * defaults to now, no `to` is open-ended. A patient's enrolments with one team in
 * one programme never overlap (409 naming the one it collides with); the
 * patient's row is locked for the check, so two concurrent enrolments cannot
 * both pass it.
 */
export async function enrol(
  db: Db,
  input: { patientId: string; teamId: string; programme: string; from?: string; to?: string },
  now: Date,
): Promise<EnrolmentView> {
  if (!isProgramme(input.programme)) {
    throw new AppError('invalid_input', unknownProgrammeMessage(input.programme), { field: 'programme' });
  }
  const programme: Programme = input.programme;
  const from = input.from === undefined ? now : parseTimeArgument('from', input.from);
  const to = input.to === undefined ? null : parseTimeArgument('to', input.to);
  if (to !== null && to <= from) {
    throw new AppError('invalid_input', 'the end of an enrolment (to) must be later than its start (from)', {
      field: 'to',
    });
  }
  return db.transaction().execute(async (trx) => {
    if (!(await findPatient(trx, input.patientId))) {
      throw new AppError(
        'not_found',
        `patient ${input.patientId} does not exist; add it with \`vitalink patients add\` first`,
      );
    }
    if (!(await findTeam(trx, input.teamId))) throw noTeam(input.teamId);
    await lockPatient(trx, input.patientId);
    const overlapping = await findOverlappingEnrolments(trx, { ...input, programme, from, to });
    if (overlapping.length > 0) {
      const o = overlapping[0];
      throw new AppError(
        'conflict',
        `patient ${input.patientId} is already enrolled in ${programme} with team ${input.teamId} from ${o.startsAt.toISOString()} to ${o.endsAt?.toISOString() ?? 'open-ended'} (enrolment ${o.id}), which overlaps; end that one first (\`vitalink enrolments end --id ${o.id}\`) or choose another interval`,
      );
    }
    return enrolmentView(await insertEnrolment(trx, { ...input, programme, from, to }), now);
  });
}

/**
 * Ends an enrolment at `at` (default now): from then on the team's members no
 * longer see the patient. Refused for one that already ended by then (409) and
 * for a time not after its start (422).
 */
export async function endEnrolment(db: Db, id: string, at: string | undefined, now: Date): Promise<EnrolmentView> {
  if (!/^\d{1,18}$/.test(id)) throw noEnrolment(id);
  const end = at === undefined ? now : parseTimeArgument('at', at);
  return db.transaction().execute(async (trx) => {
    const found = await findEnrolmentForUpdate(trx, id);
    if (!found) throw noEnrolment(id);
    if (found.endsAt !== null && found.endsAt <= end) {
      throw new AppError('conflict', `enrolment ${id} already ended at ${found.endsAt.toISOString()}`);
    }
    if (end <= found.startsAt) {
      throw new AppError(
        'invalid_input',
        `enrolment ${id} starts at ${found.startsAt.toISOString()}: its end must be later (give --at, or "at", after its start)`,
        { field: 'at' },
      );
    }
    return enrolmentView(await setEnrolmentEnd(trx, id, end), now);
  });
}

export async function showEnrolment(db: Db, id: string, now: Date): Promise<EnrolmentView> {
  if (!/^\d{1,18}$/.test(id)) throw noEnrolment(id);
  const found = await findEnrolment(db, id);
  if (!found) throw noEnrolment(id);
  return enrolmentView(found, now);
}

export async function listEnrolmentsPage(
  db: Db,
  filter: { teamId?: string; patientId?: string; active?: boolean; afterId?: string; limit?: number },
  now: Date,
): Promise<CarePage<EnrolmentView>> {
  const limit = checkLimit(filter.limit);
  if (filter.afterId !== undefined && !/^\d{1,18}$/.test(filter.afterId)) {
    throw new AppError('invalid_input', `after must be an enrolment id, not "${filter.afterId}"`, { field: 'after' });
  }
  const rows = await listEnrolments(db, {
    teamId: filter.teamId,
    patientId: filter.patientId,
    activeAt: filter.active ? now : undefined,
    afterId: filter.afterId,
    limit: limit + 1,
  });
  return pageOf(
    rows,
    limit,
    (e) => enrolmentView(e, now),
    (e) => e.id,
  );
}
