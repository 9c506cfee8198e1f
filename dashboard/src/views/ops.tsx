/**
 * The operator's view of live ingestion: GET /api/v1/ops/ingestion every second,
 * /readyz and the latest rejections every five. Each poll has at most one request
 * in flight (the next starts after the previous answered, or timed out), so a slow
 * service is never piled up on, and polling pauses while the tab is hidden.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api, ApiError, readiness } from '../api.ts';
import { fmtBytes, fmtDateTime, fmtInteger, fmtNumber, fmtRelative, fmtTime } from '../format.ts';
import { reasonLabel, t } from '../i18n.ts';
import type { IngestionReport, InstanceSummary, Page, Readiness, Rejection } from '../types.ts';
import { Chart, COLORS, timeAxis, valueAxis } from '../components/chart.tsx';
import { ErrorBox, errorText } from '../components/status.tsx';
import { History, LatencyWindows, type OpsIngestion, OpsDevices, OpsStorage } from './ops-panels.tsx';

const HISTORY_S = 120;
const REQUEST_TIMEOUT_MS = 8_000;

/**
 * Runs `task` every `intervalMs` (from the start of one run to the start of the
 * next), never two at once, not while the document is hidden. Returns whether it is
 * paused.
 */
export function usePoll(task: (signal: AbortSignal) => Promise<void>, intervalMs: number): boolean {
  const [paused, setPaused] = useState(false);
  const latest = useRef(task);
  latest.current = task;
  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    const tick = async () => {
      if (stopped || inFlight) return;
      if (document.hidden) {
        setPaused(true);
        return;
      }
      setPaused(false);
      inFlight = true;
      const started = performance.now();
      controller = new AbortController();
      const timeout = setTimeout(() => controller?.abort(), REQUEST_TIMEOUT_MS);
      try {
        await latest.current(controller.signal);
      } catch {
        // the task reports its own errors
      } finally {
        clearTimeout(timeout);
        inFlight = false;
      }
      if (stopped || document.hidden) {
        if (document.hidden) setPaused(true);
        return;
      }
      timer = setTimeout(
        () => {
          timer = undefined;
          void tick();
        },
        Math.max(0, intervalMs - (performance.now() - started)),
      );
    };
    const onVisibility = () => {
      if (document.hidden) {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        setPaused(true);
      } else if (timer === undefined && !inFlight) {
        void tick();
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs]);
  return paused;
}

/** Today: the time with seconds; before: the date too. */
function fmtReceived(iso: string): string {
  return new Date(iso).toDateString() === new Date().toDateString() ? fmtTime(iso, undefined, true) : fmtDateTime(iso);
}

const ms = (v: number | null) => (v === null ? t('none') : t('ms', { n: fmtNumber(v, v < 10 ? 1 : 0) }));

function Figure({ label, value, testId, hint }: { label: string; value: string; testId?: string; hint?: string }) {
  return (
    <div class="figure">
      <dt>{label}</dt>
      <dd data-testid={testId}>
        {value}
        {hint && <span class="muted small"> {hint}</span>}
      </dd>
    </div>
  );
}

export function OpsView() {
  const [report, setReport] = useState<OpsIngestion | null>(null);
  const [reportError, setReportError] = useState<unknown>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const [ready, setReady] = useState<Readiness | null>(null);
  const [readyError, setReadyError] = useState<unknown>(null);
  const [rejections, setRejections] = useState<Rejection[] | null>(null);
  const [history, setHistory] = useState<{ x: number[]; y: number[] }>({ x: [], y: [] });

  const paused = usePoll(async (signal) => {
    try {
      const r = await api.get<OpsIngestion>('/ops/ingestion', undefined, signal);
      const now = Date.now();
      setReport(r);
      setReportError(null);
      setUpdatedAt(now);
      // The service keeps the last two minutes second by second: the chart is full from the first poll.
      const from = Date.parse(r.recent.from) / 1000;
      setHistory({ x: r.recent.perSecond.map((_, i) => from + i + 1), y: r.recent.perSecond });
    } catch (e) {
      setReportError(e);
      throw e;
    }
  }, 1000);

  usePoll(async (signal) => {
    try {
      setReady(await readiness(signal));
      setReadyError(null);
    } catch (e) {
      setReady(null);
      setReadyError(e);
    }
  }, 5000);

  usePoll(async (signal) => {
    try {
      const page = await api.get<Page<Rejection>>('/rejections', { limit: 10 }, signal);
      setRejections(page.items);
    } catch {
      // the ingestion poll reports the service's state
    }
  }, 5000);

  const chartOptions = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      series: [
        {
          label: t('seriesTime'),
          value: (_u, v) => (v === null || v === undefined ? '' : fmtTime(v * 1000, undefined, true)),
        },
        {
          label: t('readingsPerSecond'),
          stroke: COLORS.primary,
          fill: COLORS.primaryBand,
          width: 2,
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '' : fmtNumber(v, 0)),
        },
      ],
      scales: {
        x: { time: true, range: (_u, _min, max) => [max - HISTORY_S, max] },
        y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.15)] },
      },
      axes: [timeAxis(undefined), valueAxis('/s', 0)],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }),
    [],
  );
  const chartData = useMemo<uPlot.AlignedData>(() => [history.x, history.y], [history]);
  const peak = history.y.length ? Math.max(...history.y) : 0;

  // A token that may not read these figures: say which role may. Any other failure keeps the view, with a banner.
  if (report === null && reportError instanceof ApiError && reportError.status === 403) {
    return (
      <section aria-labelledby="ops-title">
        <h1 id="ops-title">{t('opsTitle')}</h1>
        <ErrorBox error={reportError} needed="neededOperatorOrAdmin" />
      </section>
    );
  }

  const r = report;
  const reasons = r ? Object.entries(r.rejectionsByReason).filter(([, n]) => n > 0) : [];
  return (
    <section aria-labelledby="ops-title" class={reportError === null ? 'ops' : 'ops stale'} data-testid="ops">
      <div class="section-head">
        <h1 id="ops-title">{t('opsTitle')}</h1>
        {/* Not a live region: it changes every second. A pause is announced below. */}
        <p class="muted small">
          {paused
            ? t('paused')
            : updatedAt
              ? t('updatedAt', { at: fmtTime(updatedAt, undefined, true) })
              : t('loading')}
        </p>
      </div>
      <p class="visually-hidden" role="status" aria-live="polite">
        {paused ? t('paused') : ''}
      </p>
      {reportError !== null && (
        <p class="error-box" role="alert">
          {t('pollFailing', { message: errorText(reportError) })}
        </p>
      )}

      <div class="ops-top">
        <div class="card throughput">
          <h2 id="rps-label">{t('readingsPerSecond')}</h2>
          <p class="big-number" aria-labelledby="rps-label" data-testid="rps">
            {r ? fmtNumber(r.readingsPerSecond.last1s, 0) : t('none')}
          </p>
          <p class="muted small big-caption">{t('lastSecond')}</p>
          <dl class="figures compact">
            <Figure label={t('lastMinute')} value={r ? fmtNumber(r.readingsPerSecond.last1m, 1) : t('none')} />
            <Figure label={t('last15Minutes')} value={r ? fmtNumber(r.readingsPerSecond.last15m, 1) : t('none')} />
          </dl>
        </div>
        <figure class="card chart-card throughput-chart">
          <figcaption>
            <h2>{t('throughputChart')}</h2>
          </figcaption>
          <Chart
            options={chartOptions}
            data={chartData}
            height={220}
            testId="chart-throughput"
            label={t('throughputAria', {
              s: HISTORY_S,
              now: fmtNumber(history.y.at(-1) ?? 0, 0),
              peak: fmtNumber(peak, 0),
            })}
          />
        </figure>
      </div>

      <div class="ops-top ops-history">
        <LatencyWindows report={r} />
        <History report={r} />
      </div>

      <div class="ops-grid">
        <section class="card" aria-labelledby="queue-title">
          <h2 id="queue-title">{t('queue')}</h2>
          <dl class="figures">
            <Figure label={t('queueRows')} value={r ? fmtInteger(r.queue.rows) : t('none')} testId="queue-rows" />
            <Figure label={t('queueBytes')} value={r ? fmtBytes(r.queue.bytes) : t('none')} />
            <Figure label={t('queueWaiting')} value={r ? fmtInteger(r.queue.waitingMessages) : t('none')} />
          </dl>
        </section>

        <section class="card" aria-labelledby="devices-title">
          <h2 id="devices-title">{t('connectedDevices')}</h2>
          <p class="big-number medium" data-testid="connected-devices">
            {r ? fmtInteger(r.connectedDevices) : t('none')}
          </p>
          {r && (
            <p class="muted small">
              {t('listeners')}:{' '}
              {Object.entries(r.listeners)
                .map(([k, v]) => `${k} ${v}`)
                .join(' · ')}
            </p>
          )}
        </section>

        <section class="card" aria-labelledby="batches-title">
          <h2 id="batches-title">{t('batches')}</h2>
          <dl class="figures">
            <Figure label={t('batchRows')} value={r ? fmtNumber(r.batchRows.p50, 0) : t('none')} />
            <Figure label={t('commitP50')} value={r ? ms(r.commitMs.p50) : t('none')} />
            <Figure label={t('commitP99')} value={r ? ms(r.commitMs.p99) : t('none')} />
          </dl>
        </section>

        <section class="card" aria-labelledby="lag-title">
          <h2 id="lag-title">{t('aggregationLag')}</h2>
          <p class="big-number medium" data-testid="aggregation-lag">
            {r ? t('seconds', { n: fmtNumber(r.aggregation.lagSeconds, 1) }) : t('none')}
          </p>
          <p class="muted small">
            {r?.aggregation.lastRunAt
              ? t('aggregationLastRun', { at: fmtRelative(r.aggregation.lastRunAt) })
              : t('aggregationNeverRan')}
          </p>
        </section>

        {r?.notifications && (
          <section class="card" aria-labelledby="notifications-title">
            <h2 id="notifications-title">{t('notifications')}</h2>
            <dl class="figures">
              <Figure label={t('notificationsDead')} value={fmtInteger(r.notifications.dead)} testId="dead-letters" />
              <Figure label={t('notificationsPending')} value={fmtInteger(r.notifications.pending)} />
            </dl>
          </section>
        )}

        <section class="card" aria-labelledby="health-title">
          <h2 id="health-title">{t('health')}</h2>
          <dl class="figures" data-testid="health">
            <Health label={t('healthDatabase')} up={ready?.checks.database} />
            <Health label={t('healthBroker')} up={ready?.checks.broker} />
          </dl>
          {readyError !== null && <p class="error small">{errorText(readyError)}</p>}
        </section>
      </div>

      {r && <Instances report={r} />}

      <OpsDevices />
      <OpsStorage />

      <div class="ops-rejections">
        <section class="card" aria-labelledby="reasons-title">
          <h2 id="reasons-title">{t('rejectionsByReason')}</h2>
          {reasons.length === 0 ? (
            <p class="empty">{t('noRejections')}</p>
          ) : (
            <table data-testid="rejections-by-reason">
              <thead>
                <tr>
                  <th scope="col">{t('colReason')}</th>
                  <th scope="col" class="num">
                    {t('colCount')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {reasons
                  .sort((a, b) => b[1] - a[1])
                  .map(([reason, n]) => (
                    <tr key={reason}>
                      <th scope="row">
                        {reasonLabel(reason)} <code class="muted">{reason}</code>
                      </th>
                      <td class="num">{fmtInteger(n)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="card" aria-labelledby="latest-title">
          <h2 id="latest-title">{t('latestRejections')}</h2>
          {rejections === null || rejections.length === 0 ? (
            <p class="empty">{rejections === null ? t('loading') : t('noRejections')}</p>
          ) : (
            <div class="table-wrap">
              <table class="rejections" data-testid="latest-rejections">
                <thead>
                  <tr>
                    <th scope="col">{t('colReceived')}</th>
                    <th scope="col">{t('colDevice')}</th>
                    <th scope="col">{t('colReadingId')}</th>
                    <th scope="col">{t('colReason')}</th>
                    <th scope="col">{t('colDetail')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rejections.map((x, i) => (
                    <tr key={`${x.deviceId}/${x.readingId}/${i}`}>
                      <td class="nowrap">{fmtReceived(x.receivedAt)}</td>
                      <td class="nowrap">
                        <code>{x.deviceId}</code>
                      </td>
                      <td>
                        <code>{x.readingId ?? t('none')}</code>
                      </td>
                      <td>{reasonLabel(x.reason)}</td>
                      <td class="detail" title={x.detail}>
                        {x.detail}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </section>
  );
}

/** Every instance on the database (README, "Running several instances"), and their sum. */
function Instances({ report }: { report: IngestionReport }) {
  const { total } = report;
  return (
    <section class="card ops-instances" aria-labelledby="instances-title">
      <h2 id="instances-title">{t('instancesTitle')}</h2>
      <p data-testid="instances-total">
        {t('instancesTotal', {
          live: fmtInteger(total.live),
          rps: fmtNumber(total.readingsPerSecond.last1m, 1),
          devices: fmtInteger(total.connectedDevices),
          rows: fmtInteger(total.queue.rows),
        })}
      </p>
      {report.instancesUnavailable && <p class="error small">{t('instancesUnavailable')}</p>}
      <div class="table-wrap">
        <table data-testid="instances">
          <thead>
            <tr>
              <th scope="col">{t('colInstance')}</th>
              <th scope="col">{t('colState')}</th>
              <th scope="col" class="num">
                {t('colRateMinute')}
              </th>
              <th scope="col" class="num">
                {t('connectedDevices')}
              </th>
              <th scope="col" class="num">
                {t('colQueued')}
              </th>
              <th scope="col" class="num">
                {t('colAckP99')}
              </th>
              <th scope="col">{t('colReported')}</th>
            </tr>
          </thead>
          <tbody>
            {report.instances.map((i: InstanceSummary) => (
              <tr key={i.instanceId} class={i.live ? undefined : 'muted'}>
                <th scope="row">
                  <code>{i.instanceId}</code>
                </th>
                <td>
                  <span class={`badge ${i.live ? 'badge-ok' : 'badge-bad'}`}>
                    {i.self ? t('instanceThis') : i.live ? t('instanceLive') : t('instanceSilent')}
                  </span>
                </td>
                <td class="num">{fmtNumber(i.readingsPerSecond.last1m, 1)}</td>
                <td class="num">{fmtInteger(i.connectedDevices)}</td>
                <td class="num">{fmtInteger(i.queue.rows)}</td>
                <td class="num">{ms(i.ackLatencyMs.p99)}</td>
                <td class="nowrap">{i.self ? t('none') : fmtRelative(i.reportedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Health({ label, up }: { label: string; up: boolean | undefined }) {
  const text = up === undefined ? t('healthUnknown') : up ? t('healthUp') : t('healthDown');
  return (
    <div class="figure">
      <dt>{label}</dt>
      <dd>
        <span class={`badge ${up === undefined ? 'badge-neutral' : up ? 'badge-ok' : 'badge-bad'}`}>
          <span aria-hidden="true">{up === undefined ? '?' : up ? '●' : '✕'}</span> {text}
        </span>
      </dd>
    </div>
  );
}
