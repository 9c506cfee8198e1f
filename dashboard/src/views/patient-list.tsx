/**
 * The clinician's worklist: every patient the token may see (GET /patients, all
 * pages), with open alerts (count and worst), last reading and 30-day adherence.
 * Sorting, filtering and paging happen here, on the loaded list; by default the
 * most urgent patients come first.
 *
 * An administrator may not read clinical data (the summaries are null for them):
 * their list has, instead of those columns, each patient's programmes now
 * (GET /enrolments?active=true) and devices assigned now (GET /devices), and says
 * why, rather than a dash in every cell.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getAll } from '../api.ts';
import { fmtDateTime, fmtRelative } from '../format.ts';
import { locale, programmeLabel, ruleLabel, t, type MessageKey } from '../i18n.ts';
import { patientHref } from '../router.ts';
import { currentRole } from '../session.ts';
import type { DeviceState, Enrolment, Patient } from '../types.ts';
import { SEVERITY_RANK } from '../../../src/domain/alerts/rules.ts';
import { SeverityBadge } from '../components/alerts-panel.tsx';
import { ErrorBox, Loading } from '../components/status.tsx';

type SortKey = 'name' | 'timeZone' | 'alerts' | 'lastReading' | 'adherence';
type Direction = 'ascending' | 'descending';

const MAX_PATIENTS = 10_000;
const PAGE_SIZES = [10, 20, 50, 100];

/** Kept while the tab lives, so coming back from a patient finds the list as it was left. */
const remembered = {
  filter: '',
  onlyAlerts: false,
  sort: 'alerts' as SortKey,
  direction: 'descending' as Direction,
  page: 0,
  pageSize: 20,
};

const collator = new Intl.Collator(locale, { sensitivity: 'base', numeric: true });

const nameOf = (p: Patient) => p.displayName ?? p.id;

function compare(key: SortKey, a: Patient, b: Patient): number {
  switch (key) {
    case 'name':
      return collator.compare(nameOf(a), nameOf(b));
    case 'timeZone':
      return collator.compare(a.timeZone, b.timeZone);
    case 'alerts': {
      const sa = a.summary?.worstAlert ? SEVERITY_RANK[a.summary.worstAlert.severity] : -1;
      const sb = b.summary?.worstAlert ? SEVERITY_RANK[b.summary.worstAlert.severity] : -1;
      return sa - sb || (a.summary?.openAlerts ?? 0) - (b.summary?.openAlerts ?? 0);
    }
    case 'lastReading': {
      const la = a.summary?.lastReadingAt ? Date.parse(a.summary.lastReadingAt) : -Infinity;
      const lb = b.summary?.lastReadingAt ? Date.parse(b.summary.lastReadingAt) : -Infinity;
      return la === lb ? 0 : la < lb ? -1 : 1;
    }
    case 'adherence':
      return (a.summary?.adherenceDays ?? -1) - (b.summary?.adherenceDays ?? -1);
  }
}

const COLUMNS: readonly { key: SortKey; label: MessageKey; className?: string }[] = [
  { key: 'name', label: 'colPatient' },
  { key: 'timeZone', label: 'colTimeZone', className: 'col-tz' },
  { key: 'alerts', label: 'colAlerts' },
  { key: 'lastReading', label: 'colLastReading' },
  { key: 'adherence', label: 'colAdherence' },
];

/** What an administrator reads beside each patient: programmes now and devices assigned now. */
interface AdminFacts {
  programmes: Map<string, string[]>;
  devices: Map<string, DeviceState[]>;
}

const MAX_ADMIN_ROWS = 10_000;

async function adminFacts(signal: AbortSignal): Promise<AdminFacts> {
  const [enrolments, devices] = await Promise.all([
    getAll<Enrolment>('/enrolments', { active: 'true', limit: 100 }, MAX_ADMIN_ROWS, signal),
    getAll<DeviceState>('/devices', { limit: 100 }, MAX_ADMIN_ROWS, signal),
  ]);
  const facts: AdminFacts = { programmes: new Map(), devices: new Map() };
  for (const e of enrolments.items) {
    const list = facts.programmes.get(e.patientId) ?? [];
    if (!list.includes(e.programme)) list.push(e.programme);
    facts.programmes.set(e.patientId, list);
  }
  for (const d of devices.items) {
    if (!d.patientId) continue;
    facts.devices.set(d.patientId, [...(facts.devices.get(d.patientId) ?? []), d]);
  }
  return facts;
}

export function PatientListView() {
  const [patients, setPatients] = useState<Patient[] | null>(null);
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [filter, setFilter] = useState(remembered.filter);
  const [onlyAlerts, setOnlyAlerts] = useState(remembered.onlyAlerts);
  const [sort, setSort] = useState(remembered.sort);
  const [direction, setDirection] = useState(remembered.direction);
  const [page, setPage] = useState(remembered.page);
  const [pageSize, setPageSize] = useState(remembered.pageSize);
  const admin = currentRole() === 'admin';
  const [facts, setFacts] = useState<AdminFacts | null>(null);
  const columns = admin ? COLUMNS.slice(0, 2) : COLUMNS;

  useEffect(() => {
    Object.assign(remembered, { filter, onlyAlerts, sort, direction, page, pageSize });
  }, [filter, onlyAlerts, sort, direction, page, pageSize]);

  useEffect(() => {
    const abort = new AbortController();
    setError(null);
    Promise.all([
      getAll<Patient>('/patients', { limit: 500 }, MAX_PATIENTS, abort.signal),
      admin ? adminFacts(abort.signal) : Promise.resolve(null),
    ])
      .then(([r, f]) => {
        setFacts(f);
        setPatients(r.items);
        setTruncated(r.truncated);
      })
      .catch((e: unknown) => {
        if ((e as Error).name !== 'AbortError') setError(e);
      });
    return () => abort.abort();
  }, [attempt]);

  const shown = useMemo(() => {
    if (!patients) return [];
    const needle = filter.trim().toLocaleLowerCase(locale);
    const kept = patients.filter(
      (p) =>
        (!needle || nameOf(p).toLocaleLowerCase(locale).includes(needle) || p.id.toLowerCase().includes(needle)) &&
        (!onlyAlerts || (p.summary?.openAlerts ?? 0) > 0),
    );
    const sign = direction === 'ascending' ? 1 : -1;
    const key: SortKey = admin && sort !== 'name' && sort !== 'timeZone' ? 'name' : sort;
    const dir = key === sort ? sign : 1;
    return kept.sort((a, b) => dir * compare(key, a, b) || collator.compare(nameOf(a), nameOf(b)));
  }, [patients, filter, onlyAlerts, sort, direction, admin]);

  const pages = Math.max(1, Math.ceil(shown.length / pageSize));
  const current = Math.min(page, pages - 1);
  const rows = shown.slice(current * pageSize, (current + 1) * pageSize);

  const sortKey: SortKey = admin && sort !== 'name' && sort !== 'timeZone' ? 'name' : sort;
  const sortBy = (key: SortKey) => {
    if (key === sort) setDirection(direction === 'ascending' ? 'descending' : 'ascending');
    else {
      setSort(key);
      setDirection(key === 'name' || key === 'timeZone' ? 'ascending' : 'descending');
    }
    setPage(0);
  };

  return (
    <section aria-labelledby="patients-title">
      <h1 id="patients-title">{t('patientsTitle')}</h1>
      <div class="toolbar" role="search">
        <div class="field">
          <label for="patient-filter">{t('filterLabel')}</label>
          <input
            id="patient-filter"
            type="search"
            value={filter}
            placeholder={t('filterPlaceholder')}
            onInput={(e) => {
              setFilter((e.currentTarget as HTMLInputElement).value);
              setPage(0);
            }}
          />
        </div>
        {!admin && (
          <div class="field checkbox">
            <input
              id="only-alerts"
              type="checkbox"
              checked={onlyAlerts}
              onChange={(e) => {
                setOnlyAlerts((e.currentTarget as HTMLInputElement).checked);
                setPage(0);
              }}
            />
            <label for="only-alerts">{t('onlyOpenAlerts')}</label>
          </div>
        )}
      </div>

      {error !== null && (
        <ErrorBox error={error} needed="neededClinicianOrAdmin" onRetry={() => setAttempt(attempt + 1)} />
      )}
      {patients === null && error === null && <Loading />}
      {patients !== null && (
        <>
          {truncated && <p class="notice">{t('truncatedPatients', { n: patients.length })}</p>}
          {admin && (
            <p class="notice" data-testid="admin-list-notice">
              {t('adminListNotice')}
            </p>
          )}
          <div class="table-wrap">
            <table class="patients" data-testid="patient-table">
              <caption class="visually-hidden">{t('patientsTitle')}</caption>
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th
                      key={c.key}
                      scope="col"
                      class={c.className}
                      aria-sort={sortKey === c.key ? direction : undefined}
                    >
                      <button type="button" class="sort" onClick={() => sortBy(c.key)}>
                        {t(c.label)}
                        <span aria-hidden="true" class="sort-mark">
                          {sortKey === c.key ? (direction === 'ascending' ? ' ▲' : ' ▼') : ' ↕'}
                        </span>
                      </button>
                    </th>
                  ))}
                  {admin && (
                    <>
                      <th scope="col">{t('colProgramme')}</th>
                      <th scope="col">{t('colDevices')}</th>
                    </>
                  )}
                </tr>
              </thead>
              <tbody>
                {rows.map((p) =>
                  facts ? <AdminRow key={p.id} patient={p} facts={facts} /> : <PatientRow key={p.id} patient={p} />,
                )}
                {rows.length === 0 && (
                  <tr>
                    <td colSpan={admin ? 4 : 5} class="empty">
                      {patients.length === 0 ? t('noPatientsAtAll') : t('noPatients')}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label={t('pageOf', { page: current + 1, pages })}>
            <button
              type="button"
              class="button secondary"
              disabled={current === 0}
              onClick={() => setPage(current - 1)}
            >
              {t('previousPage')}
            </button>
            <span aria-live="polite">
              {t('pageOf', { page: current + 1, pages })} ·{' '}
              {shown.length === 1 ? t('patientCountOne') : t('patientCount', { n: shown.length })}
            </span>
            <button
              type="button"
              class="button secondary"
              disabled={current >= pages - 1}
              onClick={() => setPage(current + 1)}
            >
              {t('nextPage')}
            </button>
            <label class="page-size">
              {t('pageSize')}{' '}
              <select
                value={String(pageSize)}
                onChange={(e) => {
                  setPageSize(Number((e.currentTarget as HTMLSelectElement).value));
                  setPage(0);
                }}
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={String(n)}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </nav>
        </>
      )}
    </section>
  );
}

function AdminRow({ patient: p, facts }: { patient: Patient; facts: AdminFacts }) {
  const programmes = facts.programmes.get(p.id) ?? [];
  const devices = facts.devices.get(p.id) ?? [];
  return (
    <tr data-testid={`patient-row-${p.id}`}>
      <th scope="row">
        <a href={patientHref(p.id)}>{nameOf(p)}</a>
        {p.displayName && <div class="muted small">{p.id}</div>}
      </th>
      <td class="col-tz">{p.timeZone}</td>
      <td>
        {programmes.length > 0 ? (
          programmes.map(programmeLabel).join(', ')
        ) : (
          <span class="muted">{t('noEnrolments')}</span>
        )}
      </td>
      <td>
        {devices.length === 0 ? (
          <span class="muted">{t('noDevicesAssigned')}</span>
        ) : (
          devices.map((d) => (
            <div key={d.id}>
              <code>{d.id}</code>{' '}
              <span class="muted small">
                {d.lastSeenAt ? t('devicesLastContact', { at: fmtRelative(d.lastSeenAt) }) : t('transportUnknown')}
              </span>
            </div>
          ))
        )}
      </td>
    </tr>
  );
}

function PatientRow({ patient: p }: { patient: Patient }) {
  const s = p.summary;
  const adherence = s?.adherenceDays ?? null;
  return (
    <tr data-testid={`patient-row-${p.id}`}>
      <th scope="row">
        <a href={patientHref(p.id)}>{nameOf(p)}</a>
        {p.displayName && <div class="muted small">{p.id}</div>}
      </th>
      <td class="col-tz">{p.timeZone}</td>
      <td>
        {s && s.openAlerts > 0 ? (
          <>
            <strong>{s.openAlerts}</strong> <SeverityBadge severity={s.worstAlert?.severity} />
            {s.worstAlert && <div class="small">{ruleLabel(s.worstAlert.rule)}</div>}
          </>
        ) : (
          <span class="muted">{s ? t('noAlerts') : t('none')}</span>
        )}
      </td>
      <td>
        {s?.lastReadingAt ? (
          <time dateTime={s.lastReadingAt}>
            {fmtRelative(s.lastReadingAt)}
            <div class="muted small">{fmtDateTime(s.lastReadingAt, p.timeZone)}</div>
          </time>
        ) : (
          <span class="muted">{s ? t('never') : t('none')}</span>
        )}
      </td>
      <td>
        {adherence === null ? (
          <span class="muted">{t('none')}</span>
        ) : (
          <>
            <span class={adherence < 16 ? 'warn-text' : ''}>{t('adherenceValue', { n: adherence })}</span>
            <meter min={0} max={30} low={16} optimum={30} value={adherence} aria-hidden="true" />
            {adherence < 16 && <div class="small warn-text">{t('adherenceLow')}</div>}
          </>
        )}
      </td>
    </tr>
  );
}
