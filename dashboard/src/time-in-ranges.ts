/**
 * Time in ranges as the international consensus shows it (Battelino et al.,
 * Diabetes Care 2019;42:1593): one stacked bar, very high on top, very low at the
 * bottom, each with its share and its target. The API's tbr_70 includes tbr_54
 * and tar_180 includes tar_250 (indicators.md), so the low and high segments are
 * differences: low = tbr_70 − tbr_54, high = tar_180 − tar_250.
 */
import { fmtPercent } from './format.ts';
import { t } from './i18n.ts';
import type { Indicator } from './types.ts';

export interface Segment {
  key: string;
  label: string;
  range: string;
  value: number;
  target: string;
}

export function tirSegments(indicators: readonly Indicator[]): Segment[] | null {
  const v = (key: string) => indicators.find((i) => i.key === key)?.value;
  const tbr54 = v('tbr_54');
  const tbr70 = v('tbr_70');
  const tir = v('tir_70_180');
  const tar180 = v('tar_180');
  const tar250 = v('tar_250');
  if ([tbr54, tbr70, tir, tar180, tar250].some((x) => x === undefined || x === null)) return null;
  const clamp = (x: number) => Math.max(0, x);
  return [
    { key: 'very-high', label: t('tirVeryHigh'), range: '> 250', value: tar250!, target: `< ${fmtPercent(5, 0)}` },
    {
      key: 'high',
      label: t('tirHigh'),
      range: '181–250',
      value: clamp(tar180! - tar250!),
      target: `< ${fmtPercent(25, 0)} (> 180)`,
    },
    { key: 'in-range', label: t('tirInRange'), range: '70–180', value: tir!, target: `> ${fmtPercent(70, 0)}` },
    {
      key: 'low',
      label: t('tirLow'),
      range: '54–69',
      value: clamp(tbr70! - tbr54!),
      target: `< ${fmtPercent(4, 0)} (< 70)`,
    },
    { key: 'very-low', label: t('tirVeryLow'), range: '< 54', value: tbr54!, target: `< ${fmtPercent(1, 0)}` },
  ];
}
