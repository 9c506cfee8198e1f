import { type ActivityReport, activityReport, reportMonth } from '../domain/activity-report.ts';
import { addDays } from '../domain/indicators/index.ts';
import { parseServiceHours } from '../domain/service-hours.ts';
import { AppError } from '../errors.ts';
import {
  alertsOpenedDuring,
  daysWithReadings,
  findReportTeam,
  isTeamMember,
  teamEnrolmentsDuring,
} from '../store/activity-report.repository.ts';
import type { Db } from '../store/database.ts';
import type { Principal } from './tokens.ts';

/**
 * Who may read a team's activity report: an admin, or a practitioner member of the
 * team (a token or session acting as that practitioner). Anyone else: 403.
 */
export async function assertMayReadTeamReport(db: Db, principal: Principal, teamId: string): Promise<void> {
  if (principal.role === 'admin') return;
  if (principal.practitionerId && (await isTeamMember(db, teamId, principal.practitionerId))) return;
  throw new AppError(
    'forbidden',
    `the activity report of team ${teamId} is for an admin or a practitioner member of that team; use such a token`,
  );
}

/** The monthly activity report of a team (src/domain/activity-report.ts has the definitions). */
export async function teamActivityReport(db: Db, teamId: string, month: string, now: Date): Promise<ActivityReport> {
  const team = await findReportTeam(db, teamId);
  if (!team) throw new AppError('not_found', `team ${teamId} does not exist; \`vitalink teams add\` creates one`);
  const period = reportMonth(month, team.timeZone);
  if (!period)
    throw new AppError('invalid_input', `month must be YYYY-MM, e.g. 2026-11 (got "${month}")`, { field: 'month' });
  let hours = null;
  if (team.serviceHours !== null) {
    const parsed = parseServiceHours(team.serviceHours);
    if (!parsed.ok) {
      throw new AppError(
        'conflict',
        `team ${teamId} has service hours that cannot be read (${parsed.message}); set them again`,
      );
    }
    hours = parsed.hours;
  }
  const from = new Date(period.from);
  const to = new Date(period.to);
  const enrolments = await teamEnrolmentsDuring(db, teamId, from, to);
  const byPatient = new Map<string, typeof enrolments>();
  for (const e of enrolments) byPatient.set(e.patientId, [...(byPatient.get(e.patientId) ?? []), e]);
  const ids = [...byPatient.keys()];
  const firstDay = `${month}-01`;
  const lastDay = addDays(`${nextMonth(month)}-01`, -1);
  const [days, alerts] = await Promise.all([
    daysWithReadings(db, ids, firstDay, lastDay),
    alertsOpenedDuring(db, teamId, ids, from, to),
  ]);
  return activityReport({
    teamId,
    month: period,
    timeZone: team.timeZone,
    serviceHours: hours,
    now: now.getTime(),
    patients: ids.map((patientId) => {
      const own = byPatient.get(patientId)!;
      return {
        patientId,
        timeZone: own[0].timeZone,
        enrolments: own.map((e) => ({ from: e.startsAt.getTime(), to: e.endsAt?.getTime() ?? null })),
        daysWithReadings: days.get(patientId) ?? new Set(),
        alerts: alerts.get(patientId) ?? [],
      };
    }),
  });
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}
