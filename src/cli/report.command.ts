import { defineCommand } from './command.ts';
import { UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

/** `vitalink report activity` (interfaces.md): the monthly activity report of a care team. */
export const reportActivity = defineCommand({
  name: 'report activity',
  summary: 'the monthly activity report of a care team (--json, --csv)',
  options: {
    team: { type: 'string', value: 'ID', description: 'the care team', required: true },
    month: {
      type: 'string',
      value: 'YYYY-MM',
      description: "the calendar month, in the team's time zone",
      required: true,
    },
    json: { type: 'boolean', description: 'print the report as one JSON object (as GET /api/v1/reports/activity)' },
    csv: { type: 'boolean', description: 'print it as CSV: a header, one line for the team, then one per patient' },
  },
  notes: [
    'Definitions (README, "Monthly activity report"): patients enrolled with the team during the month;',
    'enrolled days and days with data are patient-local days; alerts opened while enrolled, acknowledged,',
    'median and 90th percentile seconds to acknowledge, alerts opened outside the service hours.',
  ].join('\n'),
  async run(values) {
    if (values.json && values.csv) throw new UsageError('give --json or --csv, not both');
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(values.month)) {
      throw new UsageError(`--month must be YYYY-MM, e.g. 2026-11 (got "${values.month}")`);
    }
    const [{ teamActivityReport }, { activityCsv }] = await Promise.all([
      import('../actions/activity-report.ts'),
      import('../domain/activity-report.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      const report = await teamActivityReport(db, values.team, values.month, new Date());
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      if (values.csv) {
        process.stdout.write(activityCsv(report));
        return;
      }
      const s = (v: number | null) => (v === null ? '-' : `${v} s`);
      const line = (name: string, c: Omit<typeof report.team, 'patients'>) =>
        [
          name.padEnd(24),
          String(c.enrolledDays).padStart(8),
          String(c.daysWithData).padStart(9),
          String(c.alertsOpened).padStart(7),
          String(c.alertsAcknowledged).padStart(6),
          s(c.medianSecondsToAcknowledge).padStart(10),
          s(c.p90SecondsToAcknowledge).padStart(10),
          String(c.alertsOpenedOutOfHours).padStart(12),
          String(c.notificationsSent).padStart(9),
          String(c.notificationsFailed).padStart(7),
        ].join(' ');
      process.stdout.write(
        [
          `Activity of team ${report.teamId}, ${report.month} (${report.timeZone}, ${report.from} to ${report.to}): ${report.team.patients} patient(s)`,
          `${'patient'.padEnd(24)} enrolled with-data  alerts  acked  median-ack    p90-ack  out-of-hours  notified  failed`,
          ...report.patients.map((p) => line(p.patientId, p)),
          line('(team)', report.team),
          '',
        ].join('\n'),
      );
    });
  },
});
