/**
 * A seeded month for the monthly activity report (README, "Monthly activity
 * report"), inserted with SQL (teams, enrolments, daily rollups and alerts), and
 * its report counted by hand. Team `team-report`, Europe/Paris, on duty
 * mon-fri 08:00-18:00; month 2026-11 = [2026-10-31T23:00Z, 2026-11-30T23:00Z).
 *
 * - r-anna: enrolled since September. Days with a reading: 31 Oct (October), 1, 2
 *   (two types: one day) and 30 Nov, 1 Dec (December) → 3 of 30 enrolled days.
 *   Alerts: 31 Oct 23:30Z = Sunday 1 Nov 00:30 Paris (in the month, out of hours),
 *   acknowledged after 32,400 s; Monday 2 Nov 10:00 Paris (on duty), after 300 s;
 *   30 Nov 23:30Z = 1 Dec Paris and 31 Oct 22:30Z = 31 Oct Paris: outside the month.
 * - r-ben: enrolled from Monday 16 Nov 10:00 Paris → 15 enrolled days. Readings on
 *   10 Nov (before), 16 and 20 Nov → 2. Alerts: 12 Nov (before the enrolment);
 *   Wednesday 18 Nov 20:30 Paris (out of hours) acknowledged after 1,200 s; Friday
 *   20 Nov 11:00 Paris, never acknowledged.
 * - r-cleo: enrolled until 7 Nov 00:00 Paris → 6 enrolled days (1-6 Nov). Readings on
 *   3 Nov and 8 Nov (after) → 1. One alert, Thursday 5 Nov 14:00 Paris, after 60 s.
 * - r-dan: enrolled with another team only; r-eve: enrolled from December. Not in
 *   the report, though both have readings and alerts in November.
 *
 * Team: 3 patients, 51 enrolled days, 6 with data, 5 alerts, 4 acknowledged after
 * 60, 300, 1,200 and 32,400 s: median (300 + 1,200) / 2 = 750 s, 90th percentile
 * 1,200 + 0.7 × 31,200 = 23,040 s (R type 7, rank 1 + 0.9 × 3 = 3.7); 2 out of hours.
 *
 * Notifications (a webhook and an e-mail channel of the team): r-anna's fever, both
 * sent; her spo2_low, the webhook dead (failed); her bp_high (December) sent, not
 * counted; r-ben's spo2_low, the webhook sent and an escalation still pending
 * (neither); r-cleo's fever, a cancelled escalation (neither); r-dan's alert, sent to
 * the other team, not counted. Team: 3 sent, 1 failed.
 */

type Query = (text: string, values?: unknown[]) => Promise<unknown>;

export const REPORT_TEAM = 'team-report';
export const REPORT_MONTH = '2026-11';

export const EXPECTED_TEAM = {
  patients: 3,
  enrolledDays: 51,
  daysWithData: 6,
  alertsOpened: 5,
  alertsAcknowledged: 4,
  medianSecondsToAcknowledge: 750,
  p90SecondsToAcknowledge: 23040,
  alertsOpenedOutOfHours: 2,
  notificationsSent: 3,
  notificationsFailed: 1,
};

export const EXPECTED_PATIENTS = [
  {
    patientId: 'r-anna',
    enrolledFrom: '2026-10-31T23:00:00.000Z',
    enrolledTo: '2026-11-30T23:00:00.000Z',
    enrolledDays: 30,
    daysWithData: 3,
    alertsOpened: 2,
    alertsAcknowledged: 2,
    medianSecondsToAcknowledge: 16350, // (300 + 32,400) / 2
    p90SecondsToAcknowledge: 29190, // 300 + 0.9 × 32,100
    alertsOpenedOutOfHours: 1,
    notificationsSent: 2,
    notificationsFailed: 1,
  },
  {
    patientId: 'r-ben',
    enrolledFrom: '2026-11-16T09:00:00.000Z',
    enrolledTo: '2026-11-30T23:00:00.000Z',
    enrolledDays: 15,
    daysWithData: 2,
    alertsOpened: 2,
    alertsAcknowledged: 1,
    medianSecondsToAcknowledge: 1200,
    p90SecondsToAcknowledge: 1200,
    alertsOpenedOutOfHours: 1,
    notificationsSent: 1,
    notificationsFailed: 0,
  },
  {
    patientId: 'r-cleo',
    enrolledFrom: '2026-10-31T23:00:00.000Z',
    enrolledTo: '2026-11-06T23:00:00.000Z',
    enrolledDays: 6,
    daysWithData: 1,
    alertsOpened: 1,
    alertsAcknowledged: 1,
    medianSecondsToAcknowledge: 60,
    p90SecondsToAcknowledge: 60,
    alertsOpenedOutOfHours: 0,
    notificationsSent: 0,
    notificationsFailed: 0,
  },
];

/** Inserts the month (patients included). */
export async function seedActivityMonth(query: Query): Promise<void> {
  await query(
    `INSERT INTO patients (id, time_zone) VALUES ('r-anna', 'Europe/Paris'), ('r-ben', 'Europe/Paris'),
       ('r-cleo', 'Europe/Paris'), ('r-dan', 'Europe/Paris'), ('r-eve', 'Europe/Paris')`,
  );
  await query(
    `INSERT INTO care_teams (id, name, time_zone, service_hours) VALUES
       ('team-report', 'Cardio', 'Europe/Paris', 'mon-fri 08:00-18:00'), ('team-other', 'Other', 'Europe/Paris', NULL)`,
  );
  await query(
    `INSERT INTO enrolments (patient_id, team_id, programme, starts_at, ends_at) VALUES
       ('r-anna', 'team-report', 'heart_failure', '2026-09-01T00:00:00Z', NULL),
       ('r-ben', 'team-report', 'heart_failure', '2026-11-16T09:00:00Z', NULL),
       ('r-cleo', 'team-report', 'heart_failure', '2026-10-01T00:00:00Z', '2026-11-06T23:00:00Z'),
       ('r-dan', 'team-other', 'diabetes', '2026-09-01T00:00:00Z', NULL),
       ('r-eve', 'team-report', 'diabetes', '2026-12-01T10:00:00Z', NULL)`,
  );
  const days: [string, string, string][] = [
    ['r-anna', 'body_weight', '2026-10-31'],
    ['r-anna', 'body_weight', '2026-11-01'],
    ['r-anna', 'body_weight', '2026-11-02'],
    ['r-anna', 'heart_rate', '2026-11-02'],
    ['r-anna', 'body_weight', '2026-11-30'],
    ['r-anna', 'body_weight', '2026-12-01'],
    ['r-ben', 'spo2', '2026-11-10'],
    ['r-ben', 'spo2', '2026-11-16'],
    ['r-ben', 'spo2', '2026-11-20'],
    ['r-cleo', 'heart_rate', '2026-11-03'],
    ['r-cleo', 'heart_rate', '2026-11-08'],
    ['r-dan', 'heart_rate', '2026-11-03'],
    ['r-eve', 'heart_rate', '2026-11-03'],
  ];
  for (const [patient, type, day] of days) {
    await query(
      `INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at)
       VALUES ($1, $2, 'value', $3, 2, 1, 2, 1.5, 0.7, 3, $3::date + time '09:00', $3::date + time '10:00')`,
      [patient, type, day],
    );
  }
  // Blood pressure rolls up per component: one day still.
  await query(
    `INSERT INTO rollups_daily (patient_id, type, component, day, count, min, max, mean, sd, sum, first_at, last_at)
     SELECT 'r-anna', 'blood_pressure', c, date '2026-11-02', 1, 120, 120, 120, NULL, 120, '2026-11-02T08:00Z', '2026-11-02T08:00Z'
     FROM unnest(ARRAY['systolic', 'diastolic']) c`,
  );
  const alerts: [string, string, string, string | null][] = [
    ['r-anna', 'fever', '2026-10-31T23:30:00Z', '2026-11-01T08:30:00Z'],
    ['r-anna', 'spo2_low', '2026-11-02T09:00:00Z', '2026-11-02T09:05:00Z'],
    ['r-anna', 'bp_high', '2026-11-30T23:30:00Z', '2026-12-01T07:00:00Z'],
    ['r-anna', 'weight_gain', '2026-10-31T22:30:00Z', '2026-11-01T07:00:00Z'],
    ['r-ben', 'fever', '2026-11-12T10:00:00Z', '2026-11-12T10:01:00Z'],
    ['r-ben', 'spo2_low', '2026-11-18T19:30:00Z', '2026-11-18T19:50:00Z'],
    ['r-ben', 'tachycardia', '2026-11-20T10:00:00Z', null],
    ['r-cleo', 'fever', '2026-11-05T13:00:00Z', '2026-11-05T13:01:00Z'],
    ['r-dan', 'fever', '2026-11-05T13:00:00Z', null],
    ['r-eve', 'fever', '2026-11-05T13:00:00Z', null],
  ];
  for (const [patient, rule, opened, acked] of alerts) {
    await query(
      `INSERT INTO alerts (patient_id, rule, status, opened_at, acknowledged_at, acknowledged_by, resolved_at, threshold,
                           reading_ids, occurred_at)
       VALUES ($1, $2, CASE WHEN $4::timestamptz IS NULL THEN 'open' ELSE 'resolved' END, $3, $4,
               CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE 'token:1' END, $4, '1', '{}', $3)`,
      [patient, rule, opened, acked],
    );
  }
  await query(
    `INSERT INTO notification_channels (id, team_id, kind, target, escalation, secret_sealed, secret_key_id) VALUES
       (9001, 'team-report', 'webhook', 'https://example.org/hook', false, '\\x00', 'k'),
       (9002, 'team-report', 'email', 'ide@example.org', false, NULL, NULL),
       (9003, 'team-report', 'email', 'cadre@example.org', true, NULL, NULL),
       (9004, 'team-other', 'email', 'other@example.org', false, NULL, NULL)`,
  );
  const notifications: [string, string, string, number, string, string][] = [
    ['r-anna', 'fever', '2026-10-31T23:30:00Z', 9001, 'alert', 'sent'],
    ['r-anna', 'fever', '2026-10-31T23:30:00Z', 9002, 'alert', 'sent'],
    ['r-anna', 'spo2_low', '2026-11-02T09:00:00Z', 9001, 'alert', 'dead'],
    ['r-anna', 'bp_high', '2026-11-30T23:30:00Z', 9001, 'alert', 'sent'],
    ['r-ben', 'spo2_low', '2026-11-18T19:30:00Z', 9001, 'alert', 'sent'],
    ['r-ben', 'spo2_low', '2026-11-18T19:30:00Z', 9003, 'escalation', 'pending'],
    ['r-cleo', 'fever', '2026-11-05T13:00:00Z', 9003, 'escalation', 'cancelled'],
    ['r-dan', 'fever', '2026-11-05T13:00:00Z', 9004, 'alert', 'sent'],
  ];
  for (const [patient, rule, opened, channel, purpose, state] of notifications) {
    await query(
      `INSERT INTO notifications (alert_id, team_id, channel_id, channel, purpose, state, due_at, created_at)
       SELECT a.id, c.team_id, c.id, c.kind, $4, $5, a.opened_at, a.opened_at
       FROM alerts a, notification_channels c
       WHERE a.patient_id = $1 AND a.rule = $2 AND a.opened_at = $3 AND c.id = $6`,
      [patient, rule, opened, purpose, state, channel],
    );
  }
}
