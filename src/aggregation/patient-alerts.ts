import {
  ALERT_RULES,
  type AlertAction,
  type AlertReading,
  type AlertState,
  type Evaluation,
  effectiveThreshold,
  evaluateRule,
  expectedTypes,
  nextAlertAction,
  type RuleKey,
  type ThresholdValue,
  type Thresholds,
} from '../domain/alerts/index.ts';
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

/**
 * What to do with each alert rule of one patient (indicators.md, "Alerts"), from
 * their readings, the devices assigned to them now, their threshold overrides and
 * the latest alert of each rule. Pure: the rules and the lifecycle are in
 * src/domain/alerts; this only feeds them.
 */
export function planPatientAlerts(input: {
  readings: PatientReading[];
  assignedDeviceIds: string[];
  thresholds: Record<string, unknown>;
  latest: ReadonlyMap<string, { state: AlertState }>;
  now: number;
}): AlertPlan[] {
  const byType = new Map<string, AlertReading[]>();
  const lastReadingAt: Record<string, number> = {};
  for (const r of input.readings) {
    const list = byType.get(r.type) ?? [];
    list.push({
      id: alertReadingId(r.deviceId, r.id),
      type: r.type,
      at: r.at,
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.systolic !== null ? { systolic: r.systolic } : {}),
      ...(r.diastolic !== null ? { diastolic: r.diastolic } : {}),
    });
    byType.set(r.type, list);
    if (r.at <= input.now && (lastReadingAt[r.type] ?? -Infinity) < r.at) lastReadingAt[r.type] = r.at;
  }
  const expected = expectedTypes(input.assignedDeviceIds, input.readings, input.now);
  return ALERT_RULES.map((rule) => {
    const threshold = effectiveThreshold(rule, input.thresholds as Thresholds);
    const evaluation = evaluateRule(
      rule,
      rule.key === 'no_data'
        ? { expectedTypes: expected, lastReadingAt }
        : { readings: rule.types.flatMap((t) => byType.get(t) ?? []) },
      threshold,
      input.now,
    );
    const latest = input.latest.get(rule.key)?.state ?? null;
    return { rule: rule.key, threshold, evaluation, action: nextAlertAction(latest, evaluation, input.now) };
  });
}
