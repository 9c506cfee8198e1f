import { describe, expect, it } from 'vitest';
import {
  effectiveThreshold,
  evaluateRule,
  sortReadings,
  type AlertReading,
  type RuleKey,
  type ThresholdValue,
} from '../../../../src/domain/alerts/index.ts';

const H = 3_600_000;
/** 2026-11-22T08:00:00Z */
const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);
const NOW = T0 + 100 * H;

let seq = 0;
/** A reading `hours` after T0. */
function r(type: string, hours: number, value: number, id = `r${++seq}`): AlertReading {
  return { id, type, at: T0 + hours * H, value };
}
function bpReading(hours: number, systolic: number, diastolic: number, id = `bp${++seq}`): AlertReading {
  return { id, type: 'blood_pressure', at: T0 + hours * H, systolic, diastolic };
}
/** A series of one type, one reading an hour, ids `${prefix}0`, `${prefix}1`, … */
function hourly(type: string, values: number[], prefix = 'x'): AlertReading[] {
  return values.map((v, i) => r(type, i, v, `${prefix}${i}`));
}
function evaluate(rule: RuleKey, readings: AlertReading[], threshold?: ThresholdValue, now = NOW) {
  return evaluateRule(rule, { readings }, threshold ?? effectiveThreshold(rule, undefined), now);
}

describe('sortReadings', () => {
  it('orders by time, ties by id, without touching the input', () => {
    const input = [r('spo2', 2, 1, 'b'), r('spo2', 1, 1, 'z'), r('spo2', 2, 1, 'a')];
    expect(sortReadings(input).map((x) => x.id)).toEqual(['z', 'a', 'b']);
    expect(input.map((x) => x.id)).toEqual(['b', 'z', 'a']);
  });
});

describe('spo2_low (≤ 92 %)', () => {
  it('triggers at 92 and not at 92.1', () => {
    expect(evaluate('spo2_low', [r('spo2', 0, 92, 'a')])).toEqual({
      triggered: true,
      holdsNow: true,
      readingIds: ['a'],
      at: T0,
    });
    expect(evaluate('spo2_low', [r('spo2', 0, 92.1, 'a')])).toEqual({
      triggered: false,
      holdsNow: false,
      readingIds: [],
      at: null,
    });
  });

  it('reports the most recent occurrence and whether the latest reading still meets it', () => {
    const e = evaluate('spo2_low', hourly('spo2', [95, 90, 96, 91, 97]));
    expect(e).toEqual({ triggered: true, holdsNow: false, readingIds: ['x3'], at: T0 + 3 * H });
  });

  it('catches a past occurrence created by a late reading, which does not hold now', () => {
    const series = hourly('spo2', [96, 97, 98]);
    expect(evaluate('spo2_low', series).triggered).toBe(false);
    // arrives last, measured between the first two
    const late = r('spo2', 0.5, 89, 'late');
    const e = evaluate('spo2_low', [...series, late]);
    expect(e).toEqual({ triggered: true, holdsNow: false, readingIds: ['late'], at: T0 + 0.5 * H });
  });

  it('sorts readings given in any order', () => {
    const readings = hourly('spo2', [90, 97]).reverse();
    expect(evaluate('spo2_low', readings)).toMatchObject({ triggered: true, holdsNow: false, readingIds: ['x0'] });
  });

  it('breaks ties in time by id: the later id is the latest reading', () => {
    const e = evaluate('spo2_low', [r('spo2', 1, 97, 'b'), r('spo2', 1, 90, 'a')]);
    expect(e).toMatchObject({ triggered: true, holdsNow: false, readingIds: ['a'] });
  });

  it('applies a COPD override of 88: 90 no longer triggers, 88 does', () => {
    expect(evaluate('spo2_low', [r('spo2', 0, 90)], 88).triggered).toBe(false);
    expect(evaluate('spo2_low', [r('spo2', 0, 88.1)], 88).triggered).toBe(false);
    expect(evaluate('spo2_low', [r('spo2', 0, 88, 'a')], 88)).toMatchObject({ triggered: true, readingIds: ['a'] });
  });

  it('reads only SpO2 readings with a value', () => {
    const other = r('heart_rate', 1, 50);
    const noValue: AlertReading = { id: 'nv', type: 'spo2', at: T0 + 2 * H };
    expect(evaluate('spo2_low', [r('spo2', 0, 97), other, noValue])).toMatchObject({ triggered: false });
    // the reading without value is no reading: the latest SpO2 is still the low one
    expect(evaluate('spo2_low', [r('spo2', 0, 90, 'low'), noValue])).toMatchObject({
      holdsNow: true,
      readingIds: ['low'],
    });
  });

  it('does not trigger without readings', () => {
    expect(evaluate('spo2_low', [])).toEqual({ triggered: false, holdsNow: false, readingIds: [], at: null });
    expect(evaluateRule('spo2_low', {}, 92, NOW).triggered).toBe(false);
  });
});

describe('bp_high (≥ 180 systolic or ≥ 110 diastolic)', () => {
  it('triggers at 180 systolic alone and at 110 diastolic alone', () => {
    expect(evaluate('bp_high', [bpReading(0, 180, 80, 's')])).toMatchObject({ triggered: true, readingIds: ['s'] });
    expect(evaluate('bp_high', [bpReading(0, 140, 110, 'd')])).toMatchObject({ triggered: true, readingIds: ['d'] });
  });

  it('does not trigger just below both', () => {
    expect(evaluate('bp_high', [bpReading(0, 179, 109)]).triggered).toBe(false);
  });

  it('uses both fields of an override', () => {
    const t = { systolic: 170, diastolic: 100 };
    expect(evaluate('bp_high', [bpReading(0, 170, 80)], t).triggered).toBe(true);
    expect(evaluate('bp_high', [bpReading(0, 160, 100)], t).triggered).toBe(true);
    expect(evaluate('bp_high', [bpReading(0, 169, 99)], t).triggered).toBe(false);
  });

  it('holds now only when the latest reading is high', () => {
    expect(evaluate('bp_high', [bpReading(0, 185, 90, 'hi'), bpReading(1, 130, 80)])).toMatchObject({
      triggered: true,
      holdsNow: false,
      readingIds: ['hi'],
    });
  });

  it('rejects a number as its threshold', () => {
    expect(() => evaluate('bp_high', [bpReading(0, 185, 90)], 180)).toThrow(TypeError);
  });
});

describe('fever (≥ 38.0 °C)', () => {
  it('triggers at 38.0 and not at 37.9', () => {
    expect(evaluate('fever', [r('body_temperature', 0, 38.0)]).triggered).toBe(true);
    expect(evaluate('fever', [r('body_temperature', 0, 37.9)]).triggered).toBe(false);
  });

  it('triggers on 100.4 °F converted to the stored unit', () => {
    expect(evaluate('fever', [r('body_temperature', 0, ((100.4 - 32) * 5) / 9)]).triggered).toBe(true);
  });

  it('rejects an object as its threshold', () => {
    expect(() => evaluate('fever', [r('body_temperature', 0, 39)], { systolic: 1, diastolic: 1 })).toThrow(
      /must be a number/,
    );
  });
});

describe('hypoglycemia (< 54 mg/dL, meter or CGM)', () => {
  it('does not trigger at 54 and triggers at 53.9', () => {
    expect(evaluate('hypoglycemia', [r('blood_glucose', 0, 54)]).triggered).toBe(false);
    expect(evaluate('hypoglycemia', [r('blood_glucose', 0, 53.9)]).triggered).toBe(true);
  });

  it('reads CGM readings too', () => {
    expect(evaluate('hypoglycemia', [r('cgm_glucose', 0, 50, 'c')])).toMatchObject({
      triggered: true,
      holdsNow: true,
      readingIds: ['c'],
    });
  });

  it('holds now on the latest glucose reading, meter and CGM together', () => {
    const readings = [r('cgm_glucose', 0, 50, 'c'), r('blood_glucose', 1, 90, 'm')];
    expect(evaluate('hypoglycemia', readings)).toMatchObject({ triggered: true, holdsNow: false, readingIds: ['c'] });
  });

  it('applies an override of 70', () => {
    expect(evaluate('hypoglycemia', [r('blood_glucose', 0, 65)]).triggered).toBe(false);
    expect(evaluate('hypoglycemia', [r('blood_glucose', 0, 65)], 70).triggered).toBe(true);
    expect(evaluate('hypoglycemia', [r('blood_glucose', 0, 70)], 70).triggered).toBe(false);
  });
});

describe('hyperglycemia (> 250 mg/dL for 2 readings in a row)', () => {
  it('does not trigger at 250 twice and triggers at 251 twice', () => {
    expect(evaluate('hyperglycemia', hourly('cgm_glucose', [250, 250])).triggered).toBe(false);
    expect(evaluate('hyperglycemia', hourly('cgm_glucose', [251, 251]))).toEqual({
      triggered: true,
      holdsNow: true,
      readingIds: ['x0', 'x1'],
      at: T0 + H,
    });
  });

  it('does not trigger on one high reading, nor on high readings alternating with normal ones', () => {
    expect(evaluate('hyperglycemia', hourly('cgm_glucose', [300])).triggered).toBe(false);
    expect(evaluate('hyperglycemia', hourly('cgm_glucose', [300, 200, 300, 200, 300])).triggered).toBe(false);
  });

  it('merges meter and CGM readings in one series: a normal meter reading breaks the run', () => {
    const cgmHighs = [r('cgm_glucose', 0, 300, 'c0'), r('cgm_glucose', 2, 300, 'c2')];
    expect(evaluate('hyperglycemia', [...cgmHighs, r('blood_glucose', 1, 180, 'm1')]).triggered).toBe(false);
    expect(evaluate('hyperglycemia', [...cgmHighs, r('blood_glucose', 1, 280, 'm1')])).toMatchObject({
      triggered: true,
      holdsNow: true,
      readingIds: ['m1', 'c2'],
    });
  });

  it('counts two readings in a row whatever the time between them', () => {
    const readings = [r('blood_glucose', 0, 300, 'a'), r('blood_glucose', 90, 300, 'b')];
    expect(evaluate('hyperglycemia', readings)).toMatchObject({ triggered: true, readingIds: ['a', 'b'] });
  });

  it('reports the most recent pair, and no longer holds after a normal reading', () => {
    const e = evaluate('hyperglycemia', hourly('cgm_glucose', [300, 310, 320, 200]));
    expect(e).toEqual({ triggered: true, holdsNow: false, readingIds: ['x1', 'x2'], at: T0 + 2 * H });
  });

  it('catches a past pair made by a late reading between two high ones', () => {
    const series = [r('cgm_glucose', 0, 300, 'a'), r('cgm_glucose', 1, 200, 'b'), r('cgm_glucose', 2, 190, 'c')];
    expect(evaluate('hyperglycemia', series).triggered).toBe(false);
    const late = r('blood_glucose', 0.5, 260, 'late');
    expect(evaluate('hyperglycemia', [...series, late])).toEqual({
      triggered: true,
      holdsNow: false,
      readingIds: ['a', 'late'],
      at: T0 + 0.5 * H,
    });
  });
});

describe('tachycardia (> 120 /min for 2 readings in a row)', () => {
  it('does not trigger at 120 twice, triggers at 121 twice', () => {
    expect(evaluate('tachycardia', hourly('heart_rate', [120, 120])).triggered).toBe(false);
    expect(evaluate('tachycardia', hourly('heart_rate', [121, 121]))).toMatchObject({
      triggered: true,
      holdsNow: true,
      readingIds: ['x0', 'x1'],
    });
  });

  it('does not trigger on alternating values', () => {
    expect(evaluate('tachycardia', hourly('heart_rate', [130, 80, 130, 80, 130])).triggered).toBe(false);
  });

  it('holds now only when the last two readings are both high', () => {
    expect(evaluate('tachycardia', hourly('heart_rate', [130, 130, 80, 130]))).toMatchObject({
      triggered: true,
      holdsNow: false,
      readingIds: ['x0', 'x1'],
      at: T0 + H,
    });
  });

  it('reads heart rate readings only', () => {
    const readings = [r('heart_rate', 0, 130), r('respiratory_rate', 1, 130), r('heart_rate', 2, 80)];
    expect(evaluate('tachycardia', readings).triggered).toBe(false);
  });

  it('catches a past pair made by a late reading', () => {
    const series = [r('heart_rate', 0, 130, 'a'), r('heart_rate', 2, 80, 'b')];
    expect(evaluate('tachycardia', series).triggered).toBe(false);
    expect(evaluate('tachycardia', [r('heart_rate', 1, 125, 'late'), ...series])).toMatchObject({
      triggered: true,
      holdsNow: false,
      readingIds: ['a', 'late'],
    });
  });
});

describe('bradycardia (< 40 /min for 2 readings in a row)', () => {
  it('does not trigger at 40 twice, triggers at 39 twice', () => {
    expect(evaluate('bradycardia', hourly('heart_rate', [40, 40])).triggered).toBe(false);
    expect(evaluate('bradycardia', hourly('heart_rate', [39, 39])).triggered).toBe(true);
  });

  it('does not trigger on alternating values', () => {
    expect(evaluate('bradycardia', hourly('heart_rate', [35, 60, 35, 60])).triggered).toBe(false);
  });
});

describe('weight_gain (weight change 72 h > +2.0 kg)', () => {
  it('does not trigger on exactly +2.0 kg, triggers above', () => {
    expect(evaluate('weight_gain', [r('body_weight', 0, 70.5), r('body_weight', 48, 72.5)]).triggered).toBe(false);
    expect(evaluate('weight_gain', [r('body_weight', 0, 70.5, 'a'), r('body_weight', 48, 72.6, 'b')])).toEqual({
      triggered: true,
      holdsNow: true,
      readingIds: ['a', 'b'],
      at: T0 + 48 * H,
    });
  });

  it('reads +2.0 kg as a clinician does despite binary rounding (64.4 − 62.4)', () => {
    expect(64.4 - 62.4).toBeGreaterThan(2);
    expect(evaluate('weight_gain', [r('body_weight', 0, 62.4), r('body_weight', 24, 64.4)]).triggered).toBe(false);
  });

  it('excludes a reading exactly 72 h before: the window is (at − 72 h, at]', () => {
    const readings = [r('body_weight', 0, 70), r('body_weight', 72, 73)];
    expect(evaluate('weight_gain', readings).triggered).toBe(false);
    const justInside = [r('body_weight', 0.001, 70, 'a'), r('body_weight', 72, 73, 'b')];
    expect(evaluate('weight_gain', justInside)).toMatchObject({ triggered: true, readingIds: ['a', 'b'] });
  });

  it('is latest − earliest of the window, not max − min', () => {
    // 70 → 73 → 71.5: the change ending at the last reading is +1.5
    const readings = [r('body_weight', 0, 70, 'a'), r('body_weight', 24, 73, 'b'), r('body_weight', 48, 71.5, 'c')];
    expect(evaluate('weight_gain', readings)).toEqual({
      triggered: true,
      holdsNow: false,
      readingIds: ['a', 'b'],
      at: T0 + 24 * H,
    });
    // a loss never triggers
    expect(evaluate('weight_gain', [r('body_weight', 0, 75), r('body_weight', 24, 70)]).triggered).toBe(false);
  });

  it('slides the window with each reading: a slow gain over more than 72 h does not trigger', () => {
    // +1 kg every 48 h: 4 kg over 8 days, never more than +1 kg within 72 h
    const slow = [0, 48, 96, 144, 192].map((h, i) => r('body_weight', h, 70 + i));
    expect(evaluate('weight_gain', slow, undefined, T0 + 200 * H).triggered).toBe(false);
  });

  it('reports the span of the most recent window that exceeds the threshold', () => {
    // 70 at 0 h, 71 at 30 h, 72.5 at 60 h, 73.5 at 100 h: windows ending at 60 h (70 → 72.5)
    // and at 100 h (71 → 73.5, the 0 h reading having left) both exceed 2.0
    const readings = [
      r('body_weight', 0, 70, 'w0'),
      r('body_weight', 30, 71, 'w30'),
      r('body_weight', 60, 72.5, 'w60'),
      r('body_weight', 100, 73.5, 'w100'),
    ];
    expect(evaluate('weight_gain', readings, undefined, T0 + 101 * H)).toEqual({
      triggered: true,
      holdsNow: true,
      readingIds: ['w30', 'w100'],
      at: T0 + 100 * H,
    });
  });

  it('applies an override of 1.5 kg', () => {
    const readings = [r('body_weight', 0, 70), r('body_weight', 24, 71.6)];
    expect(evaluate('weight_gain', readings).triggered).toBe(false);
    expect(evaluate('weight_gain', readings, 1.5).triggered).toBe(true);
    expect(evaluate('weight_gain', [r('body_weight', 0, 70), r('body_weight', 24, 71.5)], 1.5).triggered).toBe(false);
  });

  it('catches a past gain made by a late reading', () => {
    const series = [r('body_weight', 0, 70, 'a'), r('body_weight', 24, 71, 'b'), r('body_weight', 48, 70, 'c')];
    expect(evaluate('weight_gain', series).triggered).toBe(false);
    const late = r('body_weight', 30, 72.5, 'late');
    expect(evaluate('weight_gain', [...series, late])).toEqual({
      triggered: true,
      holdsNow: false,
      readingIds: ['a', 'late'],
      at: T0 + 30 * H,
    });
  });

  it('no longer holds when the latest weight is 7 days old or more (the indicator window)', () => {
    const readings = [r('body_weight', 0, 70), r('body_weight', 24, 73)];
    const latest = T0 + 24 * H;
    expect(evaluate('weight_gain', readings, undefined, latest + 7 * 24 * H - 1).holdsNow).toBe(true);
    expect(evaluate('weight_gain', readings, undefined, latest + 7 * 24 * H)).toMatchObject({
      triggered: true,
      holdsNow: false,
    });
  });

  it('does not trigger on a single reading', () => {
    expect(evaluate('weight_gain', [r('body_weight', 0, 120)]).triggered).toBe(false);
  });
});

describe('no_data (no reading of an expected type for 48 h)', () => {
  const noData = (
    expectedTypes: string[],
    lastReadingAt: Record<string, number | undefined>,
    threshold: number = 48,
    now = NOW,
  ) => evaluateRule('no_data', { expectedTypes, lastReadingAt }, threshold, now);

  it('does not trigger without expected types', () => {
    expect(noData([], {})).toEqual({ triggered: false, holdsNow: false, readingIds: [], at: null });
    // a type seen long ago but no longer expected does not count
    expect(noData([], { spo2: NOW - 500 * H })).toMatchObject({ triggered: false });
  });

  it('does not trigger while every expected type has a reading inside the last 48 h', () => {
    expect(noData(['spo2', 'heart_rate'], { spo2: NOW - 47 * H, heart_rate: NOW - 1 })).toMatchObject({
      triggered: false,
      holdsNow: false,
    });
  });

  it('holds from 48 h after the last reading of one expected type: the window is (now − 48 h, now]', () => {
    const last = NOW - 48 * H;
    expect(noData(['spo2'], { spo2: last + 1 }).holdsNow).toBe(false);
    expect(noData(['spo2', 'heart_rate'], { spo2: last, heart_rate: NOW })).toEqual({
      triggered: true,
      holdsNow: true,
      readingIds: [],
      at: NOW,
    });
  });

  it('gives as its time the earliest moment an expected type went overdue', () => {
    expect(noData(['spo2', 'heart_rate'], { spo2: NOW - 60 * H, heart_rate: NOW - 50 * H })).toMatchObject({
      holdsNow: true,
      at: NOW - 12 * H,
    });
  });

  it('holds for an expected type never seen', () => {
    expect(noData(['spo2'], {})).toEqual({ triggered: true, holdsNow: true, readingIds: [], at: null });
    expect(noData(['spo2'], { spo2: undefined }).holdsNow).toBe(true);
  });

  it('applies an override of 24 h', () => {
    const lastReadingAt = { body_weight: NOW - 30 * H };
    expect(noData(['body_weight'], lastReadingAt).holdsNow).toBe(false);
    expect(noData(['body_weight'], lastReadingAt, 24)).toMatchObject({ holdsNow: true, at: NOW - 6 * H });
  });
});

describe('occurrenceRanges: a bounded slice of the series (the aggregation job)', () => {
  const from = T0 + 10 * H;
  const sliced = (rule: RuleKey, readings: AlertReading[]) =>
    evaluateRule(
      rule,
      { readings, occurrenceRanges: [{ from, to: Infinity }] },
      effectiveThreshold(rule, undefined),
      NOW,
    );

  it('finds no occurrence at a reading before it, but still judges the latest reading', () => {
    expect(sliced('spo2_low', [r('spo2', 5, 85), r('spo2', 11, 97)])).toMatchObject({ triggered: false });
    expect(sliced('spo2_low', [r('spo2', 5, 85), r('spo2', 11, 90, 'now')])).toMatchObject({
      triggered: true,
      holdsNow: true,
      readingIds: ['now'],
    });
  });

  it('pairs the first evaluated reading with the reading before it for "in a row"', () => {
    const readings = [r('heart_rate', 9, 130, 'prev'), r('heart_rate', 10, 125, 'first')];
    expect(sliced('tachycardia', readings)).toMatchObject({ triggered: true, readingIds: ['prev', 'first'] });
    // A pair wholly before it is history.
    expect(
      sliced('tachycardia', [r('heart_rate', 8, 130), r('heart_rate', 9, 130), r('heart_rate', 10, 90)]),
    ).toMatchObject({ triggered: false });
  });

  it('judges no weight reading whose own 72 h lie partly before the slice', () => {
    // The 68 kg of 9 h is context for the readings of the slice (+3 kg at 11 h)…
    const readings = [r('body_weight', 9, 68), r('body_weight', 10, 70.5), r('body_weight', 11, 71)];
    expect(sliced('weight_gain', readings)).toMatchObject({
      triggered: true,
      readingIds: [readings[0].id, readings[2].id],
    });
    expect(sliced('weight_gain', [r('body_weight', 8, 68), r('body_weight', 9, 71)])).toMatchObject({
      triggered: false,
    });
  });

  it('finds occurrences inside the ranges only, not between them', () => {
    const readings = [r('spo2', 1, 85, 'in-first'), r('spo2', 5, 85, 'between'), r('spo2', 20, 97, 'latest')];
    const ranges = [
      { from: T0, to: T0 + 2 * H },
      { from: T0 + 20 * H, to: Infinity },
    ];
    expect(
      evaluateRule('spo2_low', { readings, occurrenceRanges: ranges }, effectiveThreshold('spo2_low', undefined), NOW),
    ).toMatchObject({ triggered: true, holdsNow: false, readingIds: ['in-first'] });
  });
});
