/**
 * The lifecycle of the alert of one (patient, rule), as pure state transitions.
 *
 * indicators.md lines 49-52: "At most one open alert per patient and rule; it stays
 * open while the condition holds and until a clinician acknowledges it; it records
 * the reading(s) that raised it." Read here as: an alert ends only when BOTH the
 * condition no longer holds AND a clinician has acknowledged it, in either order.
 *
 *   (none) ──triggered──▶ open ──acknowledge──▶ acknowledged ──condition clears──▶ resolved
 *                           │                                                        ▲
 *                           └─condition clears─▶ open, conditionClearedAt set ──acknowledge
 *
 * - No alert (or only resolved ones) and the rule triggered on a new occurrence: open
 *   an alert recording the occurrence's readings. When the occurrence is a past one
 *   (a late reading; the condition does not hold now) it opens already cleared.
 * - Open or acknowledged, and the condition holds (still, or again after clearing):
 *   `update` refreshes the recorded readings to the most recent occurrence and clears
 *   `conditionClearedAt`. Nothing changes when the readings are the same.
 * - Open and the condition no longer holds: `cleared` records `conditionClearedAt`;
 *   the alert stays open until acknowledged.
 * - Acknowledged and the condition no longer holds: `resolve`.
 * - Acknowledging an open alert whose condition has cleared resolves it at once;
 *   acknowledging an acknowledged or resolved alert is an error (a result, no throw).
 * - At most one open or acknowledged alert per (patient, rule): once resolved, a new
 *   occurrence opens a new alert. An occurrence is new unless its last reading (the
 *   one at its time) is among the readings the resolved alert recorded; `no_data`
 *   occurrences record no reading, and since that rule resolves only once data came
 *   back, any later trigger of it is a new gap.
 *
 * So `nextAlertAction` must be given the LATEST alert of the (patient, rule), resolved
 * included, and null only when there has never been one: given null after a resolve,
 * it would open the already-resolved occurrence again on every evaluation that still
 * sees its readings.
 *
 * Times are epoch milliseconds; `now` is always a parameter.
 */
import type { ErrorCode } from '../../errors.ts';
import type { Evaluation } from './evaluate.ts';
import type { ThresholdValue } from './rules.ts';

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;

export type AlertStatus = (typeof ALERT_STATUSES)[number];

export type AlertState = {
  status: AlertStatus;
  /** When the alert was opened (the evaluation's `now`, not the occurrence's time). */
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  /** When the condition was found no longer holding while the alert was open; null while it holds. */
  conditionClearedAt: number | null;
  /** The reading(s) of the most recent occurrence recorded on the alert. */
  readingIds: string[];
  /** The threshold in force when the alert opened. */
  threshold: ThresholdValue;
};

export type AlertAction =
  | { kind: 'none' }
  /** `at`: time of the occurrence; `conditionClearedAt`: `now` when the occurrence is a past one, else null. */
  | { kind: 'open'; readingIds: string[]; at: number | null; conditionClearedAt: number | null }
  | { kind: 'update'; readingIds: string[] }
  | { kind: 'cleared' }
  | { kind: 'resolve' };

const NONE: AlertAction = { kind: 'none' };

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** Whether the evaluation's most recent occurrence is the one a (resolved) alert recorded. */
export function isRecordedOccurrence(alert: AlertState, evaluation: Evaluation): boolean {
  const last = evaluation.readingIds.at(-1);
  return last !== undefined && alert.readingIds.includes(last);
}

/**
 * What to do with the alert of one (patient, rule) given a fresh evaluation.
 * `latest`: the latest alert of the (patient, rule), whatever its status; null when
 * there has never been one (see the top of this file).
 */
export function nextAlertAction(latest: AlertState | null, evaluation: Evaluation, now: number): AlertAction {
  if (latest === null || latest.status === 'resolved') {
    if (!evaluation.triggered) return NONE;
    if (latest !== null && isRecordedOccurrence(latest, evaluation)) return NONE;
    return {
      kind: 'open',
      readingIds: [...evaluation.readingIds],
      at: evaluation.at,
      conditionClearedAt: evaluation.holdsNow ? null : now,
    };
  }
  if (evaluation.holdsNow) {
    if (latest.conditionClearedAt === null && sameIds(latest.readingIds, evaluation.readingIds)) return NONE;
    return { kind: 'update', readingIds: [...evaluation.readingIds] };
  }
  if (latest.status === 'acknowledged') return { kind: 'resolve' };
  return latest.conditionClearedAt === null ? { kind: 'cleared' } : NONE;
}

/**
 * The state after `action` at `now`. `threshold` is recorded on an alert being opened.
 * Throws a TypeError for an action that `nextAlertAction` never returns for `current`
 * (a programming error).
 */
export function applyAlertAction(
  current: AlertState | null,
  action: AlertAction,
  now: number,
  threshold: ThresholdValue,
): AlertState | null {
  if (action.kind === 'none') return current;
  if (action.kind === 'open') {
    if (current !== null && current.status !== 'resolved') {
      throw new TypeError(`cannot open an alert while one is ${current.status}`);
    }
    return {
      status: 'open',
      openedAt: now,
      acknowledgedAt: null,
      resolvedAt: null,
      conditionClearedAt: action.conditionClearedAt,
      readingIds: [...action.readingIds],
      threshold,
    };
  }
  if (current === null || current.status === 'resolved') {
    throw new TypeError(`cannot ${action.kind} an alert that is ${current === null ? 'absent' : 'resolved'}`);
  }
  switch (action.kind) {
    case 'update':
      return { ...current, readingIds: [...action.readingIds], conditionClearedAt: null };
    case 'cleared':
      if (current.status !== 'open') throw new TypeError('only an open alert records that its condition cleared');
      return { ...current, conditionClearedAt: now };
    case 'resolve':
      if (current.status !== 'acknowledged') throw new TypeError('only an acknowledged alert resolves');
      return { ...current, status: 'resolved', resolvedAt: now };
  }
}

export type AcknowledgeResult =
  | { ok: true; state: AlertState }
  | { ok: false; code: ErrorCode; reason: 'already_acknowledged' | 'already_resolved'; message: string };

/**
 * A clinician acknowledges an alert at `now`. An open alert whose condition has
 * already cleared is resolved at once; an open alert whose condition holds becomes
 * acknowledged and resolves when the condition clears. Acknowledging an acknowledged
 * or resolved alert is a conflict.
 */
export function acknowledge(current: AlertState, now: number): AcknowledgeResult {
  if (current.status === 'acknowledged') {
    return {
      ok: false,
      code: 'conflict',
      reason: 'already_acknowledged',
      message: 'The alert is already acknowledged.',
    };
  }
  if (current.status === 'resolved') {
    return { ok: false, code: 'conflict', reason: 'already_resolved', message: 'The alert is already resolved.' };
  }
  if (current.conditionClearedAt !== null) {
    return { ok: true, state: { ...current, status: 'resolved', acknowledgedAt: now, resolvedAt: now } };
  }
  return { ok: true, state: { ...current, status: 'acknowledged', acknowledgedAt: now } };
}
