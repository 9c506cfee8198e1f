/**
 * uPlot in a Preact component: the plot is made once per `options` (callers
 * memoise them) and fed new data with setData, sized to its container (tablets
 * rotate, windows resize). The container is an image for assistive technology,
 * with a text summary as its label.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { dateFormat, fmtNumber } from '../format.ts';

export interface ChartProps {
  /** Built once per change of shape (series, scales); data changes go through setData. */
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  /** The text alternative: what the chart shows, in a sentence or two. */
  label: string;
  height?: number;
  testId?: string;
}

export function Chart({ options, data, label, height = 260, testId }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current!;
    const width = Math.max(280, el.clientWidth || 600);
    const u = new uPlot({ ...options, width, height } as uPlot.Options, latest.current, el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    const u = plot.current;
    if (u && u.data !== data) u.setData(data);
  }, [data]);

  return <div class="chart" ref={box} role="img" aria-label={label} data-testid={testId} />;
}

/** Colours with at least 3:1 contrast on white (WCAG 1.4.11, graphics). */
export const COLORS = {
  primary: '#0b5cab',
  primaryBand: 'rgba(11, 92, 171, 0.16)',
  systolic: '#a4262c',
  systolicBand: 'rgba(164, 38, 44, 0.14)',
  diastolic: '#0b5cab',
  diastolicBand: 'rgba(11, 92, 171, 0.14)',
  threshold: '#8f3b00',
  target: '#19672f',
  targetBand: 'rgba(25, 103, 47, 0.10)',
  grid: '#d9dde3',
  axis: '#33383f',
};

export const axisStyle = {
  stroke: COLORS.axis,
  grid: { stroke: COLORS.grid, width: 1 },
  ticks: { stroke: COLORS.grid, width: 1 },
  font: '12px system-ui, sans-serif',
  labelFont: '12px system-ui, sans-serif',
};

/** A time axis labelled in the given zone and the browser's locale: times, and the date at midnight. */
export function timeAxis(timeZone: string | undefined): uPlot.Axis {
  const hm = dateFormat(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const hms = dateFormat(timeZone, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const day = dateFormat(timeZone, { day: 'numeric', month: 'short' });
  return {
    ...axisStyle,
    values: (_u, splits, _axis, _space, incr) =>
      splits.map((s) => {
        if (s === null || s === undefined) return '';
        const d = new Date(s * 1000);
        if (incr >= 86_400 - 7200) return day.format(d);
        if (incr < 60) return hms.format(d);
        const time = hm.format(d);
        return time === '00:00' ? `${time}\n${day.format(d)}` : time;
      }),
  };
}

/** A value axis with locale-formatted numbers and the unit as its label. */
export function valueAxis(unit: string, digits: number): uPlot.Axis {
  return {
    ...axisStyle,
    label: unit,
    labelSize: 18,
    size: 52,
    values: (_u, splits) => splits.map((v) => fmtNumber(v, digits)),
  };
}

/** uPlot's time scale in the given zone, so ticks fall on that zone's hours and midnights. */
export function tzDate(timeZone: string | undefined): ((ts: number) => Date) | undefined {
  if (!timeZone) return undefined;
  return (ts: number) => uPlot.tzDate(new Date(ts * 1000), timeZone);
}
