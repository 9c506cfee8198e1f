/**
 * How each reading type is drawn on the patient page, as pure functions (tested
 * in test/browser/dashboard-logic.test.ts): where a line breaks, which types are
 * points rather than lines, the least value range shown, the targets drawn as
 * bands, and the order of the charts.
 */
import type { Programme } from '../../src/domain/programmes.ts';
import { isReadingType, type ReadingType } from '../../src/domain/reading-types.ts';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/**
 * How a type's devices sample:
 * - `continuous`: a sensor sending on its own at a steady interval (a CGM every
 *   5 minutes, Battelino et al., Diabetes Care 2019;42:1593, the interval
 *   indicators.md assumes when a device's is unknown). Heart rate, SpO2 and
 *   respiratory rate come from wearables (continuous) or from spot checks: their
 *   interval is the data's own (the median between consecutive readings).
 * - `spot`: a measurement someone takes (a cuff, a thermometer, a meter) a few
 *   times a day at irregular times: drawn as points, never joined.
 * - `daily`: one a day (the morning weight of heart-failure telemonitoring):
 *   points joined from one day to the next, broken when a day is missing.
 */
export type Sampling =
  { kind: 'continuous'; nominalSeconds: number | null } | { kind: 'spot' } | { kind: 'daily' } | { kind: 'bars' };

export const SAMPLING: Readonly<Record<ReadingType, Sampling>> = {
  cgm_glucose: { kind: 'continuous', nominalSeconds: 5 * MINUTE },
  heart_rate: { kind: 'continuous', nominalSeconds: null },
  spo2: { kind: 'continuous', nominalSeconds: null },
  respiratory_rate: { kind: 'continuous', nominalSeconds: null },
  blood_pressure: { kind: 'spot' },
  blood_glucose: { kind: 'spot' },
  body_temperature: { kind: 'spot' },
  body_weight: { kind: 'daily' },
  steps: { kind: 'bars' },
};

/** A line is broken where two readings are further apart than this many expected intervals. */
export const GAP_FACTOR = 3;
/** A "continuous" type whose readings come less often than this is spot checks: points. */
const SPOT_BEYOND = HOUR;

/**
 * How the readings of one type are drawn over a short range (each reading):
 * `join` false: points only; else consecutive points are joined unless further
 * apart than `maxGap` seconds.
 */
export interface RawStyle {
  join: boolean;
  maxGap: number;
}

export function rawStyle(type: string, xs: readonly number[]): RawStyle {
  const sampling: Sampling = isReadingType(type) ? SAMPLING[type] : { kind: 'spot' };
  switch (sampling.kind) {
    case 'spot':
      return { join: false, maxGap: 0 };
    case 'daily':
      return { join: true, maxGap: 1.5 * DAY };
    case 'bars':
      return { join: true, maxGap: Infinity };
    case 'continuous': {
      const interval = sampling.nominalSeconds ?? median(intervals(xs));
      if (interval <= 0 || interval > SPOT_BEYOND) return { join: false, maxGap: 0 };
      return { join: true, maxGap: GAP_FACTOR * interval };
    }
  }
}

/** Daily values (14, 30, 90 days) are joined from one day to the next, broken over a missing day. */
export const DAILY_MAX_GAP = 1.6 * DAY;

function intervals(xs: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < xs.length; i++) out.push(xs[i] - xs[i - 1]);
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Inserts a null between two points further apart than `maxGap` seconds, so a line
 * is broken where there was no data instead of bridging it.
 */
export function withGaps(
  xs: readonly number[],
  ys: readonly (readonly (number | null)[])[],
  maxGap: number,
): [number[], (number | null)[][]] {
  const outX: number[] = [];
  const outY: (number | null)[][] = ys.map(() => []);
  for (let i = 0; i < xs.length; i++) {
    if (i > 0 && xs[i] - xs[i - 1] > maxGap) {
      outX.push((xs[i] + xs[i - 1]) / 2);
      for (const y of outY) y.push(null);
    }
    outX.push(xs[i]);
    ys.forEach((y, k) => outY[k].push(y[i]));
  }
  return [outX, outY];
}

/**
 * The least span of the value axis per type, in the stored unit, so that
 * measurement noise is not magnified into a spike: a scale reads to 0.1 kg and a
 * body's weight moves by a kilo within a day, so weight shows at least 4 kg
 * (±2 kg around the data); the others by the same reasoning.
 */
export const MIN_SPAN: Readonly<Record<ReadingType, number>> = {
  body_weight: 4,
  body_temperature: 2,
  heart_rate: 40,
  spo2: 10,
  respiratory_rate: 10,
  blood_pressure: 60,
  blood_glucose: 150,
  cgm_glucose: 150,
  steps: 1000,
};

/** Upper bounds a value cannot pass (SpO2 is a percentage). */
const CEILING: Partial<Record<ReadingType, number>> = { spo2: 100 };

/**
 * The value axis range of a type's chart: the data (min..max, thresholds included),
 * widened to the targets drawn, then to the type's least span around its middle,
 * padded by 5 % of the span on each side, never below 0 nor above the type's ceiling.
 */
export function valueRange(
  type: string,
  min: number | null,
  max: number | null,
  targets: readonly Target[] = [],
): [number, number] {
  const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);
  let lo = finite(min) ? min : null;
  let hi = finite(max) ? max : null;
  for (const t of targets) {
    for (const v of [t.low, t.high]) {
      if (v === null) continue;
      lo = lo === null ? v : Math.min(lo, v);
      hi = hi === null ? v : Math.max(hi, v);
    }
  }
  if (lo === null || hi === null) return [0, 1];
  const least = isReadingType(type) ? MIN_SPAN[type] : 1;
  if (hi - lo < least) {
    const mid = (lo + hi) / 2;
    lo = mid - least / 2;
    hi = mid + least / 2;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const ceiling = isReadingType(type) ? CEILING[type] : undefined;
  if (ceiling !== undefined && hi > ceiling) {
    lo -= hi - ceiling;
    hi = ceiling;
  }
  if (lo < 0) {
    hi -= lo;
    lo = 0;
    if (ceiling !== undefined) hi = Math.min(hi, ceiling);
  }
  return [lo, hi];
}

/**
 * A target drawn as a band: values from `low` to `high` (null: open on that side,
 * the band runs to the plot's edge), for one component of blood pressure or the
 * value of the others. Each with the source of its numbers.
 */
export interface Target {
  /** Which series it is for: `value`, or `systolic` / `diastolic`. */
  component: 'value' | 'systolic' | 'diastolic';
  low: number | null;
  high: number | null;
  source: string;
}

const GLUCOSE_TARGET: Target = {
  component: 'value',
  low: 70,
  high: 180,
  // Time in range 70–180 mg/dL (3.9–10.0 mmol/L), the international consensus on time
  // in range: the tir_70_180 indicator of indicators.md.
  source: 'Battelino et al., Diabetes Care 2019;42:1593',
};

/**
 * Home blood pressure below 135/85 mmHg: 2021 European Society of Hypertension
 * practice guidelines for office and out-of-office blood pressure measurement
 * (the bp_above_threshold indicator of indicators.md).
 */
const HOME_BP_SOURCE = 'Stergiou et al. (ESH), J Hypertens 2021;39:1293';
/** O'Driscoll et al., BTS guideline for oxygen use in adults, Thorax 2017;72(Suppl 1):ii1. */
const SPO2_SOURCE = "O'Driscoll et al. (BTS), Thorax 2017;72:ii1";

/**
 * The targets drawn on a type's chart. SpO2: 94–98 %, or 88–92 % for a patient
 * at risk of hypercapnic respiratory failure (enrolled for chronic respiratory
 * failure), O'Driscoll et al., BTS guideline for oxygen use in adults, Thorax
 * 2017;72:ii1 (the reference of the SpO2 indicators of indicators.md). Weight,
 * heart rate, temperature, respiratory rate and steps have no target there.
 */
export function targetsOf(type: string, programmes: readonly string[] = []): Target[] {
  switch (type) {
    case 'cgm_glucose':
    case 'blood_glucose':
      return [GLUCOSE_TARGET];
    case 'blood_pressure':
      return [
        { component: 'systolic', low: null, high: 135, source: HOME_BP_SOURCE },
        { component: 'diastolic', low: null, high: 85, source: HOME_BP_SOURCE },
      ];
    case 'spo2':
      return programmes.includes('chronic_respiratory_failure')
        ? [{ component: 'value', low: 88, high: 92, source: SPO2_SOURCE }]
        : [{ component: 'value', low: 94, high: 98, source: SPO2_SOURCE }];
    default:
      return [];
  }
}

/**
 * The types a clinician of each programme reads first, in that order: glucose for
 * diabetes (CGM, then the meter); for heart failure the weight (the sign of
 * congestion that telemonitoring watches), blood pressure, heart rate and SpO2
 * (HAS télésurveillance framework for heart failure, 2022; ESC 2021 heart failure
 * guidelines); for chronic respiratory failure SpO2, respiratory and heart rate;
 * for kidney failure and hypertension blood pressure and weight; for a cardiac
 * implantable device heart rate first.
 */
export const PROGRAMME_TYPES: Readonly<Record<Programme, readonly ReadingType[]>> = {
  diabetes: ['cgm_glucose', 'blood_glucose'],
  heart_failure: ['body_weight', 'blood_pressure', 'heart_rate', 'spo2'],
  chronic_respiratory_failure: ['spo2', 'respiratory_rate', 'heart_rate'],
  chronic_kidney_failure: ['blood_pressure', 'body_weight'],
  hypertension: ['blood_pressure', 'heart_rate', 'body_weight'],
  cardiac_implantable_device: ['heart_rate', 'blood_pressure'],
};

/** Which programme's types come first when a patient has several. */
const PROGRAMME_PRIORITY: readonly Programme[] = [
  'diabetes',
  'heart_failure',
  'chronic_respiratory_failure',
  'chronic_kidney_failure',
  'cardiac_implantable_device',
  'hypertension',
];

/** Without a programme saying otherwise: glucose, then the vital signs, then the rest. */
export const DEFAULT_ORDER: readonly ReadingType[] = [
  'cgm_glucose',
  'blood_glucose',
  'blood_pressure',
  'heart_rate',
  'spo2',
  'body_weight',
  'body_temperature',
  'respiratory_rate',
  'steps',
];

/**
 * The order of a patient's charts: first the types of their programmes (in the
 * programme's order; several programmes by PROGRAMME_PRIORITY), then the types
 * their devices send now (`recent`: a reading in the last days), then the types
 * with only older readings; within each group DEFAULT_ORDER.
 */
export function chartOrder<T extends string>(
  present: readonly T[],
  programmes: readonly string[],
  recent: ReadonlySet<string>,
): T[] {
  const preferred: string[] = [];
  for (const p of PROGRAMME_PRIORITY) {
    if (!programmes.includes(p)) continue;
    for (const type of PROGRAMME_TYPES[p]) if (!preferred.includes(type)) preferred.push(type);
  }
  const rank = (type: string): [number, number, number] => {
    const p = preferred.indexOf(type);
    const d = (DEFAULT_ORDER as readonly string[]).indexOf(type);
    return [p < 0 ? Infinity : p, recent.has(type) ? 0 : 1, d < 0 ? Infinity : d];
  };
  return [...present].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i] < rb[i] ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}
