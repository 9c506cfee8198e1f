/**
 * The patient page's drawing rules and its CSV, by hand computation (issue #16
 * item 5): where lines break, which types are points, the least value range, the
 * targets and their sources, the order of the charts, CSV escaping.
 */
import { describe, expect, it } from 'vitest';
import { chartOrder, rawStyle, targetsOf, valueRange, withGaps } from '../../dashboard/src/chart-rules.ts';
import { csvField, localTime, READING_COLUMNS, readingsCsv } from '../../dashboard/src/readings-csv.ts';
import type { Reading } from '../../dashboard/src/types.ts';

const MIN = 60;
const HOUR = 3600;

describe('line breaks', () => {
  it('a CGM line breaks over a hole longer than three 5-minute intervals, not over a late reading', () => {
    // Every 5 min, then 14 min (late: joined), then 16 min (a hole: broken).
    const xs = [0, 5 * MIN, 10 * MIN, 24 * MIN, 40 * MIN, 45 * MIN];
    const style = rawStyle('cgm_glucose', xs);
    expect(style).toEqual({ join: true, maxGap: 15 * MIN });
    const [gx, [gy]] = withGaps(xs, [[100, 101, 102, 103, 104, 105]], style.maxGap);
    expect(gy).toEqual([100, 101, 102, 103, null, 104, 105]);
    expect(gx[4]).toBe(32 * MIN); // the break sits between the two readings
  });

  it('spot measurements (cuff, thermometer, meter) are points, never joined', () => {
    for (const type of ['blood_pressure', 'body_temperature', 'blood_glucose']) {
      expect(rawStyle(type, [0, 12 * HOUR, 24 * HOUR]).join, type).toBe(false);
    }
  });

  it('heart rate from a wearable is a line at its own interval; from spot checks, points', () => {
    const wearable = Array.from({ length: 30 }, (_, i) => i * 5 * MIN);
    expect(rawStyle('heart_rate', wearable)).toEqual({ join: true, maxGap: 15 * MIN });
    // Morning and evening checks, ten hours apart: not joined across the day.
    expect(rawStyle('heart_rate', [8 * HOUR, 20 * HOUR, 32 * HOUR]).join).toBe(false);
    expect(rawStyle('spo2', [0]).join).toBe(false);
  });

  it('a daily weight joins consecutive days and breaks over a missing day', () => {
    const style = rawStyle('body_weight', []);
    expect(style.maxGap).toBe(36 * HOUR);
    const day = 24 * HOUR;
    const [, [gy]] = withGaps([0, day, 3 * day], [[80, 80.4, 81]], style.maxGap);
    expect(gy).toEqual([80, 80.4, null, 81]);
  });
});

describe('value range', () => {
  it('weight noise of 0.8 kg is shown on at least ±2 kg (4 kg) around the data, padded 5 %', () => {
    const [lo, hi] = valueRange('body_weight', 78.0, 78.8);
    expect(hi - lo).toBeCloseTo(4.4, 10);
    expect((lo + hi) / 2).toBeCloseTo(78.4, 10);
  });

  it('a wide range is kept (padded), a glucose range includes its 70–180 target band', () => {
    const [lo, hi] = valueRange('body_weight', 70, 80);
    expect([lo, hi]).toEqual([69.5, 80.5]);
    const [glo, ghi] = valueRange('cgm_glucose', 110, 150, targetsOf('cgm_glucose'));
    expect(glo).toBeLessThan(70);
    expect(ghi).toBeGreaterThan(180);
  });

  it('SpO2 never goes above 100 %, nothing below 0', () => {
    const [lo, hi] = valueRange('spo2', 97, 99);
    expect(hi).toBe(100);
    expect(hi - lo).toBeCloseTo(11, 10); // 10 % at least, padded by 0.5 on each side, moved under the ceiling
    expect(valueRange('steps', 0, 10)[0]).toBe(0);
    expect(valueRange('heart_rate', null, null)).toEqual([0, 1]);
  });
});

describe('targets', () => {
  it('glucose 70–180 mg/dL, home blood pressure below 135/85, SpO2 by programme; each cites its source', () => {
    expect(targetsOf('cgm_glucose')).toMatchObject([{ component: 'value', low: 70, high: 180 }]);
    expect(targetsOf('blood_glucose')[0].source).toContain('Battelino');
    expect(targetsOf('blood_pressure')).toMatchObject([
      { component: 'systolic', low: null, high: 135 },
      { component: 'diastolic', low: null, high: 85 },
    ]);
    expect(targetsOf('blood_pressure')[0].source).toContain('ESH), J Hypertens 2021');
    expect(targetsOf('spo2')[0].source).toContain('BTS), Thorax 2017');
    expect(targetsOf('spo2')).toMatchObject([{ low: 94, high: 98 }]);
    expect(targetsOf('spo2', ['chronic_respiratory_failure'])).toMatchObject([{ low: 88, high: 92 }]);
    expect(targetsOf('body_weight')).toEqual([]);
    expect(targetsOf('heart_rate')).toEqual([]);
  });
});

describe('chart order', () => {
  const all = [
    'heart_rate',
    'spo2',
    'blood_pressure',
    'body_weight',
    'body_temperature',
    'cgm_glucose',
    'blood_glucose',
    'steps',
  ];
  const recent = new Set(all);

  it('diabetes: glucose first (CGM, then the meter)', () => {
    expect(chartOrder(all, ['diabetes'], recent).slice(0, 2)).toEqual(['cgm_glucose', 'blood_glucose']);
  });

  it('heart failure: weight, blood pressure, heart rate, SpO2, then the rest', () => {
    expect(chartOrder(all, ['heart_failure'], recent)).toEqual([
      'body_weight',
      'blood_pressure',
      'heart_rate',
      'spo2',
      'cgm_glucose',
      'blood_glucose',
      'body_temperature',
      'steps',
    ]);
  });

  it('both programmes: diabetes first, then heart failure; without one, glucose then vital signs', () => {
    expect(chartOrder(all, ['heart_failure', 'diabetes'], recent).slice(0, 4)).toEqual([
      'cgm_glucose',
      'blood_glucose',
      'body_weight',
      'blood_pressure',
    ]);
    expect(chartOrder(['body_weight', 'heart_rate', 'cgm_glucose'], [], recent)).toEqual([
      'cgm_glucose',
      'heart_rate',
      'body_weight',
    ]);
  });

  it("what the patient's devices send now comes before types with only older readings", () => {
    expect(chartOrder(['blood_pressure', 'body_weight', 'steps'], [], new Set(['steps', 'body_weight']))).toEqual([
      'body_weight',
      'steps',
      'blood_pressure',
    ]);
  });
});

describe('readings CSV', () => {
  it('RFC 4180 quoting; a text cell that a spreadsheet would run is neutralised; numbers as they are', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('-dev')).toBe("'-dev");
    expect(csvField(-3.5)).toBe('-3.5');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });

  it('one line per reading, oldest first, UTC and patient-local times, CRLF ends', () => {
    const base = { patientId: 'p', unit: 'mm[Hg]', receivedAt: '2026-12-01T08:00:05.000Z' };
    const readings: Reading[] = [
      {
        ...base,
        id: 'b2',
        deviceId: 'cuff',
        type: 'blood_pressure',
        at: '2026-12-01T08:00:00.000Z',
        systolic: 141,
        diastolic: 88,
        pulse: 72,
      },
      {
        ...base,
        id: 'b1',
        deviceId: 'cuff,2',
        type: 'blood_pressure',
        at: '2026-07-01T06:00:00.000Z',
        systolic: 128,
        diastolic: 80,
      },
    ];
    const csv = readingsCsv(readings, 'Europe/Paris');
    expect(csv.split('\r\n')).toEqual([
      READING_COLUMNS.join(','),
      '2026-07-01T06:00:00.000Z,2026-07-01 08:00:00,blood_pressure,,128,80,,mm[Hg],"cuff,2",b1,2026-12-01T08:00:05.000Z',
      '2026-12-01T08:00:00.000Z,2026-12-01 09:00:00,blood_pressure,,141,88,72,mm[Hg],cuff,b2,2026-12-01T08:00:05.000Z',
      '',
    ]);
    expect(localTime('2026-03-29T01:30:00Z', 'Europe/Paris')).toBe('2026-03-29 03:30:00'); // summer time began at 01:00 UTC
  });
});
