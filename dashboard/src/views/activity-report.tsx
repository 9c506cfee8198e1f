/**
 * The monthly activity report of a care team (README, "Monthly activity report"):
 * a team and a month, the table of GET /reports/activity (a line per patient, then
 * the team), and the same as CSV to download. For an administrator or a
 * practitioner member of the team.
 */
import { useState } from 'preact/hooks';
import { api, getCsv } from '../api.ts';
import { fmtDateTime, fmtInteger } from '../format.ts';
import { type MessageKey, t } from '../i18n.ts';
import type { ActivityCounts, ActivityReport } from '../types.ts';
import { ErrorBox, Loading } from '../components/status.tsx';

/** The month before this one, YYYY-MM: what a team reports at the start of a month. */
function previousMonth(now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const COLUMNS: readonly [MessageKey, (c: ActivityCounts) => string][] = [
  ['reportEnrolledDays', (c) => fmtInteger(c.enrolledDays)],
  ['reportDaysWithData', (c) => fmtInteger(c.daysWithData)],
  ['reportAlertsOpened', (c) => fmtInteger(c.alertsOpened)],
  ['reportAlertsAcknowledged', (c) => fmtInteger(c.alertsAcknowledged)],
  ['reportMedian', (c) => duration(c.medianSecondsToAcknowledge)],
  ['reportP90', (c) => duration(c.p90SecondsToAcknowledge)],
  ['reportOutOfHours', (c) => fmtInteger(c.alertsOpenedOutOfHours)],
  ['reportNotificationsSent', (c) => fmtInteger(c.notificationsSent)],
  ['reportNotificationsFailed', (c) => fmtInteger(c.notificationsFailed)],
];

type State =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'error'; error: unknown }
  | { state: 'ready'; report: ActivityReport };

export function ActivityReportView() {
  const [team, setTeam] = useState('');
  const [month, setMonth] = useState(previousMonth());
  const [result, setResult] = useState<State>({ state: 'idle' });

  const show = async (event: Event) => {
    event.preventDefault();
    setResult({ state: 'loading' });
    try {
      setResult({ state: 'ready', report: await api.get<ActivityReport>('/reports/activity', { team, month }) });
    } catch (error) {
      setResult({ state: 'error', error });
    }
  };

  const download = async () => {
    try {
      const csv = await getCsv('/reports/activity', { team, month });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      link.download = `activity-${team}-${month}.csv`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (error) {
      setResult({ state: 'error', error });
    }
  };

  return (
    <article aria-labelledby="report-title" data-testid="activity-report">
      <h1 id="report-title">{t('reportTitle')}</h1>
      <form class="report-form card" onSubmit={show}>
        <label>
          {t('reportTeam')}
          <input
            name="team"
            required
            value={team}
            onInput={(e) => setTeam((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          {t('reportMonth')}
          <input
            name="month"
            type="month"
            required
            value={month}
            onInput={(e) => setMonth((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="button">
          {t('reportShow')}
        </button>
        <button type="button" class="button secondary" onClick={download} disabled={!team || !month}>
          {t('reportCsv')}
        </button>
      </form>
      {result.state === 'loading' && <Loading />}
      {result.state === 'error' && <ErrorBox error={result.error} needed="reportNeeded" />}
      {result.state === 'ready' && <ReportTable report={result.report} />}
    </article>
  );
}

function ReportTable({ report }: { report: ActivityReport }) {
  return (
    <section class="card">
      <p class="muted small">
        {t('reportPeriod', {
          from: fmtDateTime(report.from, report.timeZone),
          to: fmtDateTime(report.to, report.timeZone),
          tz: report.timeZone,
          hours: report.serviceHours ?? t('reportAlwaysOnDuty'),
        })}
      </p>
      <div class="table-wrap">
        <table data-testid="report-table">
          <thead>
            <tr>
              <th scope="col">{t('reportPatient')}</th>
              {COLUMNS.map(([key]) => (
                <th key={key} scope="col" class="num">
                  {t(key)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {report.patients.map((p) => (
              <tr key={p.patientId} data-testid={`report-row-${p.patientId}`}>
                <th scope="row">{p.patientId}</th>
                {COLUMNS.map(([key, cell]) => (
                  <td key={key} class="num">
                    {cell(p)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-testid="report-row-team">
              <th scope="row">{t('reportTeamRow', { n: report.team.patients })}</th>
              {COLUMNS.map(([key, cell]) => (
                <td key={key} class="num">
                  {cell(report.team)}
                </td>
              ))}
            </tr>
          </tfoot>
        </table>
      </div>
    </section>
  );
}
