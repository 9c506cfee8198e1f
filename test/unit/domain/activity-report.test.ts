import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_COLUMNS,
  activityCsv,
  activityReport,
  type PatientActivityInput,
  quantile,
  reportMonth,
} from '../../../src/domain/activity-report.ts';
import { parseServiceHours, type ServiceHours } from '../../../src/domain/service-hours.ts';

const PARIS = 'Europe/Paris';
const ms = (iso: string) => Date.parse(iso);

function hours(spec: string): ServiceHours {
  const parsed = parseServiceHours(spec);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.hours;
}

describe('reportMonth', () => {
  it("is the calendar month in the team's zone", () => {
    expect(reportMonth('2026-11', PARIS)).toEqual({
      month: '2026-11',
      from: ms('2026-10-31T23:00:00Z'),
      to: ms('2026-11-30T23:00:00Z'),
    });
    // October in Paris: 31 days with the DST change, so 745 hours.
    const oct = reportMonth('2026-10', PARIS)!;
    expect(oct.from).toBe(ms('2026-09-30T22:00:00Z'));
    expect((oct.to - oct.from) / 3_600_000).toBe(31 * 24 + 1);
    expect(reportMonth('2026-12', 'UTC')).toMatchObject({
      from: ms('2026-12-01T00:00:00Z'),
      to: ms('2027-01-01T00:00:00Z'),
    });
  });

  it('refuses what is not YYYY-MM', () => {
    for (const bad of ['2026-13', '2026-1', '26-11', '2026-11-01', '', '1999-12'])
      expect(reportMonth(bad, PARIS)).toBeUndefined();
  });
});

describe('quantile (R type 7)', () => {
  it('interpolates between closest ranks; the median is the usual median', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 10);
    expect(quantile([10, 20, 30], 0.5)).toBe(20);
  });
});

describe('activityReport', () => {
  const month = reportMonth('2026-11', PARIS)!;
  const after = ms('2026-12-05T00:00:00Z');
  const office = hours('mon-fri 08:00-18:00');

  const midMonth: PatientActivityInput = {
    patientId: 'p-mid',
    timeZone: PARIS,
    // Enrolled from Sunday 15 November 12:00 Paris.
    enrolments: [{ from: ms('2026-11-15T11:00:00Z'), to: null }],
    daysWithReadings: new Set(['2026-11-14', '2026-11-15', '2026-11-16', '2026-12-01']),
    alerts: [
      // Before the enrolment: not counted.
      { openedAt: ms('2026-11-14T10:00:00Z'), acknowledgedAt: ms('2026-11-14T10:05:00Z') },
      // Friday 20 November 11:00 Paris: on duty; acknowledged after 10 minutes.
      { openedAt: ms('2026-11-20T10:00:00Z'), acknowledgedAt: ms('2026-11-20T10:10:00Z') },
      // Saturday: out of hours; acknowledged after 30 minutes.
      { openedAt: ms('2026-11-21T10:00:00Z'), acknowledgedAt: ms('2026-11-21T10:30:00Z') },
      // Sunday: out of hours, never acknowledged.
      { openedAt: ms('2026-11-22T10:00:00Z'), acknowledgedAt: null },
    ],
  };

  it('counts the enrolled days, days with data, alerts, times to acknowledge and out of hours', () => {
    const report = activityReport({
      teamId: 'team-a',
      month,
      timeZone: PARIS,
      serviceHours: office,
      patients: [midMonth],
      now: after,
    });
    expect(report.patients).toEqual([
      {
        patientId: 'p-mid',
        enrolledFrom: '2026-11-15T11:00:00.000Z',
        enrolledTo: '2026-11-30T23:00:00.000Z',
        enrolledDays: 16, // 15 to 30 November
        daysWithData: 2, // the 15th (enrolled from noon) and the 16th
        alertsOpened: 3,
        alertsAcknowledged: 2,
        medianSecondsToAcknowledge: 1200, // (600 + 1800) / 2
        p90SecondsToAcknowledge: 1680, // 600 + 0.9 × 1200
        alertsOpenedOutOfHours: 2,
        notificationsSent: 0,
        notificationsFailed: 0,
      },
    ]);
    expect(report.team).toEqual({
      patients: 1,
      enrolledDays: 16,
      daysWithData: 2,
      alertsOpened: 3,
      alertsAcknowledged: 2,
      medianSecondsToAcknowledge: 1200,
      p90SecondsToAcknowledge: 1680,
      alertsOpenedOutOfHours: 2,
      notificationsSent: 0,
      notificationsFailed: 0,
    });
    expect(report).toMatchObject({
      from: '2026-10-31T23:00:00.000Z',
      to: '2026-11-30T23:00:00.000Z',
      serviceHours: 'mon-fri 08:00-18:00',
    });
  });

  it('a team without service hours has no alert out of hours', () => {
    const report = activityReport({
      teamId: 't',
      month,
      timeZone: PARIS,
      serviceHours: null,
      patients: [midMonth],
      now: after,
    });
    expect(report.team.alertsOpenedOutOfHours).toBe(0);
  });

  it("counts a patient's own days in their zone, dated in the month, and merges enrolments", () => {
    const report = activityReport({
      teamId: 't',
      month,
      timeZone: PARIS,
      serviceHours: null,
      now: after,
      patients: [
        {
          // New York: its 31 October overlaps the Paris month but is dated October; its 30 November
          // (05:00Z to next 05:00Z) starts before the month's end (23:00Z).
          patientId: 'p-ny',
          timeZone: 'America/New_York',
          enrolments: [{ from: ms('2026-01-01T00:00:00Z'), to: null }],
          daysWithReadings: new Set(['2026-10-31', '2026-11-30']),
          alerts: [],
        },
        {
          // Enrolments 1-9 and 5-11 November (merged: 1-11), then 20 November on: 11 + 11 days; the alert
          // of the 15th and the reading of the 13th fall in the gap.
          patientId: 'p-two',
          timeZone: PARIS,
          enrolments: [
            { from: ms('2026-10-31T23:00:00Z'), to: ms('2026-11-09T23:00:00Z') },
            { from: ms('2026-11-04T23:00:00Z'), to: ms('2026-11-11T23:00:00Z') },
            { from: ms('2026-11-19T23:00:00Z'), to: ms('2027-01-01T00:00:00Z') },
          ],
          daysWithReadings: new Set(['2026-11-13']),
          alerts: [{ openedAt: ms('2026-11-15T10:00:00Z'), acknowledgedAt: null }],
        },
        {
          // Enrolled in October only: not in the report.
          patientId: 'p-gone',
          timeZone: PARIS,
          enrolments: [{ from: ms('2026-10-01T00:00:00Z'), to: ms('2026-10-31T23:00:00Z') }],
          daysWithReadings: new Set(['2026-11-02']),
          alerts: [],
        },
      ],
    });
    expect(report.patients.map((p) => [p.patientId, p.enrolledDays, p.daysWithData, p.alertsOpened])).toEqual([
      ['p-ny', 30, 1, 0],
      ['p-two', 22, 0, 0],
    ]);
    expect(report.team).toMatchObject({ patients: 2, enrolledDays: 52, daysWithData: 1, alertsOpened: 0 });
    expect(report.team.medianSecondsToAcknowledge).toBeNull();
  });

  it('a month not over yet counts up to now', () => {
    const report = activityReport({
      teamId: 't',
      month,
      timeZone: PARIS,
      serviceHours: null,
      now: ms('2026-11-10T12:00:00Z'),
      patients: [{ ...midMonth, enrolments: [{ from: ms('2026-10-01T00:00:00Z'), to: null }] }],
    });
    expect(report.to).toBe('2026-11-10T12:00:00.000Z');
    expect(report.patients[0].enrolledDays).toBe(10);
    // Nobody was enrolled yet at a time before the month began: no row.
    const before = activityReport({
      teamId: 't',
      month,
      timeZone: PARIS,
      serviceHours: null,
      now: ms('2026-10-01T00:00:00Z'),
      patients: [midMonth],
    });
    expect(before.patients).toEqual([]);
  });

  it('prints CSV: a header, the team, then each patient; empty cells for null', () => {
    const report = activityReport({
      teamId: 'team,a',
      month,
      timeZone: PARIS,
      serviceHours: office,
      patients: [midMonth],
      now: after,
    });
    const lines = activityCsv(report).split('\r\n');
    expect(lines[0]).toBe(ACTIVITY_COLUMNS.join(','));
    expect(lines[1]).toBe('team,"team,a",2026-11,,1,16,2,3,2,1200,1680,2,0,0');
    expect(lines[2]).toBe('patient,"team,a",2026-11,p-mid,,16,2,3,2,1200,1680,2,0,0');
    expect(lines[3]).toBe('');
    expect(lines).toHaveLength(4);
  });
});
