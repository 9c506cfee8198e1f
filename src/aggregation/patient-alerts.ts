import {
  ALERT_RULES,
  type AlertAction,
  type AlertReading,
  type AlertState,
  type Evaluation,
  effectiveThreshold,
  evaluateRule,
  nextAlertAction,
  type RuleKey,
  type ThresholdValue,
  type Thresholds,
  WEIGHT_WINDOW_MS,
} from '../domain/alerts/index.ts';
import { startOfLocalDay } from '../domain/indicators/index.ts';
import type { PatientReading } from '../store/aggregation.repository.ts';

export interface AlertPlan {
  rule: RuleKey;
  threshold: ThresholdValue;
  evaluation: Evaluation;
  action: AlertAction;
}

/** Readings are unique per device: an alert names them as "deviceId/readingId". */
export function alertReadingId(deviceId: string, readingId: string): string {
  return `${deviceId}/${readingId}`;
}

/** What the job reads for one patient's alert rules: per rule, where its evaluation starts. */
export interface AlertSlices {
  /** Per rule: readings before this time are context only (RuleInput.occurrencesFrom); absent: no reading at all. */
  occurrencesFrom: Map<RuleKey, number>;
  /** Per type: load its readings measured in [since, until]. */
  sinceByType: Map<string, number>;
  /** Per type: load its latest reading before this time (the "previous reading" of a two-in-a-row rule). */
  previousBefore: Map<string, number>;
}

const TWO_IN_A_ROW: ReadonlySet<RuleKey> = new Set(['hyperglycemia', 'tachycardia', 'bradycardia']);

/**
 * The bounded slice of the series each alert rule is evaluated on (indicators.md,
 * "Alerts"), so that a run costs the new data, not the patient's history:
 *   - evaluated: the readings from the start of the earliest dirty day of the rule's
 *     types (what arrived since the last run lies in those days; a late reading makes
 *     its old day dirty), and in any case the latest reading (the condition "holds
 *     now" is judged on it; a changed threshold or the passing of time is seen there);
 *   - context: the reading before them for the two-in-a-row rules, the 72 h before
 *     them for weight_gain.
 * Older readings are not evaluated again: a clinician who changes a threshold gets it
 * applied to the latest reading at once (the change marks the patient for a run) and
 * to every new reading, without alerts being raised on past readings that the old
 * threshold let pass.
 */
export function planAlertSlices(input: {
  dirtyDays: readonly { type: string; day: string }[];
  timeZone: string;
  /** Latest reading time of each type (up to the end of what the run reads). */
  latestAt: ReadonlyMap<string, number>;
}): AlertSlices {
  const dirtyStart = new Map<string, number>();
  for (const { type, day } of input.dirtyDays) {
    const start = startOfLocalDay(day, input.timeZone);
    dirtyStart.set(type, Math.min(dirtyStart.get(type) ?? Infinity, start));
  }
  const slices: AlertSlices = { occurrencesFrom: new Map(), sinceByType: new Map(), previousBefore: new Map() };
  for (const rule of ALERT_RULES) {
    if (rule.types.length === 0) continue;
    let from = Infinity;
    let latest = -Infinity;
    for (const type of rule.types) {
      from = Math.min(from, dirtyStart.get(type) ?? Infinity);
      latest = Math.max(latest, input.latestAt.get(type) ?? -Infinity);
    }
    if (latest === -Infinity) continue; // no reading of the rule's types at all
    from = Math.min(from, latest);
    slices.occurrencesFrom.set(rule.key, from);
    const since = rule.key === 'weight_gain' ? from - WEIGHT_WINDOW_MS : from;
    for (const type of rule.types) {
      slices.sinceByType.set(type, Math.min(slices.sinceByType.get(type) ?? Infinity, since));
      if (TWO_IN_A_ROW.has(rule.key)) {
        slices.previousBefore.set(type, Math.min(slices.previousBefore.get(type) ?? Infinity, from));
      }
    }
  }
  return slices;
}

/**
 * What to do with each alert rule of one patient (indicators.md, "Alerts"), from
 * the slices of their readings (planAlertSlices: readings before a rule's
 * `occurrencesFrom` are context only), the no_data inputs, their threshold
 * overrides and the latest alert of each rule. Pure: the rules and the lifecycle are
 * in src/domain/alerts; this only feeds them.
 */
export function planPatientAlerts(input: {
  readings: readonly PatientReading[];
  occurrencesFrom: ReadonlyMap<RuleKey, number>;
  expectedTypes: readonly string[];
  lastReadingAt: Readonly<Record<string, number>>;
  thresholds: Record<string, unknown>;
  latest: ReadonlyMap<string, { state: AlertState }>;
  now: number;
}): AlertPlan[] {
  const byType = new Map<string, AlertReading[]>();
  const seen = new Set<string>();
  for (const r of input.readings) {
    const id = alertReadingId(r.deviceId, r.id);
    if (seen.has(id)) continue; // a reading loaded both as context and in a range
    seen.add(id);
    const list = byType.get(r.type) ?? [];
    list.push({
      id,
      type: r.type,
      at: r.at,
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.systolic !== null ? { systolic: r.systolic } : {}),
      ...(r.diastolic !== null ? { diastolic: r.diastolic } : {}),
    });
    byType.set(r.type, list);
  }
  return ALERT_RULES.map((rule) => {
    const threshold = effectiveThreshold(rule, input.thresholds as Thresholds);
    const evaluation = evaluateRule(
      rule,
      rule.key === 'no_data'
        ? { expectedTypes: input.expectedTypes, lastReadingAt: input.lastReadingAt }
        : {
            readings: rule.types.flatMap((t) => byType.get(t) ?? []),
            occurrencesFrom: input.occurrencesFrom.get(rule.key) ?? Infinity,
          },
      threshold,
      input.now,
    );
    const latest = input.latest.get(rule.key)?.state ?? null;
    return { rule: rule.key, threshold, evaluation, action: nextAlertAction(latest, evaluation, input.now) };
  });
}
