/**
 * One reading type of one patient over a range: each reading for the short ranges
 * (24 h, 7 d), the daily min–max band with the daily mean for the long ones
 * (14, 30, 90 d), blood pressure as systolic and diastolic together, steps as bars,
 * the patient's alert thresholds as dashed horizontal lines and the type's targets
 * as green bands (chart-rules.ts). Spot measurements are points; a continuous
 * sensor's line breaks where readings are further apart than its interval allows.
 */
import { useMemo } from 'preact/hooks';
import uPlot from 'uplot';
import { digitsOf, fmtDate, fmtDateTime, fmtNumber } from '../format.ts';
import { ruleLabel, t, typeLabel, unitLabel } from '../i18n.ts';
import type { Bucket, Reading, ThresholdEntry } from '../types.ts';
import type { RuleKey } from '../../../src/domain/alerts/rules.ts';
import { isReadingType, type ReadingType } from '../../../src/domain/reading-types.ts';
import { Chart, COLORS, timeAxis, tzDate, valueAxis } from './chart.tsx';
import { DAILY_MAX_GAP, rawStyle, type Target, targetsOf, valueRange, withGaps } from '../chart-rules.ts';

export type RangeKey = '24h' | '7d' | '14d' | '30d' | '90d';

export const RANGES: readonly { key: RangeKey; days: number; raw: boolean }[] = [
  { key: '24h', days: 1, raw: true },
  { key: '7d', days: 7, raw: true },
  { key: '14d', days: 14, raw: false },
  { key: '30d', days: 30, raw: false },
  { key: '90d', days: 90, raw: false },
];

export function rangeLabel(key: RangeKey): string {
  return t(`range${key}` as 'range24h');
}

export type ChartData = { kind: 'raw'; readings: Reading[]; truncated: boolean } | { kind: 'daily'; buckets: Bucket[] };

/** The alert rules whose thresholds are drawn on a type's chart (weight_gain is relative: no line). */
export const TYPE_RULES: Readonly<Record<ReadingType, readonly RuleKey[]>> = {
  spo2: ['spo2_low'],
  blood_pressure: ['bp_high'],
  body_temperature: ['fever'],
  blood_glucose: ['hypoglycemia', 'hyperglycemia'],
  cgm_glucose: ['hypoglycemia', 'hyperglycemia'],
  heart_rate: ['tachycardia', 'bradycardia'],
  body_weight: [],
  respiratory_rate: [],
  steps: [],
};

interface Line {
  label: string;
  value: number;
}

export function thresholdLines(type: string, thresholds: readonly ThresholdEntry[]): Line[] {
  const lines: Line[] = [];
  for (const rule of isReadingType(type) ? TYPE_RULES[type] : []) {
    const entry = thresholds.find((e) => e.rule === rule);
    if (!entry) continue;
    const v = entry.threshold;
    if (typeof v === 'number') lines.push({ label: ruleLabel(rule), value: v });
    else {
      lines.push({ label: `${ruleLabel(rule)}, ${t('seriesSystolic').toLowerCase()}`, value: v.systolic });
      lines.push({ label: `${ruleLabel(rule)}, ${t('seriesDiastolic').toLowerCase()}`, value: v.diastolic });
    }
  }
  return lines;
}

interface Props {
  type: string;
  unit: string;
  range: RangeKey;
  /** Epoch ms of the range drawn. */
  from: number;
  to: number;
  timeZone: string;
  data: ChartData;
  thresholds: readonly ThresholdEntry[];
  /** Alert events on this type (issue #14): a marker at each, epoch ms. */
  markers?: readonly ChartMarker[];
  /** The patient's programmes now: the SpO2 target depends on them. */
  programmes?: readonly string[];
}

export interface ChartMarker {
  at: number;
  label: string;
}

/**
 * Draws a marker (a labelled vertical line, an element over the plot) at each alert
 * event inside the range, redrawn with the plot (resize, new data).
 */
function markersPlugin(markers: readonly ChartMarker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        for (const old of u.over.querySelectorAll('.chart-marker')) old.remove();
        const [min, max] = [u.scales.x.min ?? -Infinity, u.scales.x.max ?? Infinity];
        for (const m of markers) {
          const x = m.at / 1000;
          if (x < min || x > max) continue;
          const el = document.createElement('div');
          el.className = 'chart-marker';
          el.style.left = `${u.valToPos(x, 'x')}px`;
          el.title = m.label;
          el.setAttribute('data-testid', 'chart-marker');
          el.setAttribute('data-at', new Date(m.at).toISOString());
          el.setAttribute('aria-label', m.label);
          el.setAttribute('role', 'img');
          u.over.appendChild(el);
        }
      },
    },
  };
}

/**
 * Fills each target band behind the series (null bound: to the plot's edge) and
 * draws its bounds. What was drawn, in canvas pixels, is left on the chart's
 * element (`data-target-bands`) for the browser tests.
 */
function targetsPlugin(targets: readonly Target[]): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        const { ctx, bbox } = u;
        const drawn: { component: string; low: number | null; high: number | null; top: number; bottom: number }[] = [];
        ctx.save();
        for (const target of targets) {
          const top = target.high === null ? bbox.top : Math.round(u.valToPos(target.high, 'y', true));
          const bottom = target.low === null ? bbox.top + bbox.height : Math.round(u.valToPos(target.low, 'y', true));
          const [y0, y1] = [Math.max(bbox.top, top), Math.min(bbox.top + bbox.height, bottom)];
          if (y1 <= y0) continue;
          ctx.fillStyle = COLORS.targetBand;
          ctx.fillRect(bbox.left, y0, bbox.width, y1 - y0);
          ctx.strokeStyle = COLORS.target;
          ctx.lineWidth = 1;
          for (const [v, y] of [
            [target.high, top],
            [target.low, bottom],
          ] as const) {
            if (v === null || y < bbox.top || y > bbox.top + bbox.height) continue;
            ctx.beginPath();
            ctx.moveTo(bbox.left, y + 0.5);
            ctx.lineTo(bbox.left + bbox.width, y + 0.5);
            ctx.stroke();
          }
          drawn.push({ component: target.component, low: target.low, high: target.high, top: y0, bottom: y1 });
        }
        ctx.restore();
        u.root.parentElement?.setAttribute('data-target-bands', JSON.stringify(drawn));
      },
    },
  };
}

/** Hides the legend rows of the series that only shape a band (the daily min and max). */
function legendPlugin(hidden: readonly number[]): uPlot.Plugin {
  return {
    hooks: {
      init: (u) => {
        const rows = u.root.querySelectorAll<HTMLElement>('.u-legend .u-series');
        for (const i of hidden) rows[i]?.style.setProperty('display', 'none');
      },
    },
  };
}

/** A target as a clinician reads it: "70–180 mg/dL", "systolic < 135". */
export function targetText(target: Target, digits: number, unit: string): string {
  const component =
    target.component === 'value'
      ? ''
      : `${(target.component === 'systolic' ? t('seriesSystolic') : t('seriesDiastolic')).toLowerCase()} `;
  const n = (v: number) => fmtNumber(v, digits);
  const range =
    target.low !== null && target.high !== null
      ? `${n(target.low)}–${n(target.high)}`
      : target.high !== null
        ? `< ${n(target.high)}`
        : `> ${n(target.low!)}`;
  return `${component}${range} ${unit}`.trim();
}

/** Legend values: the number under the cursor, nothing where a series has none (no dashes). */
function valueSeries(label: string, stroke: string, digits: number, extra: Partial<uPlot.Series> = {}): uPlot.Series {
  return {
    label,
    stroke,
    width: 1.5,
    value: (_u, v) => (v === null || v === undefined ? '' : fmtNumber(v, digits)),
    ...extra,
  };
}

/** Points only: spot measurements are not joined. */
const noLine: uPlot.Series.PathBuilder = () => null;

function thresholdSeries(line: Line, digits: number): uPlot.Series {
  return valueSeries(
    t('thresholdSeries', { rule: line.label, value: fmtNumber(line.value, digits) }),
    COLORS.threshold,
    digits,
    {
      dash: [6, 4],
      width: 1.5,
      points: { show: false },
      // The value is in the label: the legend repeats no constant.
      value: () => '',
    },
  );
}

const stepsRange: uPlot.Range.Function = (_u, _min, max) => [0, Math.max(10, (max ?? 0) * 1.1)];

const bars = uPlot.paths.bars!({ size: [0.6, 40], align: 0 });

const NO_MARKERS: readonly ChartMarker[] = [];

const NO_PROGRAMMES: readonly string[] = [];

export function ReadingChart({
  type,
  unit,
  range,
  from,
  to,
  timeZone,
  data,
  thresholds,
  markers = NO_MARKERS,
  programmes = NO_PROGRAMMES,
}: Props) {
  const digits = digitsOf(type);
  const lines = useMemo(() => thresholdLines(type, thresholds), [type, thresholds]);
  const targets = useMemo(() => targetsOf(type, programmes), [type, programmes]);
  const isBp = type === 'blood_pressure';
  const isSteps = type === 'steps';
  const u = unitLabel(unit);

  const built = useMemo(() => {
    const xs: number[] = [];
    const ys: (number | null)[][] = [];
    const series: uPlot.Series[] = [
      {
        label: data.kind === 'raw' ? t('seriesTime') : t('seriesDay'),
        value: (_u, v) =>
          v === null || v === undefined
            ? ''
            : data.kind === 'raw'
              ? fmtDateTime(v * 1000, timeZone)
              : fmtDate(v * 1000, timeZone),
      },
    ];
    const bands: uPlot.Band[] = [];
    const legendHidden: number[] = [];
    let maxGap = DAILY_MAX_GAP;
    let summary: string;
    const rangeText = rangeLabel(range);
    const typeText = typeLabel(type);

    if (data.kind === 'raw') {
      const readings = [...data.readings].reverse(); // the API gives newest first
      const n = readings.length;
      for (const r of readings) xs.push(Date.parse(r.at) / 1000);
      const style = rawStyle(type, xs);
      maxGap = style.maxGap;
      // Points where they are few or not joined; a dense sensor trace is a line.
      const points = { show: !style.join || n <= 150, size: style.join ? 5 : 6 };
      const line: Partial<uPlot.Series> = style.join ? {} : { paths: noLine };
      if (isBp) {
        ys.push(
          readings.map((r) => r.systolic ?? null),
          readings.map((r) => r.diastolic ?? null),
        );
        series.push(
          valueSeries(t('seriesSystolic'), COLORS.systolic, 0, {
            ...line,
            points: { ...points, fill: COLORS.systolic },
          }),
          valueSeries(t('seriesDiastolic'), COLORS.diastolic, 0, {
            ...line,
            points: { ...points, fill: COLORS.diastolic },
          }),
        );
        const sys = readings.map((r) => r.systolic ?? NaN);
        const dia = readings.map((r) => r.diastolic ?? NaN);
        summary = t('chartSummaryBp', {
          type: typeText,
          range: rangeText,
          n,
          sysMin: fmtNumber(Math.min(...sys), 0),
          sysMax: fmtNumber(Math.max(...sys), 0),
          diaMin: fmtNumber(Math.min(...dia), 0),
          diaMax: fmtNumber(Math.max(...dia), 0),
          unit: u,
        });
      } else {
        const values = readings.map((r) => r.value ?? null);
        ys.push(values);
        series.push(
          isSteps
            ? valueSeries(typeText, COLORS.primary, 0, {
                paths: bars,
                fill: COLORS.primaryBand,
                points: { show: false },
              })
            : valueSeries(typeText, COLORS.primary, digits, { ...line, points: { ...points, fill: COLORS.primary } }),
        );
        const nums = values.filter((v): v is number => v !== null);
        summary = t('chartSummaryRaw', {
          type: typeText,
          range: rangeText,
          n,
          min: fmtNumber(Math.min(...nums), digits),
          max: fmtNumber(Math.max(...nums), digits),
          mean: fmtNumber(nums.reduce((a, b) => a + b, 0) / (nums.length || 1), digits),
          unit: u,
        });
      }
    } else {
      const buckets = data.buckets;
      // Each day's values at its middle: an alert's event marker falls on its own day's values.
      for (const b of buckets) xs.push((Date.parse(b.start) + Date.parse(b.end)) / 2000);
      if (isBp) {
        const sys = buckets.map((b) => b.systolic);
        const dia = buckets.map((b) => b.diastolic);
        ys.push(
          sys.map((s) => s?.max ?? null),
          sys.map((s) => s?.min ?? null),
          sys.map((s) => s?.mean ?? null),
          dia.map((s) => s?.max ?? null),
          dia.map((s) => s?.min ?? null),
          dia.map((s) => s?.mean ?? null),
        );
        const thin = { width: 1, points: { show: false } };
        series.push(
          valueSeries(`${t('seriesSystolic')} max`, COLORS.systolicBand, 0, thin),
          valueSeries(`${t('seriesSystolic')} min`, COLORS.systolicBand, 0, thin),
          valueSeries(t('seriesSystolicMean'), COLORS.systolic, 0, { width: 2, points: { show: true, size: 5 } }),
          valueSeries(`${t('seriesDiastolic')} max`, COLORS.diastolicBand, 0, thin),
          valueSeries(`${t('seriesDiastolic')} min`, COLORS.diastolicBand, 0, thin),
          valueSeries(t('seriesDiastolicMean'), COLORS.diastolic, 0, { width: 2, points: { show: true, size: 5 } }),
        );
        bands.push({ series: [1, 2], fill: COLORS.systolicBand }, { series: [4, 5], fill: COLORS.diastolicBand });
        legendHidden.push(1, 2, 4, 5);
        const n = buckets.reduce((a, b) => a + (b.systolic?.count ?? 0), 0);
        summary = t('chartSummaryBp', {
          type: typeText,
          range: rangeText,
          n,
          sysMin: fmtNumber(Math.min(...sys.map((s) => s?.min ?? NaN).filter(Number.isFinite)), 0),
          sysMax: fmtNumber(Math.max(...sys.map((s) => s?.max ?? NaN).filter(Number.isFinite)), 0),
          diaMin: fmtNumber(Math.min(...dia.map((s) => s?.min ?? NaN).filter(Number.isFinite)), 0),
          diaMax: fmtNumber(Math.max(...dia.map((s) => s?.max ?? NaN).filter(Number.isFinite)), 0),
          unit: u,
        });
      } else if (isSteps) {
        ys.push(buckets.map((b) => b.sum ?? null));
        series.push(
          valueSeries(t('seriesDailyTotal'), COLORS.primary, 0, {
            paths: bars,
            fill: COLORS.primaryBand,
            points: { show: false },
          }),
        );
        const sums = buckets.map((b) => b.sum ?? 0);
        summary = t('chartSummaryDaily', {
          type: typeText,
          range: rangeText,
          days: buckets.length,
          min: fmtNumber(Math.min(...sums), 0),
          max: fmtNumber(Math.max(...sums), 0),
          mean: fmtNumber(sums.reduce((a, b) => a + b, 0) / (sums.length || 1), 0),
          unit: u,
        });
      } else {
        ys.push(
          buckets.map((b) => b.max ?? null),
          buckets.map((b) => b.min ?? null),
          buckets.map((b) => b.mean ?? null),
        );
        const thin = { width: 1, points: { show: false } };
        series.push(
          valueSeries(t('seriesMax'), COLORS.primaryBand, digits, thin),
          valueSeries(t('seriesMin'), COLORS.primaryBand, digits, thin),
          valueSeries(t('seriesMean'), COLORS.primary, digits, { width: 2, points: { show: true, size: 5 } }),
        );
        bands.push({ series: [1, 2], fill: COLORS.primaryBand });
        legendHidden.push(1, 2);
        const count = buckets.reduce((a, b) => a + (b.count ?? 0), 0);
        const mean = buckets.reduce((a, b) => a + (b.mean ?? 0) * (b.count ?? 0), 0) / (count || 1);
        summary = t('chartSummaryDaily', {
          type: typeText,
          range: rangeText,
          days: buckets.length,
          min: fmtNumber(Math.min(...buckets.map((b) => b.min ?? NaN).filter(Number.isFinite)), digits),
          max: fmtNumber(Math.max(...buckets.map((b) => b.max ?? NaN).filter(Number.isFinite)), digits),
          mean: fmtNumber(mean, digits),
          unit: u,
        });
      }
    }

    // Break lines over holes in the data (a sensor off, days without a reading).
    const [gx, gy] = isSteps ? [xs, ys.map((y) => [...y])] : withGaps(xs, ys, maxGap);

    if (lines.length > 0) {
      // Threshold lines run across the whole range, not only between the first and last reading.
      const start = from / 1000;
      const end = to / 1000;
      if (gx.length === 0 || gx[0] > start) {
        gx.unshift(start);
        for (const y of gy) y.unshift(null);
      }
      if (gx[gx.length - 1] < end) {
        gx.push(end);
        for (const y of gy) y.push(null);
      }
    }
    for (const line of lines) {
      gy.push(gx.map(() => line.value));
      series.push(thresholdSeries(line, digits));
    }
    if (lines.length > 0) {
      summary += ` ${t('chartThresholds', {
        list: lines.map((l) => `${l.label} ${fmtNumber(l.value, digits)} ${u}`).join(', '),
      })}`;
    }

    if (targets.length > 0) {
      summary += ` ${t('chartTargets', { list: targets.map((g) => targetText(g, digits, u)).join(', ') })}`;
    }

    const shown = markers.filter((m) => m.at >= from && m.at <= to);
    if (shown.length > 0) summary += ` ${shown.map((m) => m.label).join('; ')}.`;
    const plugins = [targetsPlugin(targets), legendPlugin(legendHidden)];
    if (shown.length > 0) plugins.push(markersPlugin(shown));
    const yRange: uPlot.Range.Function = (_u, min, max) => valueRange(type, min, max, targets);
    const options: Omit<uPlot.Options, 'width' | 'height'> = {
      plugins,
      series,
      bands,
      tzDate: tzDate(timeZone),
      scales: {
        x: { time: true, range: [from / 1000, to / 1000] },
        y: { range: isSteps ? stepsRange : yRange },
      },
      axes: [timeAxis(timeZone), valueAxis(u, digits)],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    return { options, data: [gx, ...gy] as uPlot.AlignedData, summary, empty: xs.length === 0 };
    // Rebuilt when what is drawn changes; the threshold lines' values are part of it.
  }, [data, type, range, from, to, timeZone, lines, targets, isBp, isSteps, digits, u, markers]);

  if (built.empty) {
    return (
      <p class="empty" data-testid={`chart-empty-${type}`}>
        {t('noReadingsInRange')}
      </p>
    );
  }
  return (
    <>
      <Chart options={built.options} data={built.data} label={built.summary} testId={`chart-${type}`} />
      {targets.length > 0 && (
        <p class="chart-target small" data-testid={`chart-target-${type}`}>
          <span class="target-swatch" aria-hidden="true" />
          {t('targetLegend')} {targets.map((g) => targetText(g, digits, u)).join(', ')}
          <span class="muted"> ({targets[0].source})</span>
        </p>
      )}
    </>
  );
}
