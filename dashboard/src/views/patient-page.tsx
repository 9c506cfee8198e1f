/**
 * One patient: alerts, a chart per reading type over a chosen range, the readings
 * of the range as a table (and CSV), glucose (time in ranges, ambulatory glucose
 * profile), indicators and the thresholds editor. Everything in the patient's
 * time zone. The charts come in the order of the patient's programmes, then of
 * what their devices send now (chart-rules.ts).
 *
 * Which types the patient has: the daily series of the last 90 days, one request
 * per type, which also are the data of the long ranges (14, 30, 90 d). The short
 * ranges (24 h, 7 d) read the raw readings, page after page, up to a cap.
 *
 * An administrator may read who the patient is, their enrolments and their
 * devices, not their clinical data (README "Dashboard"): the page shows that and
 * says so, rather than empty figures.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, getAll } from '../api.ts';
import { currentRole } from '../session.ts';
import { fmtDateTime, fmtRelative } from '../format.ts';
import { ruleLabel, t, typeLabel, unitLabel } from '../i18n.ts';
import type {
  Alert,
  Bucket,
  DeviceState,
  Enrolment,
  Indicator,
  Patient,
  Reading,
  Review,
  Series,
  ThresholdEntry,
} from '../types.ts';
import { chartOrder } from '../chart-rules.ts';
import { ReadingsTable } from '../components/readings-table.tsx';
import { programmeLabel, transportLabel } from '../i18n.ts';
import { AgpChart } from '../components/agp-chart.tsx';
import { glucoseProfile } from '../glucose-profile.ts';
import { glucoseReportHref } from '../router.ts';
import { rt } from '../glucose-report-text.ts';
import { SEVERITY_RANK } from '../../../src/domain/alerts/rules.ts';
import { READING_TYPES, type ReadingType } from '../../../src/domain/reading-types.ts';
import { AlertsPanel, SeverityBadge } from '../components/alerts-panel.tsx';
import { IndicatorsPanel } from '../components/indicators-panel.tsx';
import {
  type ChartData,
  type ChartMarker,
  RANGES,
  type RangeKey,
  rangeLabel,
  ReadingChart,
} from '../components/reading-chart.tsx';
import { ALERT_RULES } from '../../../src/domain/alerts/rules.ts';
import { ErrorBox, Loading } from '../components/status.tsx';
import { ThresholdsEditor } from '../components/thresholds-editor.tsx';
import { TirBar } from '../components/tir-bar.tsx';

const DAY = 86_400_000;
const MAX_RAW_READINGS = 12_000;
const MAX_AGP_READINGS = 6_000;
/** A type with a reading in these last days is one the patient's devices send now. */
const RECENT_DAYS = 7;

/** Every reading type with its stored unit (device-protocol.md). */
const TYPES: readonly { type: ReadingType; unit: string }[] = READING_TYPES.map((s) => ({
  type: s.type,
  unit: s.storedUnit,
}));
const UNIT_OF = new Map<string, string>(TYPES.map((x) => [x.type, x.unit]));
const NO_PROGRAMMES: readonly string[] = [];

type Load<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; value: T };

const loading = { state: 'loading' } as const;

function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): [Load<T>, (v: T) => void, () => void] {
  const [result, setResult] = useState<Load<T>>(loading);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const abort = new AbortController();
    setResult(loading);
    load(abort.signal).then(
      (value) => setResult({ state: 'ready', value }),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setResult({ state: 'error', error });
      },
    );
    return () => abort.abort();
  }, [...deps, attempt]);
  return [result, (value: T) => setResult({ state: 'ready', value }), () => setAttempt((a) => a + 1)];
}

/** The clinical endpoints answer clinicians only: other roles are told so without a dozen 403s. */
function clinicianOnly(): Promise<never> {
  return Promise.reject(new ApiError(403, 'forbidden', 'this needs a clinician token'));
}

export function PatientPage({ id }: { id: string }) {
  const path = `/patients/${encodeURIComponent(id)}`;
  const clinician = currentRole() === 'clinician';
  const [patient] = useLoad((s) => api.get<Patient>(path, undefined, s), [id]);
  const [thresholds, setThresholds, retryThresholds] = useLoad(
    (s) =>
      clinician
        ? api.get<{ thresholds: ThresholdEntry[] }>(`${path}/thresholds`, undefined, s).then((r) => r.thresholds)
        : clinicianOnly(),
    [id],
  );
  const [indicators, , retryIndicators] = useLoad(
    (s) =>
      clinician
        ? api.get<{ indicators: Indicator[] }>(`${path}/indicators`, undefined, s).then((r) => r.indicators)
        : clinicianOnly(),
    [id],
  );
  const [alerts, setAlerts, retryAlerts] = useLoad(
    (s) =>
      clinician ? getAll<Alert>('/alerts', { patient: id, limit: 500 }, 2000, s).then((r) => r.items) : clinicianOnly(),
    [id],
  );
  const [loadedAt] = useState(() => Date.now());
  // Daily series of the last 90 days for every type: which types the patient has, and the long ranges.
  const [daily, , retryDaily] = useLoad(
    async (signal) => {
      if (!clinician) return clinicianOnly();
      const from = new Date(loadedAt - 90 * DAY).toISOString();
      const to = new Date(loadedAt + 60_000).toISOString();
      const all = await Promise.all(
        TYPES.map(({ type }) =>
          api
            .get<Series>(`${path}/series`, { type, bucket: 'day', from, to }, signal)
            .then((r) => [type, r.items] as const),
        ),
      );
      return new Map<string, Bucket[]>(all.filter(([, items]) => items.length > 0));
    },
    [id],
  );

  const [range, setRange] = useState<RangeKey>('24h');
  const [rangeEnd, setRangeEnd] = useState(loadedAt);
  const spec = RANGES.find((r) => r.key === range)!;
  const rangeStart = rangeEnd - spec.days * DAY;
  const programmes = patient.state === 'ready' ? (patient.value.summary?.programmes ?? NO_PROGRAMMES) : NO_PROGRAMMES;
  const presentTypes = useMemo(() => {
    if (daily.state !== 'ready') return [];
    const recentFrom = loadedAt - RECENT_DAYS * DAY;
    const recent = new Set(
      [...daily.value].filter(([, buckets]) => buckets.some((b) => Date.parse(b.end) > recentFrom)).map(([k]) => k),
    );
    return chartOrder([...daily.value.keys()], programmes, recent).map((type) => ({
      type,
      unit: UNIT_OF.get(type) ?? '',
    }));
  }, [daily, programmes.join(',')]);

  // Raw readings of the short ranges, per type.
  const [raw] = useLoad(
    async (signal) => {
      if (!spec.raw || presentTypes.length === 0) return new Map<string, ChartData>();
      const from = new Date(rangeStart).toISOString();
      const to = new Date(rangeEnd + 60_000).toISOString();
      const all = await Promise.all(
        presentTypes.map(({ type }) =>
          getAll<Reading>(`${path}/readings`, { type, from, to, limit: 1000 }, MAX_RAW_READINGS, signal).then(
            (r) => [type, { kind: 'raw', readings: r.items, truncated: r.truncated } as ChartData] as const,
          ),
        ),
      );
      return new Map<string, ChartData>(all);
    },
    [id, range, rangeEnd, presentTypes],
  );

  // A marker on each type's chart at the events of the patient's alerts (their readings' times).
  const markers = useMemo(() => {
    const byType = new Map<string, ChartMarker[]>();
    if (alerts.state !== 'ready') return byType;
    const add = (type: string, at: number, rule: string) => {
      const list = byType.get(type) ?? [];
      if (!list.some((m) => m.at === at)) {
        list.push({ at, label: t('eventMarker', { rule: ruleLabel(rule), at: fmtDateTime(at, tzOf(patient)) }) });
      }
      byType.set(type, list);
    };
    for (const a of alerts.value) {
      const event = a.event;
      if (!event || event.at === null) continue;
      if (event.readings && event.readings.length > 0) {
        for (const r of event.readings) add(r.type, Date.parse(r.at), a.rule);
      } else {
        for (const type of ALERT_RULES.find((r) => r.key === a.rule)?.types ?? [])
          add(type, Date.parse(event.at), a.rule);
      }
    }
    return byType;
  }, [alerts, patient]);

  const hasCgm = daily.state === 'ready' && daily.value.has('cgm_glucose');
  // The AGP reads the readings of the time-in-ranges window (`from` < at ≤ `to` of the CGM
  // indicators): both panels count the same readings. Without CGM indicators, the last 14 days.
  const agpWindow = useMemo(() => cgmWindowOf(indicators), [indicators]);
  const [cgm] = useLoad(
    async (signal) => {
      if (!hasCgm) return [] as Reading[];
      if (agpWindow === 'waiting') return null;
      const from = agpWindow ? agpWindow.from : new Date(loadedAt - 14 * DAY).toISOString();
      // The readings API's `to` is exclusive: one millisecond more takes in a reading at `to`.
      const to = new Date((agpWindow ? Date.parse(agpWindow.to) : loadedAt) + 1).toISOString();
      return (
        await getAll<Reading>(
          `${path}/readings`,
          { type: 'cgm_glucose', from, to, limit: 1000 },
          MAX_AGP_READINGS,
          signal,
        )
      ).items;
    },
    [id, hasCgm, agpWindow === 'waiting' ? 'waiting' : `${agpWindow?.from}/${agpWindow?.to}`],
  );

  const chooseRange = (key: RangeKey) => {
    setRange(key);
    setRangeEnd(Date.now());
  };

  const onAlertChange = useCallback(
    (changed: Alert) => {
      if (alerts.state === 'ready') setAlerts(alerts.value.map((a) => (a.id === changed.id ? changed : a)));
    },
    [alerts, setAlerts],
  );

  if (patient.state === 'loading') return <Loading />;
  if (patient.state === 'error') return <ErrorBox error={patient.error} needed="neededClinicianOrAdmin" />;
  const p = patient.value;
  const tz = p.timeZone;
  const thresholdList = thresholds.state === 'ready' ? thresholds.value : [];
  const openAlerts = alerts.state === 'ready' ? alerts.value.filter((a) => a.status === 'open') : [];
  const worst = openAlerts.map((a) => a.severity).sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a])[0];

  // A token that may read the patient but not its clinical data (an admin's): one message, not five.
  const forbidden = [thresholds, indicators, alerts, daily].find(
    (l) => l.state === 'error' && l.error instanceof ApiError && l.error.status === 403,
  );

  const chartData = (type: string): ChartData | 'loading' | { error: unknown } => {
    if (spec.raw) {
      if (raw.state === 'loading') return 'loading';
      if (raw.state === 'error') return { error: raw.error };
      return raw.value.get(type) ?? { kind: 'raw', readings: [], truncated: false };
    }
    if (daily.state !== 'ready') return 'loading';
    const buckets = (daily.value.get(type) ?? []).filter((b) => Date.parse(b.end) > rangeStart);
    return { kind: 'daily', buckets };
  };

  return (
    <article class="patient" aria-labelledby="patient-title" data-testid="patient-page">
      <p>
        <a href="#/patients">← {t('backToList')}</a>
      </p>
      <header class="patient-header">
        <h1 id="patient-title">{p.displayName ?? p.id}</h1>
        <dl class="facts">
          <div>
            <dt>{t('patientId')}</dt>
            <dd>{p.id}</dd>
          </div>
          <div>
            <dt>{t('timeZone')}</dt>
            <dd>{tz}</dd>
          </div>
          {p.summary && (
            <div>
              <dt>{t('lastReading')}</dt>
              <dd data-testid="last-reading">
                {p.summary.lastReadingAt
                  ? `${fmtRelative(p.summary.lastReadingAt)} (${fmtDateTime(p.summary.lastReadingAt, tz)})`
                  : t('never')}
              </dd>
            </div>
          )}
          {p.summary && p.summary.programmes && p.summary.programmes.length > 0 && (
            <div>
              <dt>{t('colProgramme')}</dt>
              <dd data-testid="programmes">{p.summary.programmes.map(programmeLabel).join(', ')}</dd>
            </div>
          )}
          {clinician && <ReviewedFact patient={p} />}
          {clinician && (
            <div>
              <dt>{t('colAlerts')}</dt>
              <dd data-testid="open-alert-count">
                {alerts.state === 'ready' ? openAlerts.length : t('none')} <SeverityBadge severity={worst} />
              </dd>
            </div>
          )}
        </dl>
        {clinician && (
          <nav class="section-nav" aria-label={t('sections')}>
            <a href="#" data-target="alerts-section" onClick={jump}>
              {t('sectionAlerts')}
            </a>
            <a href="#" data-target="charts-section" onClick={jump}>
              {t('sectionCharts')}
            </a>
            <a href="#" data-target="readings-section" onClick={jump}>
              {t('readingsTitle')}
            </a>
            {hasCgm && (
              <a href="#" data-target="glucose-section" onClick={jump}>
                {t('sectionGlucose')}
              </a>
            )}
            <a href="#" data-target="indicators-section" onClick={jump}>
              {t('sectionIndicators')}
            </a>
            <a href="#" data-target="thresholds-section" onClick={jump}>
              {t('sectionThresholds')}
            </a>
          </nav>
        )}
      </header>

      {currentRole() === 'admin' ? (
        <AdminPatient patientId={p.id} timeZone={tz} />
      ) : forbidden && forbidden.state === 'error' ? (
        <ErrorBox error={forbidden.error} needed="neededClinician" />
      ) : (
        <>
          <section id="alerts-section" class="card" aria-labelledby="alerts-title" tabIndex={-1}>
            <h2 id="alerts-title">{t('alertsTitle')}</h2>
            {alerts.state === 'loading' && <Loading />}
            {alerts.state === 'error' && <ErrorBox error={alerts.error} onRetry={retryAlerts} />}
            {alerts.state === 'ready' && (
              <AlertsPanel alerts={alerts.value} thresholds={thresholdList} timeZone={tz} onChange={onAlertChange} />
            )}
          </section>

          <section id="charts-section" class="card" aria-labelledby="charts-title" tabIndex={-1}>
            <div class="section-head">
              <h2 id="charts-title">{t('sectionCharts')}</h2>
              <fieldset class="ranges" data-testid="range-selector">
                <legend>{t('rangeLabel')}</legend>
                {RANGES.map((r) => (
                  <label key={r.key} class={r.key === range ? 'range checked' : 'range'}>
                    <input
                      type="radio"
                      name="range"
                      value={r.key}
                      checked={r.key === range}
                      onChange={() => chooseRange(r.key)}
                    />
                    {rangeLabel(r.key)}
                  </label>
                ))}
              </fieldset>
            </div>
            <p class="muted small">
              {spec.raw ? t('rawPoints') : t('dailyBands')} · {fmtDateTime(rangeStart, tz)} –{' '}
              {fmtDateTime(rangeEnd, tz)} ({tz})
            </p>
            {daily.state === 'loading' && <Loading />}
            {daily.state === 'error' && <ErrorBox error={daily.error} onRetry={retryDaily} />}
            {daily.state === 'ready' && presentTypes.length === 0 && <p class="empty">{t('noReadingTypes')}</p>}
            <div class="charts">
              {presentTypes.map(({ type, unit }) => {
                const data = chartData(type);
                return (
                  <figure
                    key={type}
                    class="chart-card"
                    data-testid={`figure-${type}`}
                    data-range={typeof data === 'object' && 'kind' in data ? range : 'loading'}
                  >
                    <figcaption>
                      <h3>{typeLabel(type)}</h3>
                      <span class="muted">{unitLabel(unit)}</span>
                    </figcaption>
                    {data === 'loading' && <Loading />}
                    {typeof data === 'object' && 'error' in data && <ErrorBox error={data.error} />}
                    {typeof data === 'object' && 'kind' in data && (
                      <>
                        <ReadingChart
                          type={type}
                          unit={unit}
                          range={range}
                          from={rangeStart}
                          to={rangeEnd}
                          timeZone={tz}
                          data={data}
                          thresholds={thresholdList}
                          markers={markers.get(type)}
                          programmes={programmes}
                        />
                        {data.kind === 'raw' && data.truncated && (
                          <p class="muted small">{t('truncatedReadings', { n: data.readings.length })}</p>
                        )}
                      </>
                    )}
                  </figure>
                );
              })}
            </div>
          </section>

          {presentTypes.length > 0 && (
            <section id="readings-section" class="card" aria-labelledby="readings-title" tabIndex={-1}>
              <h2 id="readings-title">{t('readingsTitle')}</h2>
              <p class="muted small">
                {t('readingsIntro', { from: fmtDateTime(rangeStart, tz), to: fmtDateTime(rangeEnd, tz) })}
              </p>
              <ReadingsTable
                patientId={p.id}
                types={presentTypes.map((x) => x.type)}
                from={rangeStart}
                to={rangeEnd}
                timeZone={tz}
              />
            </section>
          )}

          {(hasCgm || (indicators.state === 'ready' && indicators.value.some((i) => i.key === 'tir_70_180'))) && (
            <section id="glucose-section" class="card" aria-labelledby="glucose-title" tabIndex={-1}>
              <h2 id="glucose-title">{t('glucoseTitle')}</h2>
              <div class="glucose">
                <div class="glucose-tir">
                  <h3>{t('tirTitle')}</h3>
                  {indicators.state === 'loading' && <Loading />}
                  {indicators.state === 'error' && <ErrorBox error={indicators.error} onRetry={retryIndicators} />}
                  {indicators.state === 'ready' && <TirBar indicators={indicators.value} timeZone={tz} />}
                </div>
                <figure class="glucose-agp" data-testid="figure-agp">
                  <figcaption>
                    <h3>{t('agpTitle')}</h3>
                  </figcaption>
                  {(cgm.state === 'loading' || (cgm.state === 'ready' && cgm.value === null)) && <Loading />}
                  {cgm.state === 'error' && <ErrorBox error={cgm.error} />}
                  {cgm.state === 'ready' && cgm.value !== null && (
                    <Agp readings={cgm.value} timeZone={tz} window={agpWindow === 'waiting' ? undefined : agpWindow} />
                  )}
                  {hasCgm && (
                    <p class="small">
                      <a href={glucoseReportHref(p.id)} data-testid="glucose-report-link">
                        {rt('link')}
                      </a>
                    </p>
                  )}
                </figure>
              </div>
            </section>
          )}

          <section id="indicators-section" class="card" aria-labelledby="indicators-title" tabIndex={-1}>
            <h2 id="indicators-title">{t('indicatorsTitle')}</h2>
            {indicators.state === 'loading' && <Loading />}
            {indicators.state === 'error' && <ErrorBox error={indicators.error} onRetry={retryIndicators} />}
            {indicators.state === 'ready' && <IndicatorsPanel indicators={indicators.value} timeZone={tz} />}
          </section>

          <section id="thresholds-section" class="card" aria-labelledby="thresholds-title" tabIndex={-1}>
            <h2 id="thresholds-title">{t('thresholdsTitle')}</h2>
            {thresholds.state === 'loading' && <Loading />}
            {thresholds.state === 'error' && <ErrorBox error={thresholds.error} onRetry={retryThresholds} />}
            {thresholds.state === 'ready' && (
              <ThresholdsEditor patientId={p.id} thresholds={thresholds.value} onSaved={setThresholds} />
            )}
          </section>
        </>
      )}
    </article>
  );
}

/**
 * The latest "reviewed" mark on the patient's data and a button marking today (the
 * patient's) reviewed: POST /patients/{id}/reviews, audited by the service.
 */
function ReviewedFact({ patient }: { patient: Patient }) {
  const [last, setLast] = useState(patient.summary?.lastReview ?? null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const mark = async () => {
    setBusy(true);
    setMessage('');
    try {
      const review = await api.post<Review>(`/patients/${encodeURIComponent(patient.id)}/reviews`);
      setLast({ day: review.day, reviewedAt: review.reviewedAt, reviewedBy: review.reviewedBy });
      setMessage(t('markedReviewed', { day: review.day }));
    } catch (e) {
      setMessage(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <dt>{t('reviewedLabel')}</dt>
      <dd data-testid="last-review">
        {last
          ? t('reviewedOn', { day: last.day, by: last.reviewedBy, at: fmtDateTime(last.reviewedAt, patient.timeZone) })
          : t('reviewedNever')}{' '}
        <button type="button" class="button secondary small" onClick={mark} disabled={busy}>
          {busy ? t('markingReviewed') : t('markReviewed')}
        </button>
        <span class="live" role="status" aria-live="polite">
          {message}
        </span>
      </dd>
    </div>
  );
}

/**
 * What an administrator may read of a patient (README "Dashboard"): their running
 * enrolments and the devices assigned to them now, with each device's last
 * contact; the clinical data is said to be for clinicians, not shown as empty.
 */
function AdminPatient({ patientId, timeZone }: { patientId: string; timeZone: string }) {
  const [devices, , retryDevices] = useLoad(
    (s) => getAll<DeviceState>('/devices', { patient: patientId, limit: 100 }, 1000, s).then((r) => r.items),
    [patientId],
  );
  const [enrolments, , retryEnrolments] = useLoad(
    (s) =>
      getAll<Enrolment>('/enrolments', { patient: patientId, active: 'true', limit: 100 }, 1000, s).then(
        (r) => r.items,
      ),
    [patientId],
  );
  return (
    <>
      <p class="notice" data-testid="admin-clinical-notice">
        {t('adminNoClinicalData')}
      </p>
      <section class="card" aria-labelledby="enrolments-title">
        <h2 id="enrolments-title">{t('enrolmentsTitle')}</h2>
        {enrolments.state === 'loading' && <Loading />}
        {enrolments.state === 'error' && <ErrorBox error={enrolments.error} onRetry={retryEnrolments} />}
        {enrolments.state === 'ready' &&
          (enrolments.value.length === 0 ? (
            <p class="empty">{t('noEnrolments')}</p>
          ) : (
            <ul data-testid="admin-enrolments">
              {enrolments.value.map((e) => (
                <li key={e.id}>
                  {programmeLabel(e.programme)} · {t('colTeam')} <code>{e.teamId}</code> ·{' '}
                  {t('enrolledSince', { at: fmtDateTime(e.from, timeZone) })}
                </li>
              ))}
            </ul>
          ))}
      </section>
      <section class="card" aria-labelledby="patient-devices-title">
        <h2 id="patient-devices-title">{t('patientDevicesTitle')}</h2>
        {devices.state === 'loading' && <Loading />}
        {devices.state === 'error' && <ErrorBox error={devices.error} onRetry={retryDevices} />}
        {devices.state === 'ready' &&
          (devices.value.length === 0 ? (
            <p class="empty">{t('noDevicesAssigned')}</p>
          ) : (
            <table data-testid="admin-devices">
              <thead>
                <tr>
                  <th scope="col">{t('colDevice')}</th>
                  <th scope="col">{t('colState')}</th>
                  <th scope="col">{t('colTransport')}</th>
                  <th scope="col">{t('colLastContact')}</th>
                </tr>
              </thead>
              <tbody>
                {devices.value.map((d) => (
                  <tr key={d.id} data-device={d.id}>
                    <th scope="row">
                      <code>{d.id}</code>
                      {d.model && <div class="muted small">{d.model}</div>}
                    </th>
                    <td>{d.enabled ? t('deviceEnabled') : t('deviceDisabled')}</td>
                    <td>{d.lastTransport ? transportLabel(d.lastTransport) : t('transportUnknown')}</td>
                    <td>
                      {d.lastSeenAt
                        ? `${fmtRelative(d.lastSeenAt)} (${fmtDateTime(d.lastSeenAt, timeZone)})`
                        : t('transportUnknown')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
      </section>
    </>
  );
}

function tzOf(patient: Load<Patient>): string | undefined {
  return patient.state === 'ready' ? patient.value.timeZone : undefined;
}

/** In-page links that do not touch the hash (it holds the route): scroll and move focus. */
function jump(event: MouseEvent) {
  event.preventDefault();
  const target = document.getElementById((event.currentTarget as HTMLElement).dataset.target ?? '');
  if (!target) return;
  target.scrollIntoView({ behavior: 'smooth', block: 'start' });
  target.focus({ preventScroll: true });
}

/** The window of the CGM indicators (time in ranges), none without them, 'waiting' while they load. */
function cgmWindowOf(indicators: Load<Indicator[]>): { from: string; to: string } | undefined | 'waiting' {
  if (indicators.state === 'loading') return 'waiting';
  if (indicators.state === 'error') return undefined;
  const tir = indicators.value.find((i) => i.key === 'tir_70_180');
  return tir && { from: tir.from, to: tir.to };
}

function Agp({
  readings,
  timeZone,
  window,
}: {
  readings: Reading[];
  timeZone: string;
  window?: { from: string; to: string };
}) {
  const profile = useMemo(() => glucoseProfile(readings, timeZone, window), [readings, timeZone, window]);
  if (profile.n === 0) return <p class="empty">{t('agpNone')}</p>;
  return (
    <>
      <AgpChart profile={profile} />
      <p class="muted small">{t('agpWindow', { days: profile.days, n: profile.n, tz: timeZone })}</p>
    </>
  );
}
