import {
  type AcknowledgeAction,
  acknowledge,
  isRuleKey,
  RULE_KEYS,
  validateThreshold,
} from '../domain/alerts/index.ts';
import { AppError } from '../errors.ts';
import {
  alertHistory,
  deleteThreshold,
  findAlert,
  saveThreshold,
  type StoredAlert,
  updateAlert,
} from '../store/alerts.repository.ts';
import { markForRefreshAt } from '../store/aggregation.repository.ts';
import type { Db } from '../store/database.ts';
import { findPatient, lockPatient } from '../store/patients.repository.ts';

/** Who acknowledges, what they did and their note (src/domain/alerts/acknowledgement.ts). */
export interface Acknowledgement {
  /** actorName of the caller. */
  actor: string;
  /** Null: not said (a client sending no body). */
  action: AcknowledgeAction | null;
  note: string | null;
}

/**
 * A clinician acknowledges an alert. Serialised with the aggregation job through
 * the patient's row lock (the job holds it while it evaluates that patient), so
 * neither acts on a stale alert. An alert whose condition already cleared is
 * resolved by its acknowledgement (src/domain/alerts/lifecycle.ts).
 */
export async function acknowledgeAlert(db: Db, alertId: string, ack: Acknowledgement, now: Date): Promise<StoredAlert> {
  return db.transaction().execute(async (trx) => {
    const found = await findAlert(trx, alertId);
    if (!found) throw new AppError('not_found', `alert ${alertId} does not exist`);
    await lockPatient(trx, found.patientId);
    const alert = (await findAlert(trx, alertId)) as StoredAlert;
    const result = acknowledge(alert.state, now.getTime());
    if (!result.ok) throw new AppError('conflict', result.message);
    await updateAlert(trx, alert.id, result.state, 'acknowledged', now.getTime(), {
      actor: ack.actor,
      action: ack.action,
      note: ack.note,
    });
    if (result.state.status === 'resolved') {
      await updateAlert(trx, alert.id, result.state, 'resolved', now.getTime());
    }
    return {
      ...alert,
      state: result.state,
      acknowledgedBy: ack.actor,
      acknowledgedAction: ack.action,
      acknowledgedNote: ack.note,
    };
  });
}

/**
 * Sets (or, with null, removes) a patient's thresholds, all or nothing: every
 * entry is checked first, then all are written in one transaction, so neither a
 * bad entry nor the aggregation job ever sees half of the change. The patient's
 * alerts are re-evaluated by the next aggregation run.
 */
export async function setPatientThresholds(db: Db, patientId: string, changes: Record<string, unknown>): Promise<void> {
  const entries = Object.entries(changes);
  if (entries.length === 0) throw new AppError('invalid_input', 'send at least one rule with its threshold');
  for (const [rule, value] of entries) {
    if (!isRuleKey(rule)) {
      throw new AppError('invalid_input', `rule "${rule}" does not exist; use one of ${RULE_KEYS.join(', ')}`, {
        field: rule,
      });
    }
    const problem = value === null ? undefined : validateThreshold(rule, value);
    if (problem) throw new AppError('invalid_input', `${rule}: ${problem}`, { field: rule });
  }
  await db.transaction().execute(async (trx) => {
    if (!(await findPatient(trx, patientId))) throw new AppError('not_found', `patient ${patientId} does not exist`);
    // Wait for a job evaluating this patient, so that its next run sees the new thresholds.
    await lockPatient(trx, patientId);
    for (const [rule, value] of entries) {
      if (value === null) await deleteThreshold(trx, patientId, rule);
      else await saveThreshold(trx, patientId, rule, value);
    }
    await markForRefreshAt(trx, patientId, new Date());
  });
}

/** One rule's threshold (see setPatientThresholds). */
export async function setPatientThreshold(db: Db, patientId: string, rule: string, value: unknown): Promise<void> {
  await setPatientThresholds(db, patientId, { [rule]: value });
}

/**
 * An alert's history as the API and `vitalink alerts history` show it, oldest first
 * (README, "Acknowledgement, history and the reviewed mark"): times in RFC 3339 UTC,
 * `by` the actor, `notification` null but for notification events.
 */
export async function alertHistoryView(db: Db, alertId: string) {
  return (await alertHistory(db, alertId)).map((h) => ({
    at: h.at.toISOString(),
    event: h.event,
    by: h.actor,
    readingIds: h.readingIds,
    readings: h.readings,
    action: h.action,
    note: h.note,
    notification: h.notification,
  }));
}
