/**
 * The one-page glucose report in the manner of the AGP report of the International
 * Diabetes Center (README, "Glucose report (AGP)"): glucose statistics and targets,
 * the five ranges with the international consensus targets (Battelino et al.,
 * Diabetes Care 2019;42:1593), the ambulatory glucose profile and fourteen daily
 * profiles. Pure: the action gathers the indicators and readings, the API sends it
 * as JSON, the PDF and the dashboard's printable page draw it.
 */
import type { DailyProfile, GlucoseProfile } from './glucose-profile.ts';

/** The CGM indicators of indicators.md the report shows, in the order of its table. */
export const REPORT_INDICATOR_KEYS = [
  'cgm_mean',
  'gmi',
  'glucose_cv',
  'tir_70_180',
  'tbr_70',
  'tbr_54',
  'tar_180',
  'tar_250',
  'sensor_active',
] as const;

export type ReportIndicatorKey = (typeof REPORT_INDICATOR_KEYS)[number];

/** The report's default and longest period, in days (the AGP report's 14 days by default). */
export const REPORT_DEFAULT_DAYS = 14;
export const REPORT_MAX_DAYS = 90;

export interface ReportStatistic {
  key: ReportIndicatorKey;
  value: number | null;
  unit: string;
  n: number;
  sufficient: boolean;
}

export type RangeKey = 'very_high' | 'high' | 'in_range' | 'low' | 'very_low';

/** One of the five ranges of Battelino 2019 with its share of the readings and its target. */
export interface TimeInRange {
  key: RangeKey;
  /** mg/dL, as the consensus writes it: "<54", "54–69", "70–180", "181–250", ">250". */
  range: string;
  /** % of readings, null without readings. */
  value: number | null;
  /** The consensus target for most adults with type 1 or type 2 diabetes: `<` or `>` this percentage. */
  target: { op: '<' | '>'; percent: number };
  /** Targets of low and high apply to the level 1 and 2 ranges together (< 70, > 180). */
  combinedWith?: 'very_low' | 'very_high';
}

/**
 * The five ranges from the nested indicators: tbr_70 includes tbr_54 and tar_180
 * includes tar_250 (indicators.md), so low = tbr_70 − tbr_54 and high = tar_180 − tar_250
 * (never below 0 in floating point). Very high first, as the report stacks them.
 */
export function timeInRanges(value: (key: ReportIndicatorKey) => number | null): TimeInRange[] {
  const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, a - b));
  return [
    { key: 'very_high', range: '>250', value: value('tar_250'), target: { op: '<', percent: 5 } },
    {
      key: 'high',
      range: '181–250',
      value: diff(value('tar_180'), value('tar_250')),
      target: { op: '<', percent: 25 },
      combinedWith: 'very_high',
    },
    { key: 'in_range', range: '70–180', value: value('tir_70_180'), target: { op: '>', percent: 70 } },
    {
      key: 'low',
      range: '54–69',
      value: diff(value('tbr_70'), value('tbr_54')),
      target: { op: '<', percent: 4 },
      combinedWith: 'very_low',
    },
    { key: 'very_low', range: '<54', value: value('tbr_54'), target: { op: '<', percent: 1 } },
  ];
}

export interface GlucoseReport {
  patient: { id: string; displayName: string | null; timeZone: string };
  /** The period: `from` < at ≤ `to`, `days` × 24 h (RFC 3339 UTC). */
  days: number;
  from: string;
  to: string;
  /**
   * Where the statistics come from: `indicators` (the stored CGM indicators, exactly what
   * GET /patients/{id}/indicators returns; the 14-day report) or `readings` (the same
   * definitions computed over the readings of another period).
   */
  source: 'indicators' | 'readings';
  /** When the indicators were computed (source `indicators`), else null. */
  computedAt: string | null;
  /** Sensor active ≥ 70 % (Battelino 2019): below, the statistics are shown but flagged. */
  sufficient: boolean;
  statistics: ReportStatistic[];
  ranges: TimeInRange[];
  /** The AGP over the same readings as the statistics: agp.n equals the statistics' n. */
  agp: GlucoseProfile;
  daily: DailyProfile[];
}
