import { describe, expect, it } from 'vitest';
import {
  acknowledge,
  applyAlertAction,
  evaluateRule,
  nextAlertAction,
  type AlertReading,
  type AlertState,
  type Evaluation,
} from '../../../../src/domain/alerts/index.ts';

const MIN = 60_000;
/** 2026-11-22T08:00:00Z */
const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);

const spo2 = (id: string, minutes: number, value: number): AlertReading => ({
  id,
  type: 'spo2',
  at: T0 + minutes * MIN,
  value,
});

/**
 * A fake clock and store for one (patient, rule): each step evaluates spo2_low over
 * all readings so far, decides and applies the action, as the aggregation job would.
 */
function spo2Alert(threshold = 92) {
  const readings: AlertReading[] = [];
  let alert: AlertState | null = null;
  let now = T0;
  return {
    receive(reading: AlertReading, atMinutes: number) {
      readings.push(reading);
      now = T0 + atMinutes * MIN;
      const action = nextAlertAction(alert, evaluateRule('spo2_low', { readings }, threshold, now), now);
      alert = applyAlertAction(alert, action, now, threshold);
      return action;
    },
    acknowledge(atMinutes: number) {
      now = T0 + atMinutes * MIN;
      const result = acknowledge(alert!, now);
      if (result.ok) alert = result.state;
      return result;
    },
    get alert() {
      return alert;
    },
  };
}

const holds = (readingIds: string[], at = T0): Evaluation => ({ triggered: true, holdsNow: true, readingIds, at });
const past = (readingIds: string[], at = T0): Evaluation => ({ triggered: true, holdsNow: false, readingIds, at });
const quiet: Evaluation = { triggered: false, holdsNow: false, readingIds: [], at: null };

function state(overrides: Partial<AlertState>): AlertState {
  return {
    status: 'open',
    openedAt: T0,
    acknowledgedAt: null,
    resolvedAt: null,
    conditionClearedAt: null,
    readingIds: ['a'],
    threshold: 92,
    ...overrides,
  };
}

describe('nextAlertAction', () => {
  it('does nothing without an alert or an occurrence', () => {
    expect(nextAlertAction(null, quiet, T0)).toEqual({ kind: 'none' });
  });

  it('opens an alert on an occurrence, recording its readings and time', () => {
    expect(nextAlertAction(null, holds(['a'], T0 - MIN), T0)).toEqual({
      kind: 'open',
      readingIds: ['a'],
      at: T0 - MIN,
      conditionClearedAt: null,
    });
  });

  it('opens an already cleared alert on a past occurrence made by a late reading', () => {
    expect(nextAlertAction(null, past(['late']), T0 + 5 * MIN)).toMatchObject({
      kind: 'open',
      conditionClearedAt: T0 + 5 * MIN,
    });
  });

  it('does nothing while an open alert holds on the same readings', () => {
    expect(nextAlertAction(state({}), holds(['a']), T0)).toEqual({ kind: 'none' });
  });

  it('updates the readings of an open or acknowledged alert when a newer reading meets the condition', () => {
    expect(nextAlertAction(state({}), holds(['b']), T0)).toEqual({ kind: 'update', readingIds: ['b'] });
    const acked = state({ status: 'acknowledged', acknowledgedAt: T0 });
    expect(nextAlertAction(acked, holds(['b']), T0)).toEqual({ kind: 'update', readingIds: ['b'] });
  });

  it('records once that the condition of an open alert cleared', () => {
    expect(nextAlertAction(state({}), past(['a']), T0)).toEqual({ kind: 'cleared' });
    expect(nextAlertAction(state({ conditionClearedAt: T0 }), past(['a']), T0 + MIN)).toEqual({ kind: 'none' });
  });

  it('updates a cleared open alert when the condition holds again, even on the same readings', () => {
    expect(nextAlertAction(state({ conditionClearedAt: T0 }), holds(['a']), T0 + MIN)).toEqual({
      kind: 'update',
      readingIds: ['a'],
    });
  });

  it('resolves an acknowledged alert whose condition no longer holds', () => {
    const acked = state({ status: 'acknowledged', acknowledgedAt: T0 });
    expect(nextAlertAction(acked, past(['a']), T0)).toEqual({ kind: 'resolve' });
    expect(nextAlertAction(acked, quiet, T0)).toEqual({ kind: 'resolve' });
  });

  it('does not reopen the occurrence a resolved alert recorded', () => {
    const resolved = state({ status: 'resolved', acknowledgedAt: T0, resolvedAt: T0, readingIds: ['a', 'b'] });
    expect(nextAlertAction(resolved, past(['a', 'b']), T0 + MIN)).toEqual({ kind: 'none' });
    expect(nextAlertAction(resolved, quiet, T0 + MIN)).toEqual({ kind: 'none' });
  });

  it('opens a new alert after a resolved one on a new occurrence', () => {
    const resolved = state({ status: 'resolved', acknowledgedAt: T0, resolvedAt: T0, readingIds: ['a', 'b'] });
    expect(nextAlertAction(resolved, holds(['b', 'c']), T0 + MIN)).toEqual({
      kind: 'open',
      readingIds: ['b', 'c'],
      at: T0,
      conditionClearedAt: null,
    });
  });

  it('opens a new no_data alert after a resolved one: such alerts record no reading', () => {
    const resolved = state({ status: 'resolved', readingIds: [], threshold: 48 });
    expect(nextAlertAction(resolved, holds([], T0), T0)).toMatchObject({ kind: 'open', readingIds: [] });
  });
});

describe('acknowledge', () => {
  it('acknowledges an open alert whose condition holds', () => {
    expect(acknowledge(state({}), T0 + MIN)).toEqual({
      ok: true,
      state: state({ status: 'acknowledged', acknowledgedAt: T0 + MIN }),
    });
  });

  it('resolves at once an open alert whose condition has cleared', () => {
    expect(acknowledge(state({ conditionClearedAt: T0 }), T0 + MIN)).toEqual({
      ok: true,
      state: state({ status: 'resolved', conditionClearedAt: T0, acknowledgedAt: T0 + MIN, resolvedAt: T0 + MIN }),
    });
  });

  it('refuses an acknowledged or resolved alert with a conflict', () => {
    expect(acknowledge(state({ status: 'acknowledged', acknowledgedAt: T0 }), T0)).toEqual({
      ok: false,
      code: 'conflict',
      reason: 'already_acknowledged',
      message: 'The alert is already acknowledged.',
    });
    expect(acknowledge(state({ status: 'resolved', resolvedAt: T0 }), T0)).toMatchObject({
      ok: false,
      code: 'conflict',
      reason: 'already_resolved',
    });
  });

  it('does not change the state it is given', () => {
    const open = state({});
    acknowledge(open, T0 + MIN);
    expect(open).toEqual(state({}));
  });
});

describe('applyAlertAction', () => {
  it('opens with the threshold and time of opening', () => {
    const action = nextAlertAction(null, holds(['a'], T0 - 10 * MIN), T0);
    expect(applyAlertAction(null, action, T0, 88)).toEqual(state({ threshold: 88 }));
  });

  it('refuses transitions that nextAlertAction never returns', () => {
    expect(() =>
      applyAlertAction(state({}), { kind: 'open', readingIds: ['b'], at: T0, conditionClearedAt: null }, T0, 92),
    ).toThrow(TypeError);
    expect(() => applyAlertAction(null, { kind: 'cleared' }, T0, 92)).toThrow(TypeError);
    expect(() => applyAlertAction(state({}), { kind: 'resolve' }, T0, 92)).toThrow(TypeError);
    expect(() => applyAlertAction(state({ status: 'acknowledged' }), { kind: 'cleared' }, T0, 92)).toThrow(TypeError);
  });
});

describe('the lifecycle of an spo2_low alert', () => {
  it('open → acknowledged → resolved', () => {
    const a = spo2Alert();
    expect(a.receive(spo2('r1', 0, 97), 1)).toEqual({ kind: 'none' });
    expect(a.alert).toBeNull();

    expect(a.receive(spo2('r2', 10, 90), 11)).toMatchObject({ kind: 'open', readingIds: ['r2'], at: T0 + 10 * MIN });
    expect(a.alert).toMatchObject({ status: 'open', openedAt: T0 + 11 * MIN, readingIds: ['r2'], threshold: 92 });

    // another low reading: the alert now records it
    expect(a.receive(spo2('r3', 20, 89), 21)).toEqual({ kind: 'update', readingIds: ['r3'] });

    expect(a.acknowledge(30)).toMatchObject({ ok: true });
    expect(a.alert).toMatchObject({ status: 'acknowledged', acknowledgedAt: T0 + 30 * MIN, resolvedAt: null });

    // still low after acknowledgement: stays acknowledged
    expect(a.receive(spo2('r4', 40, 91), 41)).toEqual({ kind: 'update', readingIds: ['r4'] });
    expect(a.alert?.status).toBe('acknowledged');

    expect(a.receive(spo2('r5', 50, 96), 51)).toEqual({ kind: 'resolve' });
    expect(a.alert).toMatchObject({ status: 'resolved', resolvedAt: T0 + 51 * MIN, readingIds: ['r4'] });

    // later evaluations over the same readings do not reopen it
    expect(a.receive(spo2('r6', 60, 97), 61)).toEqual({ kind: 'none' });
    expect(a.alert?.status).toBe('resolved');
    expect(a.acknowledge(62)).toMatchObject({ ok: false, reason: 'already_resolved' });
  });

  it('open → cleared → acknowledge resolves at once', () => {
    const a = spo2Alert();
    a.receive(spo2('r1', 0, 90), 1);
    expect(a.receive(spo2('r2', 10, 96), 11)).toEqual({ kind: 'cleared' });
    // the alert stays open until a clinician acknowledges it
    expect(a.alert).toMatchObject({ status: 'open', conditionClearedAt: T0 + 11 * MIN, readingIds: ['r1'] });
    expect(a.receive(spo2('r3', 20, 97), 21)).toEqual({ kind: 'none' });
    expect(a.alert).toMatchObject({ status: 'open', conditionClearedAt: T0 + 11 * MIN });

    expect(a.acknowledge(30)).toMatchObject({ ok: true });
    expect(a.alert).toMatchObject({
      status: 'resolved',
      acknowledgedAt: T0 + 30 * MIN,
      resolvedAt: T0 + 30 * MIN,
      readingIds: ['r1'],
    });
  });

  it('cleared, then the condition holds again → update, and acknowledgement no longer resolves it', () => {
    const a = spo2Alert();
    a.receive(spo2('r1', 0, 90), 1);
    a.receive(spo2('r2', 10, 96), 11);
    expect(a.alert?.conditionClearedAt).toBe(T0 + 11 * MIN);

    expect(a.receive(spo2('r3', 20, 91), 21)).toEqual({ kind: 'update', readingIds: ['r3'] });
    expect(a.alert).toMatchObject({ status: 'open', conditionClearedAt: null, readingIds: ['r3'] });

    a.acknowledge(30);
    expect(a.alert?.status).toBe('acknowledged');
  });

  it('resolved, then a new occurrence → a new open alert', () => {
    const a = spo2Alert();
    a.receive(spo2('r1', 0, 90), 1);
    a.acknowledge(5);
    a.receive(spo2('r2', 10, 97), 11);
    expect(a.alert?.status).toBe('resolved');

    expect(a.receive(spo2('r3', 20, 88), 21)).toMatchObject({ kind: 'open', readingIds: ['r3'] });
    expect(a.alert).toEqual({
      status: 'open',
      openedAt: T0 + 21 * MIN,
      acknowledgedAt: null,
      resolvedAt: null,
      conditionClearedAt: null,
      readingIds: ['r3'],
      threshold: 92,
    });
  });

  it('a late low reading opens an alert already cleared, which one acknowledgement resolves', () => {
    const a = spo2Alert();
    a.receive(spo2('r1', 0, 97), 1);
    a.receive(spo2('r2', 20, 97), 21);
    expect(a.receive(spo2('late', 10, 89), 30)).toMatchObject({
      kind: 'open',
      readingIds: ['late'],
      at: T0 + 10 * MIN,
    });
    expect(a.alert).toMatchObject({ status: 'open', conditionClearedAt: T0 + 30 * MIN });
    a.acknowledge(40);
    expect(a.alert).toMatchObject({ status: 'resolved', resolvedAt: T0 + 40 * MIN });
  });

  it('a per-patient threshold of 88 keeps 90 quiet and is recorded on the alert', () => {
    const a = spo2Alert(88);
    expect(a.receive(spo2('r1', 0, 90), 1)).toEqual({ kind: 'none' });
    expect(a.receive(spo2('r2', 10, 87), 11)).toMatchObject({ kind: 'open' });
    expect(a.alert?.threshold).toBe(88);
  });
});
