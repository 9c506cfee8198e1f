/**
 * The ambulatory glucose profile drawn with uPlot: the 25–75 and 5–95 percentile
 * bands, the median, and the target range 70–180 mg/dL (glucose-profile.ts computes it).
 */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { fmtNumber } from '../format.ts';
import { t } from '../i18n.ts';
import type { Profile } from '../glucose-profile.ts';
import { axisStyle, Chart, COLORS, valueAxis } from './chart.tsx';

const hhmm = (s: number) =>
  `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;

export function AgpChart({ profile }: { profile: Profile }) {
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(() => {
    const value = (_u: uPlot, v: number | null) => (v === null || v === undefined ? t('none') : fmtNumber(v, 0));
    const thin = (label: string, stroke: string): uPlot.Series => ({
      label,
      stroke,
      width: 1,
      value,
      points: { show: false },
    });
    return {
      series: [
        { label: t('agpTimeOfDay'), value: (_u, v) => (v === null || v === undefined ? t('none') : hhmm(v)) },
        thin(t('agpP95'), 'rgba(11, 92, 171, 0.45)'),
        thin(t('agpP75'), 'rgba(11, 92, 171, 0.7)'),
        { label: t('agpMedian'), stroke: COLORS.primary, width: 2.5, value, points: { show: false } },
        thin(t('agpP25'), 'rgba(11, 92, 171, 0.7)'),
        thin(t('agpP5'), 'rgba(11, 92, 171, 0.45)'),
        { label: t('agpTargetHigh'), stroke: COLORS.target, width: 1.5, dash: [6, 4], value, points: { show: false } },
        { label: t('agpTargetLow'), stroke: COLORS.target, width: 1.5, dash: [6, 4], value, points: { show: false } },
      ],
      bands: [
        { series: [1, 5], fill: 'rgba(11, 92, 171, 0.12)' },
        { series: [2, 4], fill: 'rgba(11, 92, 171, 0.28)' },
      ],
      scales: { x: { time: false, range: [0, 86_400] } },
      axes: [
        {
          ...axisStyle,
          splits: () => [0, 3, 6, 9, 12, 15, 18, 21, 24].map((h) => h * 3600),
          values: (_u, splits) => splits.map((s) => hhmm(s)),
        },
        valueAxis('mg/dL', 0),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
  }, []);
  const data = useMemo<uPlot.AlignedData>(() => {
    const c = (v: number) => profile.x.map(() => v);
    return [profile.x, profile.p95, profile.p75, profile.p50, profile.p25, profile.p5, c(180), c(70)];
  }, [profile]);
  const medians = profile.p50.filter((v): v is number => v !== null);
  const label = t('agpAria', {
    days: profile.days,
    minMedian: fmtNumber(Math.min(...medians), 0),
    maxMedian: fmtNumber(Math.max(...medians), 0),
  });
  return <Chart options={options} data={data} label={label} height={300} testId="chart-agp" />;
}
