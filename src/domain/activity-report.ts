/**
 * The monthly activity report of a care team (issue #14, item 7; README, "Monthly
 * activity report"), computed from what the store hands over: the team's
 * enrolments, the patient-local days with a reading (daily rollups) and the alerts.
 * Pure: `now` is a parameter.
 *
 * Definitions (the README repeats them):
 * - The month: [first day 00:00, first day of the next month 00:00) in the TEAM's
 *   time zone; a month not over yet ends at `now`.
 * - A patient is in the report when one of their enrolments with the team overlaps
 *   the month. Their enrolled period: the union of those enrolments' [starts, ends)
 *   clipped to the month.
 * - enrolledDays: the patient-local calendar days (patient's time zone) dated in the
 *   month whose [00:00, next 00:00) overlaps the enrolled period.
 * - daysWithData: enrolled days with at least one reading of any type.
 * - alertsOpened: the patient's alerts opened inside the enrolled period.
 * - alertsAcknowledged: those of them acknowledged when the report is made.
 * - median/p90SecondsToAcknowledge: acknowledgedAt − openedAt of those, quantiles by
 *   linear interpolation between closest ranks (R type 7, numpy's default: the median
 *   is the usual median), rounded to the second; null when none was acknowledged.
 * - alertsOpenedOutOfHours: alerts opened when the team was not on duty
 *   (src/domain/service-hours.ts, isOnDuty); always 0 for a team without hours.
 * The team's row sums the patients' counts; its quantiles are over all its alerts.
 */
import { addDays, startOfLocalDay } from './indicators/index.ts';
import { isOnDuty, type ServiceHours } from './service-hours.ts';

export interface ReportMonth {
  /** YYYY-MM. */
  month: string;
  /** First instant of the month in the team's zone, epoch ms. */
  from: number;
  /** First instant of the next month, epoch ms (exclusive). */
  to: number;
}

/** Years 2000-2999: a report of another millennium is a typing mistake. */
const MONTH = /^(2\d{3})-(0[1-9]|1[0-2])$/;

/** The month YYYY-MM in a time zone; undefined when `month` is not YYYY-MM. */
export function reportMonth(month: string, timeZone: string): ReportMonth | undefined {
  const m = MONTH.exec(month);
  if (!m) return undefined;
  const year = Number(m[1]);
  const next = m[2] === '12' ? `${year + 1}-01` : `${m[1]}-${String(Number(m[2]) + 1).padStart(2, '0')}`;
  return { month, from: startOfLocalDay(`${month}-01`, timeZone), to: startOfLocalDay(`${next}-01`, timeZone) };
}

/** The p-quantile (0..1) of ascending `sorted` values, R type 7; null for none. */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The counts of one row of the report (a patient, or the team). */
export interface ActivityCounts {
  enrolledDays: number;
  daysWithData: number;
  alertsOpened: number;
  alertsAcknowledged: number;
  medianSecondsToAcknowledge: number | null;
  p90SecondsToAcknowledge: number | null;
  alertsOpenedOutOfHours: number;
  /**
   * The team's notifications about the alerts counted here (README, "Notifications"):
   * delivered, and given up after the last attempt (dead letters; a replayed one that
   * is then delivered counts as sent). Pending and cancelled ones count in neither.
   */
  notificationsSent: number;
  notificationsFailed: number;
}

export interface PatientActivity extends ActivityCounts {
  patientId: string;
  /** The enrolled period inside the month: its first and last instants, RFC 3339 (gaps possible in between). */
  enrolledFrom: string;
  enrolledTo: string;
}

export interface ActivityReport {
  teamId: string;
  month: string;
  timeZone: string;
  serviceHours: string | null;
  /** The month in the team's zone, RFC 3339 UTC; `to` is `generatedAt` while the month is not over. */
  from: string;
  to: string;
  generatedAt: string;
  team: ActivityCounts & { patients: number };
  patients: PatientActivity[];
}

export interface PatientActivityInput {
  patientId: string;
  timeZone: string;
  /** The patient's enrolments with the team, epoch ms, `to` exclusive (null: open). */
  enrolments: readonly { from: number; to: number | null }[];
  /** Patient-local dates (YYYY-MM-DD) with at least one reading; any extra dates are ignored. */
  daysWithReadings: ReadonlySet<string>;
  /** The patient's alerts (others than those opened in the month are ignored), with the team's notifications of each. */
  alerts: readonly ReportAlertInput[];
}

export interface ReportAlertInput {
  openedAt: number;
  acknowledgedAt: number | null;
  notificationsSent?: number;
  notificationsFailed?: number;
}

type Interval = { from: number; to: number };

function enrolledPeriod(enrolments: PatientActivityInput['enrolments'], from: number, to: number): Interval[] {
  const clipped = enrolments
    .map((e) => ({ from: Math.max(e.from, from), to: Math.min(e.to ?? Infinity, to) }))
    .filter((i) => i.from < i.to)
    .sort((a, b) => a.from - b.from);
  const merged: Interval[] = [];
  for (const i of clipped) {
    const last = merged.at(-1);
    if (last && i.from <= last.to) last.to = Math.max(last.to, i.to);
    else merged.push({ ...i });
  }
  return merged;
}

const inside = (period: readonly Interval[], at: number) => period.some((i) => i.from <= at && at < i.to);

function timesToAcknowledge(alerts: readonly { openedAt: number; acknowledgedAt: number | null }[]): number[] {
  return alerts
    .filter((a) => a.acknowledgedAt !== null)
    .map((a) => ((a.acknowledgedAt as number) - a.openedAt) / 1000)
    .sort((a, b) => a - b);
}

const rounded = (v: number | null) => (v === null ? null : Math.round(v));

function counts(
  enrolledDays: number,
  daysWithData: number,
  alerts: readonly ReportAlertInput[],
  outOfHours: number,
): ActivityCounts {
  const seconds = timesToAcknowledge(alerts);
  return {
    enrolledDays,
    daysWithData,
    alertsOpened: alerts.length,
    alertsAcknowledged: seconds.length,
    medianSecondsToAcknowledge: rounded(quantile(seconds, 0.5)),
    p90SecondsToAcknowledge: rounded(quantile(seconds, 0.9)),
    alertsOpenedOutOfHours: outOfHours,
    notificationsSent: alerts.reduce((n, a) => n + (a.notificationsSent ?? 0), 0),
    notificationsFailed: alerts.reduce((n, a) => n + (a.notificationsFailed ?? 0), 0),
  };
}

export function activityReport(input: {
  teamId: string;
  month: ReportMonth;
  timeZone: string;
  serviceHours: ServiceHours | null;
  patients: readonly PatientActivityInput[];
  now: number;
}): ActivityReport {
  const { month, timeZone, serviceHours } = input;
  const end = Math.min(month.to, Math.max(input.now, month.from));
  // The month's dates and their bounds in each zone, computed once per zone (patients share a few).
  const byZone = new Map<string, { day: string; start: number; stop: number }[]>();
  const daysOf = (zone: string) => {
    let days = byZone.get(zone);
    if (!days) {
      days = [];
      for (let day = `${month.month}-01`; day.startsWith(`${month.month}-`); day = addDays(day, 1)) {
        days.push({ day, start: startOfLocalDay(day, zone), stop: startOfLocalDay(addDays(day, 1), zone) });
      }
      byZone.set(zone, days);
    }
    return days;
  };
  const rows: PatientActivity[] = [];
  const allAlerts: ReportAlertInput[] = [];
  const team = { enrolledDays: 0, daysWithData: 0, outOfHours: 0 };
  for (const p of [...input.patients].sort((a, b) => (a.patientId < b.patientId ? -1 : 1))) {
    const period = enrolledPeriod(p.enrolments, month.from, end);
    if (period.length === 0) continue;
    // Patient-local days dated in the month that overlap the enrolled period.
    let enrolledDays = 0;
    let daysWithData = 0;
    for (const { day, start, stop } of daysOf(p.timeZone)) {
      if (!period.some((i) => i.from < stop && start < i.to)) continue;
      enrolledDays++;
      if (p.daysWithReadings.has(day)) daysWithData++;
    }
    const alerts = p.alerts.filter((a) => inside(period, a.openedAt));
    const outOfHours = alerts.filter((a) => !isOnDuty(serviceHours, timeZone, new Date(a.openedAt))).length;
    rows.push({
      patientId: p.patientId,
      enrolledFrom: new Date(period[0].from).toISOString(),
      enrolledTo: new Date(period.at(-1)!.to).toISOString(),
      ...counts(enrolledDays, daysWithData, alerts, outOfHours),
    });
    allAlerts.push(...alerts);
    team.enrolledDays += enrolledDays;
    team.daysWithData += daysWithData;
    team.outOfHours += outOfHours;
  }
  return {
    teamId: input.teamId,
    month: month.month,
    timeZone,
    serviceHours: serviceHours?.spec ?? null,
    from: new Date(month.from).toISOString(),
    to: new Date(end).toISOString(),
    generatedAt: new Date(input.now).toISOString(),
    team: { patients: rows.length, ...counts(team.enrolledDays, team.daysWithData, allAlerts, team.outOfHours) },
    patients: rows,
  };
}

/**
 * The CSV columns, in order: one line for the team (scope `team`, empty patientId),
 * then one per patient. Adding a count is adding it to ActivityCounts and here.
 */
export const ACTIVITY_COLUMNS = [
  'scope',
  'teamId',
  'month',
  'patientId',
  'patients',
  'enrolledDays',
  'daysWithData',
  'alertsOpened',
  'alertsAcknowledged',
  'medianSecondsToAcknowledge',
  'p90SecondsToAcknowledge',
  'alertsOpenedOutOfHours',
  'notificationsSent',
  'notificationsFailed',
] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The report as CSV (RFC 4180, CRLF line ends, a header line); empty cells for null. */
export function activityCsv(report: ActivityReport): string {
  const lines: Record<(typeof ACTIVITY_COLUMNS)[number], unknown>[] = [
    { scope: 'team', teamId: report.teamId, month: report.month, patientId: '', ...report.team },
    ...report.patients.map((p) => ({
      scope: 'patient',
      teamId: report.teamId,
      month: report.month,
      patients: '',
      ...p,
    })),
  ];
  return [ACTIVITY_COLUMNS.join(','), ...lines.map((l) => ACTIVITY_COLUMNS.map((c) => csvField(l[c])).join(','))]
    .map((l) => `${l}\r\n`)
    .join('');
}
