import { sql } from 'kysely';
import type { PractitionerRole } from '../domain/practitioners.ts';
import type { Db } from './database.ts';

/**
 * Care teams (README, "Care teams"): practitioners, teams, members, enrolments.
 * Every query here reads rows per person, team, membership, enrolment or open
 * alert through their indexes; none reads readings.
 */

// The patients a practitioner may read: src/store/care-scope.ts (patientsInCareOf).

// ---------------------------------------------------------------- practitioners

export interface PractitionerRow {
  id: string;
  name: string;
  rpps: string | null;
  role: PractitionerRole;
  createdAt: Date;
}

const PRACTITIONER_COLUMNS = ['id', 'name', 'rpps', 'role', 'created_at'] as const;

function toPractitioner(r: {
  id: string;
  name: string;
  rpps: string | null;
  role: PractitionerRole;
  created_at: Date;
}): PractitionerRow {
  return { id: r.id, name: r.name, rpps: r.rpps, role: r.role, createdAt: r.created_at };
}

export async function insertPractitioner(
  db: Db,
  p: { id: string; name: string; rpps: string | null; role: PractitionerRole },
): Promise<PractitionerRow> {
  const row = await db
    .insertInto('practitioners')
    .values({ id: p.id, name: p.name, rpps: p.rpps, role: p.role })
    .returning(PRACTITIONER_COLUMNS)
    .executeTakeFirstOrThrow();
  return toPractitioner(row);
}

export async function findPractitioner(db: Db, id: string): Promise<PractitionerRow | undefined> {
  const row = await db.selectFrom('practitioners').select(PRACTITIONER_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toPractitioner(row) : undefined;
}

/** Practitioners by id, `limit` after `afterId` (keyset on the primary key). */
export async function listPractitioners(db: Db, page: { afterId?: string; limit: number }): Promise<PractitionerRow[]> {
  let q = db.selectFrom('practitioners').select(PRACTITIONER_COLUMNS).orderBy('id').limit(page.limit);
  if (page.afterId !== undefined) q = q.where('id', '>', page.afterId);
  return (await q.execute()).map(toPractitioner);
}

// ---------------------------------------------------------------- teams

export interface TeamRow {
  id: string;
  name: string | null;
  timeZone: string;
  /** The spec (src/domain/service-hours.ts); null: always on duty. */
  serviceHours: string | null;
  createdAt: Date;
}

const TEAM_COLUMNS = ['id', 'name', 'time_zone', 'service_hours', 'created_at'] as const;

function toTeam(r: {
  id: string;
  name: string | null;
  time_zone: string;
  service_hours: string | null;
  created_at: Date;
}): TeamRow {
  return { id: r.id, name: r.name, timeZone: r.time_zone, serviceHours: r.service_hours, createdAt: r.created_at };
}

export async function insertTeam(
  db: Db,
  t: { id: string; name: string | null; timeZone: string; serviceHours: string | null },
): Promise<TeamRow> {
  const row = await db
    .insertInto('care_teams')
    .values({ id: t.id, name: t.name, time_zone: t.timeZone, service_hours: t.serviceHours })
    .returning(TEAM_COLUMNS)
    .executeTakeFirstOrThrow();
  return toTeam(row);
}

export async function findTeam(db: Db, id: string): Promise<TeamRow | undefined> {
  const row = await db.selectFrom('care_teams').select(TEAM_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toTeam(row) : undefined;
}

export async function listTeams(db: Db, page: { afterId?: string; limit: number }): Promise<TeamRow[]> {
  let q = db.selectFrom('care_teams').select(TEAM_COLUMNS).orderBy('id').limit(page.limit);
  if (page.afterId !== undefined) q = q.where('id', '>', page.afterId);
  return (await q.execute()).map(toTeam);
}

/** Changes a team's service hours and/or time zone; undefined when there is no such team. */
export async function updateTeam(
  db: Db,
  id: string,
  change: { serviceHours?: string | null; timeZone?: string },
): Promise<TeamRow | undefined> {
  const row = await db
    .updateTable('care_teams')
    .set({
      ...(change.serviceHours !== undefined ? { service_hours: change.serviceHours } : {}),
      ...(change.timeZone !== undefined ? { time_zone: change.timeZone } : {}),
    })
    .where('id', '=', id)
    .returning(TEAM_COLUMNS)
    .executeTakeFirst();
  return row ? toTeam(row) : undefined;
}

/** The teams a practitioner belongs to (team_members_practitioner), by id. */
export async function teamsOf(db: Db, practitionerId: string): Promise<TeamRow[]> {
  const rows = await db
    .selectFrom('team_members as m')
    .innerJoin('care_teams as t', 't.id', 'm.team_id')
    .select(['t.id', 't.name', 't.time_zone', 't.service_hours', 't.created_at'])
    .where('m.practitioner_id', '=', practitionerId)
    .orderBy('t.id')
    .execute();
  return rows.map(toTeam);
}

// ---------------------------------------------------------------- members

/** Adds a member; false when they already were one. */
export async function insertMember(db: Db, teamId: string, practitionerId: string): Promise<boolean> {
  const rows = await db
    .insertInto('team_members')
    .values({ team_id: teamId, practitioner_id: practitionerId })
    .onConflict((oc) => oc.doNothing())
    .returning('team_id')
    .execute();
  return rows.length > 0;
}

/** Removes a member; false when they were not one. */
export async function deleteMember(db: Db, teamId: string, practitionerId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('team_members')
    .where('team_id', '=', teamId)
    .where('practitioner_id', '=', practitionerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The members of a team with when they joined, by practitioner id (primary key prefix). */
export async function membersOf(db: Db, teamId: string): Promise<(PractitionerRow & { addedAt: Date })[]> {
  const rows = await db
    .selectFrom('team_members as m')
    .innerJoin('practitioners as p', 'p.id', 'm.practitioner_id')
    .select(['p.id', 'p.name', 'p.rpps', 'p.role', 'p.created_at', 'm.added_at'])
    .where('m.team_id', '=', teamId)
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({ ...toPractitioner(r), addedAt: r.added_at }));
}

// ---------------------------------------------------------------- enrolments

export interface EnrolmentRow {
  id: string;
  patientId: string;
  teamId: string;
  programme: string;
  startsAt: Date;
  /** Exclusive; null: open-ended. */
  endsAt: Date | null;
  createdAt: Date;
}

const ENROLMENT_COLUMNS = ['id', 'patient_id', 'team_id', 'programme', 'starts_at', 'ends_at', 'created_at'] as const;

function toEnrolment(r: {
  id: string;
  patient_id: string;
  team_id: string;
  programme: string;
  starts_at: Date;
  ends_at: Date | null;
  created_at: Date;
}): EnrolmentRow {
  return {
    id: r.id,
    patientId: r.patient_id,
    teamId: r.team_id,
    programme: r.programme,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    createdAt: r.created_at,
  };
}

/**
 * Enrolments of a patient with a team in a programme that overlap [from, to)
 * (to null: open-ended). Cost: the patient's enrolments (enrolments_patient).
 */
export async function findOverlappingEnrolments(
  db: Db,
  e: { patientId: string; teamId: string; programme: string; from: Date; to: Date | null; exceptId?: string },
): Promise<EnrolmentRow[]> {
  let q = db
    .selectFrom('enrolments')
    .select(ENROLMENT_COLUMNS)
    .where('patient_id', '=', e.patientId)
    .where('team_id', '=', e.teamId)
    .where('programme', '=', e.programme)
    .where(sql<boolean>`tstzrange(starts_at, ends_at, '[)') && tstzrange(${e.from}, ${e.to}, '[)')`)
    .orderBy('starts_at');
  if (e.exceptId !== undefined) q = q.where('id', '!=', e.exceptId);
  return (await q.execute()).map(toEnrolment);
}

export async function insertEnrolment(
  db: Db,
  e: { patientId: string; teamId: string; programme: string; from: Date; to: Date | null },
): Promise<EnrolmentRow> {
  const row = await db
    .insertInto('enrolments')
    .values({ patient_id: e.patientId, team_id: e.teamId, programme: e.programme, starts_at: e.from, ends_at: e.to })
    .returning(ENROLMENT_COLUMNS)
    .executeTakeFirstOrThrow();
  return toEnrolment(row);
}

export async function findEnrolment(db: Db, id: string): Promise<EnrolmentRow | undefined> {
  const row = await db.selectFrom('enrolments').select(ENROLMENT_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toEnrolment(row) : undefined;
}

/** Locks one enrolment until the transaction ends (two ends of it never interleave). */
export async function findEnrolmentForUpdate(db: Db, id: string): Promise<EnrolmentRow | undefined> {
  const row = await db
    .selectFrom('enrolments')
    .select(ENROLMENT_COLUMNS)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row ? toEnrolment(row) : undefined;
}

export async function setEnrolmentEnd(db: Db, id: string, at: Date): Promise<EnrolmentRow> {
  const row = await db
    .updateTable('enrolments')
    .set({ ends_at: at })
    .where('id', '=', id)
    .returning(ENROLMENT_COLUMNS)
    .executeTakeFirstOrThrow();
  return toEnrolment(row);
}

/**
 * Enrolments by id, filtered by team and/or patient, and to those running at
 * `activeAt` when given; `limit` after `afterId`. Cost: with a team or a patient,
 * that team's or patient's enrolments by index; without either, the primary key.
 */
export async function listEnrolments(
  db: Db,
  filter: { teamId?: string; patientId?: string; activeAt?: Date; afterId?: string; limit: number },
): Promise<EnrolmentRow[]> {
  let q = db
    .selectFrom('enrolments')
    .select(ENROLMENT_COLUMNS)
    .orderBy(sql`id::bigint`)
    .limit(filter.limit);
  if (filter.teamId !== undefined) q = q.where('team_id', '=', filter.teamId);
  if (filter.patientId !== undefined) q = q.where('patient_id', '=', filter.patientId);
  if (filter.activeAt !== undefined) {
    const at = filter.activeAt;
    q = q.where('starts_at', '<=', at).where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', at)]));
  }
  if (filter.afterId !== undefined) q = q.where(sql<boolean>`id > ${filter.afterId}::bigint`);
  return (await q.execute()).map(toEnrolment);
}

// ---------------------------------------------------------------- worklist

/** A running enrolment with its team's name, as the worklist shows it. */
export interface CareEnrolment extends EnrolmentRow {
  teamName: string | null;
}

/**
 * The enrolments running at `at` that put patients in a practitioner's care
 * (the rows behind patientsInCareOf), or, with `patientIds`, the running
 * enrolments of those patients (a clinician token holding a list). Cost: as
 * patientsInCareOf; with a list, the patients' enrolments (enrolments_patient).
 */
export async function careEnrolments(
  db: Db,
  of: { practitionerId: string } | { patientIds: readonly string[] },
  at: Date,
): Promise<CareEnrolment[]> {
  let q = db
    .selectFrom('enrolments as e')
    .innerJoin('care_teams as t', 't.id', 'e.team_id')
    .select([
      'e.id',
      'e.patient_id',
      'e.team_id',
      'e.programme',
      'e.starts_at',
      'e.ends_at',
      'e.created_at',
      't.name as team_name',
    ])
    .where('e.starts_at', '<=', at)
    .where((eb) => eb.or([eb('e.ends_at', 'is', null), eb('e.ends_at', '>', at)]))
    .orderBy('e.starts_at');
  if ('practitionerId' in of) {
    q = q.where('e.team_id', 'in', (sub) =>
      sub.selectFrom('team_members').select('team_id').where('practitioner_id', '=', of.practitionerId),
    );
  } else {
    if (of.patientIds.length === 0) return [];
    q = q.where('e.patient_id', 'in', [...of.patientIds]);
  }
  const rows = await q.execute();
  return rows.map((r) => ({ ...toEnrolment(r), teamName: r.team_name }));
}

/** An open alert, for ordering a worklist. */
export interface OpenAlertRow {
  patientId: string;
  rule: string;
  openedAt: Date;
}

/**
 * The open alerts of some patients. Cost: the patients' alerts by the
 * alerts_patient_rule index (alerts only, whose number grows with events, not
 * with readings).
 */
export async function openAlertsOf(db: Db, patientIds: readonly string[]): Promise<OpenAlertRow[]> {
  if (patientIds.length === 0) return [];
  const rows = await db
    .selectFrom('alerts')
    .select(['patient_id', 'rule', 'opened_at'])
    .where('patient_id', 'in', [...patientIds])
    .where('status', '=', 'open')
    .execute();
  return rows.map((r) => ({ patientId: r.patient_id, rule: r.rule, openedAt: r.opened_at }));
}

/** Names and time zones of some patients (primary key). */
export async function patientLabels(
  db: Db,
  patientIds: readonly string[],
): Promise<Map<string, { displayName: string | null; timeZone: string }>> {
  if (patientIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('patients')
    .select(['id', 'display_name', 'time_zone'])
    .where('id', 'in', [...patientIds])
    .execute();
  return new Map(rows.map((r) => [r.id, { displayName: r.display_name, timeZone: r.time_zone }]));
}
