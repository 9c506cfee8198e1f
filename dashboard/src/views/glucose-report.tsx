/**
 * The printable glucose report of a patient (README, "Glucose report (AGP)"), at
 * #/patients/{id}/glucose-report: GET /patients/{id}/glucose-report drawn in the
 * layout of the AGP report (statistics and targets, time in ranges, the AGP, fourteen
 * daily profiles), the numbers of the PDF of the same API. Its print stylesheet
 * (glucose-report.css) puts it on one A4 or Letter page, without the dashboard around
 * it; the page also downloads the PDF the service draws.
 */
import { useEffect, useState } from 'preact/hooks';
import type { DailyProfile, GlucoseProfile } from '../../../src/domain/glucose-profile.ts';
import type { GlucoseReport, ReportIndicatorKey, TimeInRange } from '../../../src/domain/glucose-report.ts';
import { api, ApiError } from '../api.ts';
import { dateFormat, fmtFixed, fmtInteger, fmtNumber, fmtPercent } from '../format.ts';
import { RANGE_TEXT, rt } from '../glucose-report-text.ts';
import { patientHref } from '../router.ts';
import { currentCookieSession, readToken } from '../session.ts';
import { ErrorBox, Loading } from '../components/status.tsx';
import './glucose-report.css';

const PERIODS = [7, 14, 30, 90] as const;
/** The report's glucose axis, as the AGP report's: 0 to 350 mg/dL, higher values drawn at 350. */
const Y_MAX = 350;

type Load = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; report: GlucoseReport };

export function GlucoseReportView({ id }: { id: string }) {
  const [days, setDays] = useState(14);
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [pdfError, setPdfError] = useState<unknown>(null);
  const path = `/patients/${encodeURIComponent(id)}/glucose-report`;

  useEffect(() => {
    const abort = new AbortController();
    setLoad({ state: 'loading' });
    api.get<GlucoseReport>(path, { days }, abort.signal).then(
      (report) => setLoad({ state: 'ready', report }),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setLoad({ state: 'error', error });
      },
    );
    return () => abort.abort();
  }, [path, days]);

  const downloadPdf = async () => {
    setPdfError(null);
    try {
      const token = readToken();
      const response = await fetch(`/api/v1${path}.pdf?days=${days}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        credentials: !token && currentCookieSession() ? 'same-origin' : 'omit',
        cache: 'no-store',
      });
      if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await response.blob());
      link.download = `glucose-report-${id}.pdf`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (error) {
      setPdfError(error);
    }
  };

  return (
    <div class="glucose-report-page">
      <div class="report-actions" data-testid="report-actions">
        <a href={patientHref(id)}>← {rt('back')}</a>
        <label>
          {rt('days')}{' '}
          <select value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {PERIODS.map((n) => (
              <option key={n} value={String(n)}>
                {rt('daysOption', { n })}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="button" onClick={() => window.print()} disabled={load.state !== 'ready'}>
          {rt('print')}
        </button>
        <button type="button" class="button secondary" onClick={() => void downloadPdf()}>
          {rt('downloadPdf')}
        </button>
      </div>
      {pdfError !== null && <ErrorBox error={pdfError} />}
      {load.state === 'loading' && <Loading />}
      {load.state === 'error' && <ErrorBox error={load.error} needed="neededClinician" />}
      {load.state === 'ready' && <Report report={load.report} />}
    </div>
  );
}

function dateTime(iso: string, timeZone: string): string {
  return dateFormat(timeZone, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** A share of the day as hours and minutes: 4 % is 58 min, 70 % is 16 h 48 min. */
function perDay(percent: number): string {
  const minutes = Math.round((percent / 100) * 24 * 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
}

function Report({ report }: { report: GlucoseReport }) {
  const tz = report.patient.timeZone;
  const stat = (key: ReportIndicatorKey) => report.statistics.find((s) => s.key === key);
  const value = (key: ReportIndicatorKey) => stat(key)?.value ?? null;
  const name = report.patient.displayName ? `${report.patient.displayName} · ${report.patient.id}` : report.patient.id;
  const targets: [string, string][] = [
    [rt('tInRange'), rt('greater', { p: fmtPercent(70, 0), time: perDay(70) })],
    [rt('tBelow70'), rt('less', { p: fmtPercent(4, 0), time: perDay(4) })],
    [rt('tBelow54'), rt('less', { p: fmtPercent(1, 0), time: perDay(1) })],
    [rt('tAbove180'), rt('less', { p: fmtPercent(25, 0), time: perDay(25) })],
    [rt('tAbove250'), rt('less', { p: fmtPercent(5, 0), time: perDay(5) })],
  ];
  return (
    <article class="glucose-report" aria-labelledby="gr-title" data-testid="glucose-report">
      <header class="gr-header">
        <h1 id="gr-title">{rt('title')}</h1>
        <p>
          <span>{rt('patient', { name })}</span>
          <span>{rt('timeZone', { tz })}</span>
        </p>
      </header>
      <div class="gr-top">
        <section class="gr-stats" aria-labelledby="gr-stats-title">
          <h2 id="gr-stats-title">{rt('statsTitle')}</h2>
          <p class="gr-row">
            <span data-testid="gr-period">
              {rt('period', { from: dateTime(report.from, tz), to: dateTime(report.to, tz) })}
            </span>
            <span>{rt('nDays', { n: report.days })}</span>
          </p>
          <p class="gr-row">
            <span>{rt('sensorActive')}</span>
            <strong data-testid="gr-sensor_active">{fmtPercent(value('sensor_active'))}</strong>
          </p>
          <p class="gr-row">
            <span>{rt('readings')}</span>
            <strong data-testid="gr-n">{fmtInteger(stat('tir_70_180')?.n ?? 0)}</strong>
          </p>
          <h3>{rt('targetsTitle')}</h3>
          <table class="gr-targets">
            <thead>
              <tr>
                <th scope="col">{rt('rangesCol')}</th>
                <th scope="col">{rt('targetsCol')}</th>
              </tr>
            </thead>
            <tbody>
              {targets.map(([range, target]) => (
                <tr key={range}>
                  <td>{range}</td>
                  <td>{target}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="gr-note">{rt('fivePercent')}</p>
          <p class="gr-row gr-rule">
            <span>{rt('mean')}</span>
            <strong data-testid="gr-cgm_mean">{`${fmtFixed(value('cgm_mean'))} mg/dL`}</strong>
          </p>
          <p class="gr-row">
            <span>{rt('gmi')}</span>
            <strong data-testid="gr-gmi">{fmtPercent(value('gmi'))}</strong>
          </p>
          <p class="gr-row">
            <span>
              {rt('cv')}
              <br />
              <small>{rt('cvNote')}</small>
            </span>
            <strong data-testid="gr-glucose_cv">{fmtPercent(value('glucose_cv'))}</strong>
          </p>
          {!report.sufficient && (
            <p class="gr-insufficient" role="note">
              {rt('insufficient')}
            </p>
          )}
        </section>
        <section class="gr-tir" aria-labelledby="gr-tir-title">
          <h2 id="gr-tir-title">{rt('tirTitle')}</h2>
          <RangesBar ranges={report.ranges} />
        </section>
      </div>
      <section class="gr-agp" aria-labelledby="gr-agp-title">
        <h2 id="gr-agp-title">{rt('agpTitle')}</h2>
        <p class="gr-note">{rt('agpNote')}</p>
        <AgpSvg profile={report.agp} />
      </section>
      <section class="gr-daily" aria-labelledby="gr-daily-title">
        <h2 id="gr-daily-title">{rt('dailyTitle')}</h2>
        <p class="gr-note">{rt('dailyNote')}</p>
        <div class="gr-days">
          {report.daily.map((day) => (
            <DaySvg key={day.date} day={day} />
          ))}
        </div>
      </section>
      <footer class="gr-footer">
        {report.source === 'indicators' && report.computedAt
          ? rt('sourceIndicators', { at: dateTime(report.computedAt, tz) })
          : rt('sourceReadings')}{' '}
        {rt('references')}
      </footer>
    </article>
  );
}

function RangesBar({ ranges }: { ranges: TimeInRange[] }) {
  const total = ranges.reduce((sum, r) => sum + (r.value ?? 0), 0);
  return (
    <div class="gr-ranges">
      <div class="gr-bar" aria-hidden="true">
        {ranges.map((r) => (
          <div
            key={r.key}
            class={`tir-${r.key.replace('_', '-')}`}
            style={{ flexGrow: total > 0 ? (r.value ?? 0) : 0, minHeight: (r.value ?? 0) > 0 ? '2px' : '0' }}
          />
        ))}
      </div>
      <dl class="gr-legend">
        {ranges.map((r) => (
          <div key={r.key} class="gr-legend-row" data-testid={`gr-range-${r.key}`}>
            <dt>
              <span class={`swatch tir-${r.key.replace('_', '-')}`} aria-hidden="true" />
              <strong>{rt(RANGE_TEXT[r.key])}</strong>
              <br />
              <small>{r.range} mg/dL</small>
            </dt>
            <dd>
              <strong data-testid={`gr-range-value-${r.key}`}>{fmtPercent(r.value)}</strong>
              <br />
              <small>
                {r.value !== null && `${perDay(r.value)} · `}
                {rt('goal', { op: r.target.op, p: fmtPercent(r.target.percent, 0) })}
                {r.combinedWith ? (r.key === 'low' ? ' (<70)' : ' (>180)') : ''}
              </small>
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

const W = 1000;
const H = 340;
const PLOT = { x: 40, y: 8, w: 910, h: 302 };
const yOf = (g: number, box = PLOT) => box.y + box.h - (Math.min(Math.max(g, 0), Y_MAX) / Y_MAX) * box.h;
const xOf = (second: number, box = PLOT) => box.x + (second / 86_400) * box.w;
const hhmm = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;

/** Runs of consecutive slots where every given curve has a value. */
function runs(profile: GlucoseProfile, curves: (number | null)[][]): number[][] {
  const out: number[][] = [[]];
  profile.x.forEach((_, i) => {
    if (curves.every((c) => c[i] !== null)) out[out.length - 1].push(i);
    else if (out[out.length - 1].length > 0) out.push([]);
  });
  return out.filter((r) => r.length > 1);
}

function AgpSvg({ profile }: { profile: GlucoseProfile }) {
  const band = (lo: (number | null)[], hi: (number | null)[], cls: string) =>
    runs(profile, [lo, hi]).map((run, k) => (
      <polygon
        key={`${cls}${k}`}
        class={cls}
        points={[
          ...run.map((i) => `${xOf(profile.x[i])},${yOf(hi[i]!)}`),
          ...run.map((i) => `${xOf(profile.x[i])},${yOf(lo[i]!)}`).reverse(),
        ].join(' ')}
      />
    ));
  const curve = (values: (number | null)[], cls: string) =>
    runs(profile, [values]).map((run, k) => (
      <polyline
        key={`${cls}${k}`}
        class={cls}
        points={run.map((i) => `${xOf(profile.x[i])},${yOf(values[i]!)}`).join(' ')}
      />
    ));
  const medians = profile.p50.filter((v): v is number => v !== null);
  const label =
    profile.n === 0
      ? rt('agpNone')
      : rt('agpAria', {
          n: fmtInteger(profile.n),
          min: fmtNumber(Math.min(...medians), 0),
          max: fmtNumber(Math.max(...medians), 0),
        });
  return (
    <svg
      class="gr-agp-svg"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={label}
      data-testid="gr-agp"
      data-n={profile.n}
    >
      <rect class="gr-band" x={PLOT.x} y={yOf(180)} width={PLOT.w} height={yOf(70) - yOf(180)} />
      {[0, 3, 6, 9, 12, 15, 18, 21, 24].map((h) => (
        <g key={h}>
          <line class="gr-grid" x1={xOf(h * 3600)} x2={xOf(h * 3600)} y1={PLOT.y} y2={PLOT.y + PLOT.h} />
          <text class="gr-tick" x={xOf(h * 3600)} y={H - 8} text-anchor="middle">
            {hhmm(h)}
          </text>
        </g>
      ))}
      {[54, 70, 180, 250, 350].map((g) => (
        <g key={g}>
          <line
            class={g === 70 || g === 180 ? 'gr-target' : 'gr-grid'}
            x1={PLOT.x}
            x2={PLOT.x + PLOT.w}
            y1={yOf(g)}
            y2={yOf(g)}
          />
          <text class="gr-tick" x={PLOT.x - 6} y={yOf(g) + (g === 54 ? 8 : g === 70 ? -1 : 4)} text-anchor="end">
            {g}
          </text>
        </g>
      ))}
      {band(profile.p5, profile.p95, 'gr-p5-95')}
      {band(profile.p25, profile.p75, 'gr-p25-75')}
      {curve(profile.p5, 'gr-outer')}
      {curve(profile.p95, 'gr-outer')}
      {curve(profile.p50, 'gr-median')}
      {profile.n === 0 && (
        <text class="gr-empty" x={PLOT.x + PLOT.w / 2} y={PLOT.y + PLOT.h / 2} text-anchor="middle">
          {rt('agpNone')}
        </text>
      )}
      <text class="gr-tick" x={PLOT.x + PLOT.w + 4} y={PLOT.y + 8}>
        mg/dL
      </text>
      <rect class="gr-frame" x={PLOT.x} y={PLOT.y} width={PLOT.w} height={PLOT.h} />
    </svg>
  );
}

const DAY_BOX = { x: 0, y: 0, w: 140, h: 120 };

function DaySvg({ day }: { day: DailyProfile }) {
  const date = dateFormat('UTC', { weekday: 'short', day: 'numeric', month: 'short' }).format(
    new Date(`${day.date}T12:00:00Z`),
  );
  return (
    <figure class="gr-day" data-testid="gr-day" data-date={day.date} data-n={day.n}>
      <figcaption>{date}</figcaption>
      <svg viewBox={`0 0 ${DAY_BOX.w} ${DAY_BOX.h}`} role="img" aria-label={rt('dailyAria', { date, n: day.n })}>
        <rect
          class="gr-band"
          x={0}
          y={yOf(180, DAY_BOX)}
          width={DAY_BOX.w}
          height={yOf(70, DAY_BOX) - yOf(180, DAY_BOX)}
        />
        {[70, 180].map((g) => (
          <line key={g} class="gr-target" x1={0} x2={DAY_BOX.w} y1={yOf(g, DAY_BOX)} y2={yOf(g, DAY_BOX)} />
        ))}
        {[6, 12, 18].map((h) => (
          <line key={h} class="gr-grid" x1={xOf(h * 3600, DAY_BOX)} x2={xOf(h * 3600, DAY_BOX)} y1={0} y2={DAY_BOX.h} />
        ))}
        {day.runs.map((run, k) =>
          run.length === 1 ? (
            <circle key={k} class="gr-dot" cx={xOf(run[0][0], DAY_BOX)} cy={yOf(run[0][1], DAY_BOX)} r={1} />
          ) : (
            <polyline
              key={k}
              class="gr-trace"
              points={run.map(([s, g]) => `${xOf(s, DAY_BOX)},${yOf(g, DAY_BOX)}`).join(' ')}
            />
          ),
        )}
        {day.n === 0 && (
          <text class="gr-empty" x={DAY_BOX.w / 2} y={DAY_BOX.h / 2 + 20} text-anchor="middle">
            {rt('noReadings')}
          </text>
        )}
        <rect class="gr-frame" x={0.5} y={0.5} width={DAY_BOX.w - 1} height={DAY_BOX.h - 1} />
      </svg>
    </figure>
  );
}
