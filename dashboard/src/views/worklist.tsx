/**
 * A practitioner's worklist (README, "Care teams"), their landing view: the
 * patients of their teams from GET /worklist, in the service's order (worst open
 * alert first, then waiting longest, then by name), with programme and team,
 * open alerts, how long the oldest has waited, and the last reading. A banner
 * per team off duty says until when. Refreshed every minute while the tab is
 * visible, one request at a time.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { dateFormat, fmtDateTime, fmtRelative, fmtTime } from '../format.ts';
import { programmeLabel, ruleLabel, t } from '../i18n.ts';
import { patientHref } from '../router.ts';
import type { Team, Worklist, WorklistItem } from '../types.ts';
import { SeverityBadge } from '../components/alerts-panel.tsx';
import { ErrorBox, Loading } from '../components/status.tsx';

const REFRESH_MS = 60_000;
const MAX_ITEMS = 2000;

const teamName = (team: { id: string; name: string | null }) => team.name ?? team.id;

/** "lundi 8 décembre à 08:00 UTC+1": the team's own clock, with its zone. */
const fmtOpening = (iso: string, timeZone: string) =>
  dateFormat(timeZone, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(iso));

export function OffDutyBanners({ teams }: { teams: readonly Team[] }) {
  const off = teams.filter((team) => !team.onDuty);
  const on = teams.filter((team) => team.onDuty);
  if (teams.length === 0) return null;
  return (
    <div class="duty">
      {off.map((team) => (
        <div key={team.id} class="banner off-duty" role="status" data-testid={`off-duty-${team.id}`}>
          <strong>
            {t('offDuty', {
              until: team.nextOpening ? fmtOpening(team.nextOpening, team.timeZone) : '—',
              team: teamName(team),
            })}
          </strong>
          <div class="small">{t('offDutyDetail')}</div>
        </div>
      ))}
      {on.length > 0 && (
        <p class="muted small" data-testid="on-duty">
          {t('onDuty', { teams: on.map(teamName).join(', ') })}
        </p>
      )}
    </div>
  );
}

export function WorklistView() {
  const [list, setList] = useState<Worklist | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [team, setTeam] = useState('');

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      if (document.hidden) {
        timer = setTimeout(load, REFRESH_MS);
        return;
      }
      api.get<Worklist>('/worklist', { limit: MAX_ITEMS }, abort.signal).then(
        (w) => {
          setList(w);
          setError(null);
          timer = setTimeout(load, REFRESH_MS);
        },
        (e: unknown) => {
          if ((e as Error).name !== 'AbortError') setError(e);
        },
      );
    };
    load();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [attempt]);

  const rows = useMemo(
    () => (list ? list.items.filter((i) => !team || i.enrolments.some((e) => e.teamId === team)) : []),
    [list, team],
  );

  return (
    <section aria-labelledby="worklist-title">
      <h1 id="worklist-title">{t('worklistTitle')}</h1>
      <p class="muted">{t('worklistIntro')}</p>
      {list && <OffDutyBanners teams={list.teams} />}
      {error !== null && <ErrorBox error={error} onRetry={() => setAttempt(attempt + 1)} />}
      {list === null && error === null && <Loading />}
      {list !== null && (
        <>
          <div class="toolbar">
            {list.teams.length > 1 && (
              <div class="field">
                <label for="team-filter">{t('teamFilter')}</label>
                <select
                  id="team-filter"
                  value={team}
                  onChange={(e) => setTeam((e.currentTarget as HTMLSelectElement).value)}
                >
                  <option value="">{t('allTeams')}</option>
                  {list.teams.map((x) => (
                    <option key={x.id} value={x.id}>
                      {teamName(x)}
                    </option>
                  ))}
                </select>
              </div>
            )}
            <span class="muted small" aria-live="polite">
              {t('worklistUpdated', { at: fmtTime(list.at) })}
            </span>
            <button type="button" class="button secondary small" onClick={() => setAttempt(attempt + 1)}>
              {t('refresh')}
            </button>
          </div>
          {list.total > list.items.length && (
            <p class="notice">{t('worklistTruncated', { shown: list.items.length, total: list.total })}</p>
          )}
          <div class="table-wrap">
            <table class="patients worklist" data-testid="worklist-table">
              <caption class="visually-hidden">{t('worklistTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('colPatient')}</th>
                  <th scope="col">{t('colProgramme')}</th>
                  <th scope="col">{t('colAlerts')}</th>
                  <th scope="col">{t('colWaiting')}</th>
                  <th scope="col">{t('colLastReading')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((item) => (
                  <WorklistRow key={item.patientId} item={item} />
                ))}
                {rows.length === 0 && (
                  <tr>
                    <td colSpan={5} class="empty">
                      {list.items.length === 0 ? t('worklistEmpty') : t('worklistNone')}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function WorklistRow({ item }: { item: WorklistItem }) {
  return (
    <tr data-testid={`worklist-row-${item.patientId}`} class={item.openAlerts > 0 ? 'has-alerts' : undefined}>
      <th scope="row">
        <a href={patientHref(item.patientId)}>{item.displayName ?? item.patientId}</a>
        {item.displayName && <div class="muted small">{item.patientId}</div>}
      </th>
      <td>
        {item.enrolments.map((e) => (
          <div key={e.id}>
            {programmeLabel(e.programme)}
            <div class="muted small">{e.teamName ?? e.teamId}</div>
          </div>
        ))}
      </td>
      <td>
        {item.openAlerts > 0 ? (
          <>
            <strong>{item.openAlerts}</strong> <SeverityBadge severity={item.worstAlert?.severity} />
            {item.worstAlert && <div class="small">{ruleLabel(item.worstAlert.rule)}</div>}
          </>
        ) : (
          <span class="muted">{t('noAlerts')}</span>
        )}
      </td>
      <td>
        {item.oldestOpenAlertAt ? (
          <time dateTime={item.oldestOpenAlertAt}>
            {fmtRelative(item.oldestOpenAlertAt)}
            <div class="muted small">{fmtDateTime(item.oldestOpenAlertAt, item.timeZone)}</div>
          </time>
        ) : (
          <span class="muted">{t('none')}</span>
        )}
      </td>
      <td>
        {item.lastReadingAt ? (
          <time dateTime={item.lastReadingAt}>
            {fmtRelative(item.lastReadingAt)}
            <div class="muted small">{fmtDateTime(item.lastReadingAt, item.timeZone)}</div>
          </time>
        ) : (
          <span class="muted">{t('never')}</span>
        )}
      </td>
    </tr>
  );
}
