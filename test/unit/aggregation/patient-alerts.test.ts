/**
 * The bounded slices the job evaluates alert rules on (planAlertSlices): what it
 * loads, and what a late reading changes, without the patient's history.
 */
import { describe, expect, it } from 'vitest';
import { type AlertSlices, planAlertSlices, planPatientAlerts } from '../../../src/aggregation/patient-alerts.ts';
import type { AlertState } from '../../../src/domain/alerts/index.ts';
import type { PatientReading } from '../../../src/store/aggregation.repository.ts';

const H = 3_600_000;
const D = 24 * H;
const ZONE = 'Europe/Paris';
/** 2026-11-20T12:00:00Z, a Friday; "now" is five days later. */
const T0 = Date.UTC(2026, 10, 20, 12);
const NOW = T0 + 5 * D;

function reading(id: string, type: string, at: number, value: number): PatientReading {
  return { id, deviceId: 'dev', type, at, value, systolic: null, diastolic: null };
}

/** What the store returns for the slices: readings in the ranges, and the readings before and after. */
function load(all: readonly PatientReading[], slices: AlertSlices): PatientReading[] {
  const sorted = [...all].sort((a, b) => a.at - b.at);
  const picked = new Set<PatientReading>();
  for (const r of slices.ranges) {
    for (const x of sorted) if (x.type === r.type && x.at >= r.since && x.at <= r.until) picked.add(x);
  }
  for (const b of slices.previousBefore) {
    const found = sorted.filter((x) => x.type === b.type && x.at < b.at).at(-1);
    if (found) picked.add(found);
  }
  for (const a of slices.nextFrom) {
    const found = sorted.find((x) => x.type === a.type && x.at >= a.at);
    if (found) picked.add(found);
  }
  return [...picked];
}

function plan(all: PatientReading[], dirtyDays: { type: string; day: string; hours?: number[] }[], latest = new Map()) {
  const latestAt = new Map<string, number>();
  for (const r of all) latestAt.set(r.type, Math.max(latestAt.get(r.type) ?? -Infinity, r.at));
  const slices = planAlertSlices({ dirtyDays, timeZone: ZONE, latestAt, until: NOW + 300_000 });
  const loaded = load(all, slices);
  const plans = planPatientAlerts({
    readings: loaded,
    evaluated: slices.evaluated,
    expectedTypes: [],
    lastReadingAt: {},
    thresholds: {},
    latest,
    now: NOW,
  });
  return { loaded, plans: new Map(plans.map((p) => [p.rule, p])) };
}

const day = (at: number) => new Date(at + H).toISOString().slice(0, 10); // Paris is UTC+1 in November

describe('planAlertSlices', () => {
  // A month of hourly heart rate, all normal.
  const history = Array.from({ length: 30 * 24 }, (_, i) => reading(`h${i}`, 'heart_rate', NOW - i * H - 600_000, 70));

  it('loads the dirty days and the latest readings, not the history', () => {
    const { loaded } = plan(history, [{ type: 'heart_rate', day: day(NOW) }]);
    // Today (Paris) and the reading before it: about 12 readings of 720.
    expect(loaded.length).toBeLessThan(20);
    const { loaded: refresh } = plan(history, []);
    expect(refresh.length).toBe(2); // the latest and the one before it (two in a row)
  });

  it('judges the pair across the end of a late day: the late reading and the next one', () => {
    const lateAt = Date.UTC(2026, 10, 22, 22, 50); // 23:50 in Paris, the last hour of the 22nd
    const all = [
      ...history.filter((r) => r.at !== Date.UTC(2026, 10, 22, 23, 50)),
      reading('next', 'heart_rate', Date.UTC(2026, 10, 22, 23, 10), 125), // 00:10 on the 23rd, stored earlier
      reading('late', 'heart_rate', lateAt, 130),
    ];
    const { loaded, plans } = plan(all, [{ type: 'heart_rate', day: '2026-11-22' }]);
    expect(loaded.length).toBeLessThan(40);
    expect(plans.get('tachycardia')?.action).toMatchObject({ kind: 'open', readingIds: ['dev/late', 'dev/next'] });
  });

  it('with the hours a mark records, loads those hours, and judges the pairs across their ends', () => {
    // Two late readings in two hours of the 22nd (Paris), one commit: the mark records both hours.
    const first = Date.UTC(2026, 10, 22, 8, 50);
    const second = Date.UTC(2026, 10, 22, 14, 5);
    const all = [
      ...history,
      reading('late-1', 'heart_rate', first, 130), // with the stored reading of 09:50 (125) after it
      reading('late-2', 'heart_rate', second, 35), // with the stored reading of 13:50 (38) before it
    ]
      .map((r) => (r.at === Date.UTC(2026, 10, 22, 9, 50) ? { ...r, value: 125 } : r))
      .map((r) => (r.at === Date.UTC(2026, 10, 22, 13, 50) ? { ...r, value: 38 } : r));
    const hours = [Date.UTC(2026, 10, 22, 8), Date.UTC(2026, 10, 22, 14)];
    const { loaded, plans } = plan(all, [{ type: 'heart_rate', day: '2026-11-22', hours }]);
    // The two hours, the reading before and after each, and the latest two: not the day's 24.
    expect(loaded.length).toBeLessThan(12);
    expect(plans.get('tachycardia')?.action).toMatchObject({ kind: 'open', readingIds: ['dev/late-1', 'dev/h74'] });
    expect(plans.get('bradycardia')?.action).toMatchObject({ kind: 'open', readingIds: ['dev/h70', 'dev/late-2'] });
  });

  it('judges the weights of the 72 h after a late weight', () => {
    const all = [
      reading('w1', 'body_weight', T0, 70),
      reading('w2', 'body_weight', T0 + 2 * D, 70.5),
      reading('w3', 'body_weight', T0 + 4 * D, 70.4),
      reading('w4', 'body_weight', T0 + 4 * D + 12 * H, 69), // the latest: −1.5 kg over its 72 h
      reading('late', 'body_weight', T0 + D + H, 68), // the 21st, uploaded now
    ];
    const { plans } = plan(all, [{ type: 'body_weight', day: day(T0 + D + H) }]);
    // At w2 the 72 h change is now 70.5 − 70 (w1 is still inside) = 0.5; at w3 it is 70.4 − 68 = 2.4.
    // w3 is not the latest reading: it is judged because it lies in the 72 h after the late day.
    expect(plans.get('weight_gain')?.action).toMatchObject({
      kind: 'open',
      readingIds: ['dev/late', 'dev/w3'],
      conditionClearedAt: NOW,
    });
  });

  it('opens an alert, already cleared, for a late occurrence before a later one that was resolved', () => {
    const all = [
      reading('late', 'spo2', T0, 86),
      reading('x', 'spo2', T0 + 2 * D, 85),
      reading('now', 'spo2', NOW - H, 97),
    ];
    const resolved: AlertState = {
      status: 'resolved',
      openedAt: T0 + 2 * D,
      acknowledgedAt: T0 + 3 * D,
      resolvedAt: T0 + 3 * D,
      conditionClearedAt: T0 + 3 * D,
      readingIds: ['dev/x'],
      threshold: 92,
    };
    const { plans } = plan(all, [{ type: 'spo2', day: day(T0) }], new Map([['spo2_low', { state: resolved }]]));
    expect(plans.get('spo2_low')?.action).toEqual({
      kind: 'open',
      readingIds: ['dev/late'],
      at: T0,
      conditionClearedAt: NOW,
    });
  });
});
