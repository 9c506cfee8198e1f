/**
 * The operator view's panels beside the live figures (README, "Dashboard", "Operations"):
 * PUBACK latency over stated windows, the last fifteen minutes, the devices and the
 * storage. Each reads what GET /api/v1/ops/* returns; none counts anything itself.
 */
import { useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api } from '../api.ts';
import { fmtInteger, fmtNumber, fmtTime } from '../format.ts';
import { reasonLabel, t, transportLabel } from '../i18n.ts';
import type { IngestionReport, Latency } from '../types.ts';
import { Chart, COLORS, timeAxis, valueAxis } from '../components/chart.tsx';
import { errorText } from '../components/status.tsx';
import { When } from './device-list.tsx';
import { opsT } from './ops-labels.ts';
import { usePoll } from './ops.tsx';

/** What GET /api/v1/ops/ingestion adds to the live figures (src/http/routes/ops.routes.ts). */
export type OpsIngestion = IngestionReport & {
  latencyWindows: { seconds: number; ackMs: Latency; commitMs: Latency; batchRows: Latency }[];
  history: {
    minutes: { from: string; partial: boolean; stored: number; ackMs: Latency; commitMs: Latency }[];
  };
};

interface Storage {
  databaseBytes: number;
  readingPartitions: {
    name: string;
    from: string | null;
    to: string | null;
    bytes: number;
    estimatedRows: number | null;
  }[];
  largestTables: { name: string; bytes: number; estimatedRows: number | null }[];
}

interface OpsDevice {
  id: string;
  model: string | null;
  enabled: boolean;
  connected: boolean | null;
  lastSeenAt: string | null;
  lastTransport: string | null;
  lastReadingAt: string | null;
  lastRejection: { at: string; reason: string } | null;
  rejectionsLast24h: number;
}

const DEVICES_SHOWN = 50;

const ms = (v: number | null) => (v === null ? t('none') : t('ms', { n: fmtNumber(v, v < 10 ? 1 : 0) }));

/** Bytes with the unit that fits, up to TiB. */
export function fmtSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${fmtNumber(value, unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const windowName = (seconds: number) => (seconds === 60 ? opsT('lastMinuteWindow') : opsT('lastFiveMinutesWindow'));

/** PUBACK latency over the last minute and the last five: an idle window says so, never an older figure. */
export function LatencyWindows({ report }: { report: OpsIngestion | null }) {
  return (
    <section class="card" aria-labelledby="ack-title" data-testid="latency-windows">
      <h2 id="ack-title">{opsT('latencyWindows')}</h2>
      {(report?.latencyWindows ?? []).map((w) => (
        <div key={w.seconds} data-window={w.seconds}>
          <h3 class="small muted">{windowName(w.seconds)}</h3>
          {w.ackMs.samples === 0 ? (
            <p class="empty" data-testid={`ack-idle-${w.seconds}`}>
              {opsT('noMessagesIn', { window: windowName(w.seconds) })}
            </p>
          ) : (
            <>
              <dl class="figures compact">
                {(['p50', 'p95', 'p99', 'max'] as const).map((p) => (
                  <div class="figure" key={p}>
                    <dt>{p}</dt>
                    <dd data-testid={`ack-${p}-${w.seconds}`}>{ms(w.ackMs[p])}</dd>
                  </div>
                ))}
              </dl>
              <p class="muted small">
                {opsT('messagesIn', { n: fmtInteger(w.ackMs.samples), window: windowName(w.seconds) })} ·{' '}
                {opsT('commitIn', { value: ms(w.commitMs.p99), window: windowName(w.seconds) })}
              </p>
            </>
          )}
        </div>
      ))}
      <p class="muted small">{opsT('latencyAccuracy')}</p>
    </section>
  );
}

/** Fifteen clock minutes of this instance: readings stored per minute and PUBACK p50/p99. */
export function History({ report }: { report: OpsIngestion | null }) {
  const minutes = report?.history.minutes ?? [];
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      series: [
        {
          label: t('seriesTime'),
          value: (_u, v) => (v === null || v === undefined ? '' : fmtTime(v * 1000)),
        },
        {
          label: opsT('historyStored'),
          stroke: COLORS.primary,
          fill: COLORS.primaryBand,
          width: 2,
          scale: 'n',
          paths: (u, seriesIdx, idx0, idx1) => barsPath(u, seriesIdx, idx0, idx1),
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '' : fmtInteger(v)),
        },
        {
          label: opsT('historyAckP50'),
          stroke: '#5c6b00',
          width: 2,
          scale: 'ms',
          value: (_u, v) => (v === null || v === undefined ? '' : fmtNumber(v, 1)),
        },
        {
          label: opsT('historyAckP99'),
          stroke: COLORS.systolic,
          width: 2,
          dash: [6, 4],
          scale: 'ms',
          value: (_u, v) => (v === null || v === undefined ? '' : fmtNumber(v, 1)),
        },
      ],
      scales: {
        // Half a minute either side of the first and last minute: their bars are whole.
        x: { time: true, range: (_u, min, max) => [min - 30, max + 30] },
        n: { range: (_u, _min, max) => [0, Math.max(10, max * 1.15)] },
        ms: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] },
      },
      axes: [
        timeAxis(undefined),
        { ...valueAxis('/min', 0), scale: 'n' },
        { ...valueAxis('ms', 0), scale: 'ms', side: 1, grid: { show: false } },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }),
    [],
  );
  const data = useMemo<uPlot.AlignedData>(
    () => [
      minutes.map((m) => Date.parse(m.from) / 1000 + 30),
      minutes.map((m) => m.stored),
      minutes.map((m) => m.ackMs.p50),
      minutes.map((m) => m.ackMs.p99),
    ],
    [report],
  );
  const stored = minutes.reduce((a, m) => a + m.stored, 0);
  const p99s = minutes.map((m) => m.ackMs.p99).filter((v): v is number => v !== null);
  return (
    <figure class="card chart-card" data-testid="ops-history">
      <figcaption>
        <h2>{opsT('historyTitle')}</h2>
        <p class="muted small">{opsT('historyNote')}</p>
      </figcaption>
      <Chart
        options={options}
        data={data}
        height={300}
        testId="chart-history"
        label={opsT('historyAria', {
          stored: fmtInteger(stored),
          p99: p99s.length ? ms(Math.max(...p99s)) : t('none'),
        })}
      />
    </figure>
  );
}

/** uPlot bars, centred on each minute, 70 % of its width. */
function barsPath(u: uPlot, seriesIdx: number, idx0: number, idx1: number): uPlot.Series.Paths | null {
  const xs = u.data[0];
  const ys = u.data[seriesIdx];
  const path = new Path2D();
  const width = Math.max(2, (u.valToPos(60, 'x') - u.valToPos(0, 'x')) * 0.7 * devicePixelRatio);
  for (let i = idx0; i <= idx1; i++) {
    const y = ys[i];
    // A minute with nothing stored has no bar (its latencies are absent too).
    if (y === null || y === undefined || y === 0) continue;
    const cx = u.valToPos(xs[i], 'x', true);
    const top = u.valToPos(y, 'n', true);
    const bottom = u.valToPos(0, 'n', true);
    path.rect(cx - width / 2, top, width, bottom - top);
  }
  return { stroke: path, fill: path };
}

/** The devices (first page by id): how they reach the service and what it refused of them lately. No patient. */
export function OpsDevices() {
  const [devices, setDevices] = useState<{ items: OpsDevice[]; nextCursor: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePoll(async (signal) => {
    try {
      setDevices(await api.get('/ops/devices', { limit: DEVICES_SHOWN }, signal));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, 10_000);
  return (
    <section class="card ops-instances" aria-labelledby="ops-devices-title" data-testid="ops-devices">
      <h2 id="ops-devices-title">{opsT('opsDevicesTitle')}</h2>
      {error !== null && <p class="error small">{errorText(error)}</p>}
      {devices === null ? (
        <p class="empty">{t('loading')}</p>
      ) : devices.items.length === 0 ? (
        <p class="empty">{opsT('noOpsDevices')}</p>
      ) : (
        <div class="table-wrap">
          <table data-testid="ops-device-list">
            <thead>
              <tr>
                <th scope="col">{t('colDevice')}</th>
                <th scope="col">{opsT('colConnected')}</th>
                <th scope="col">{opsT('colLastContact')}</th>
                <th scope="col">{opsT('colLastReading')}</th>
                <th scope="col">{opsT('colLastRejection')}</th>
                <th scope="col" class="num">
                  {opsT('colRejections24h')}
                </th>
              </tr>
            </thead>
            <tbody>
              {devices.items.map((d) => (
                <tr key={d.id} data-device={d.id} class={d.enabled ? undefined : 'muted'}>
                  <th scope="row">
                    <code>{d.id}</code>
                    {!d.enabled && <div class="muted small">{t('deviceDisabled')}</div>}
                  </th>
                  <td data-testid="connected">
                    <span class={`badge ${d.connected ? 'badge-ok' : 'badge-neutral'}`}>
                      {d.connected ? opsT('connectedHere') : opsT('notConnected')}
                    </span>
                  </td>
                  <td>
                    <When iso={d.lastSeenAt} />
                    {d.lastTransport && <div class="muted small">{transportLabel(d.lastTransport)}</div>}
                  </td>
                  <td>
                    <When iso={d.lastReadingAt} />
                  </td>
                  <td>
                    <When iso={d.lastRejection?.at ?? null} />
                    {d.lastRejection && <div class="small">{reasonLabel(d.lastRejection.reason)}</div>}
                  </td>
                  <td class="num" data-testid="rejections-24h">
                    {fmtInteger(d.rejectionsLast24h)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {devices.nextCursor && (
            <p class="muted small">{opsT('opsDevicesMore', { n: fmtInteger(devices.items.length) })}</p>
          )}
        </div>
      )}
    </section>
  );
}

const monthFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', timeZone: 'UTC' });

/** The database's size, the readings' monthly partitions and the largest tables (catalog figures). */
export function OpsStorage() {
  const [storage, setStorage] = useState<Storage | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePoll(async (signal) => {
    try {
      setStorage(await api.get<Storage>('/ops/storage', undefined, signal));
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, 30_000);
  const rows = (n: number | null) => (n === null ? <span class="muted">{opsT('notAnalysed')}</span> : fmtInteger(n));
  return (
    <section class="card ops-instances" aria-labelledby="storage-title" data-testid="ops-storage">
      <h2 id="storage-title">{opsT('storageTitle')}</h2>
      {error !== null && <p class="error small">{errorText(error)}</p>}
      {storage === null ? (
        <p class="empty">{t('loading')}</p>
      ) : (
        <>
          <dl class="figures">
            <div class="figure">
              <dt>{opsT('databaseSize')}</dt>
              <dd data-testid="database-size">{fmtSize(storage.databaseBytes)}</dd>
            </div>
          </dl>
          <div class="ops-storage">
            <div>
              <h3 class="small">{opsT('partitionsTitle')}</h3>
              <table data-testid="partitions">
                <thead>
                  <tr>
                    <th scope="col">{opsT('colMonth')}</th>
                    <th scope="col" class="num">
                      {opsT('colSize')}
                    </th>
                    <th scope="col" class="num">
                      {opsT('colRowsEstimate')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {storage.readingPartitions.map((p) => (
                    <tr key={p.name}>
                      <th scope="row" title={p.name}>
                        {p.from ? monthFormat.format(new Date(p.from)) : <code>{p.name}</code>}
                      </th>
                      <td class="num">{fmtSize(p.bytes)}</td>
                      <td class="num">{rows(p.estimatedRows)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div>
              <h3 class="small">{opsT('largestTables')}</h3>
              <table data-testid="largest-tables">
                <thead>
                  <tr>
                    <th scope="col">{opsT('colTable')}</th>
                    <th scope="col" class="num">
                      {opsT('colSize')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {storage.largestTables.map((x) => (
                    <tr key={x.name}>
                      <th scope="row">
                        <code>{x.name}</code>
                      </th>
                      <td class="num">{fmtSize(x.bytes)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
          <p class="muted small">{opsT('storageNote')}</p>
        </>
      )}
    </section>
  );
}
