/** Alert rules (indicators.md, "Alerts"): catalogue, evaluation and lifecycle, all pure. */
export {
  ALERT_RULES,
  ALERT_SEVERITIES,
  RULE_KEYS,
  alertRule,
  effectiveThreshold,
  isBloodPressureThreshold,
  isRuleKey,
  SEVERITY_RANK,
  THRESHOLD_LIMITS,
  validateThreshold,
  worstRule,
} from './rules.ts';
export type { AlertRule, AlertSeverity, BloodPressureThreshold, RuleKey, ThresholdValue, Thresholds } from './rules.ts';
export {
  WEIGHT_CHANGE_EPSILON_KG,
  WEIGHT_RECENT_MS,
  WEIGHT_WINDOW_MS,
  evaluateRule,
  sortReadings,
} from './evaluate.ts';
export type { AlertReading, Evaluation, RuleInput } from './evaluate.ts';
export { EXPECTED_TYPES_WINDOW_MS, expectedTypes } from './expected-types.ts';
export type { DeviceReading } from './expected-types.ts';
export { ALERT_STATUSES, acknowledge, applyAlertAction, isRecordedOccurrence, nextAlertAction } from './lifecycle.ts';
export type { AcknowledgeResult, AlertAction, AlertState, AlertStatus } from './lifecycle.ts';
export { eventReadings } from './alert-event.ts';
export type { AlertEventReading, HeldReading } from './alert-event.ts';
export { ACKNOWLEDGE_ACTIONS, ACKNOWLEDGE_NOTE_MAX, actorName } from './acknowledgement.ts';
export type { AcknowledgeAction } from './acknowledgement.ts';
