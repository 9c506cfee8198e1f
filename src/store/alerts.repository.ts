import { type Selectable, sql } from 'kysely';
import type { AcknowledgeAction, AlertEventReading, AlertState } from '../domain/alerts/index.ts';
import type { Database, Db } from './database.ts';
import { cancelPendingEscalations, notificationOutcomes } from './notifications.repository.ts';

export interface StoredAlert {
  id: string;
  patientId: string;
  rule: string;
  state: AlertState;
  /** Time of the most recent occurrence (the event); null for a no_data alert of a type never seen. */
  occurredAt: Date | null;
  /** The event's readings with their values; null when not recorded (alerts from before migration 2026-12-07T1760). */
  eventReadings: AlertEventReading[] | null;
  /** `practitioner:ID`, `token:ID` or `admin-token` (src/domain/alerts/acknowledgement.ts, actorName). */
  acknowledgedBy: string | null;
  /** Null: not acknowledged, or acknowledged without saying (an old client's empty request). */
  acknowledgedAction: AcknowledgeAction | null;
  acknowledgedNote: string | null;
}

type AlertRow = Selectable<Database['alerts']>;

const ms = (d: Date | null) => (d === null ? null : d.getTime());
const date = (n: number | null) => (n === null ? null : new Date(n));

function toStored(r: AlertRow): StoredAlert {
  return {
    id: r.id,
    patientId: r.patient_id,
    rule: r.rule,
    occurredAt: r.occurred_at,
    eventReadings: (r.event_readings ?? null) as AlertEventReading[] | null,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAction: r.acknowledged_action as AcknowledgeAction | null,
    acknowledgedNote: r.acknowledged_note,
    state: {
      status: r.status,
      openedAt: r.opened_at.getTime(),
      acknowledgedAt: ms(r.acknowledged_at),
      resolvedAt: ms(r.resolved_at),
      conditionClearedAt: ms(r.condition_cleared_at),
      readingIds: r.reading_ids,
      threshold: r.threshold as AlertState['threshold'],
    },
  };
}

/** Per-patient threshold overrides, by rule. */
export async function loadThresholds(db: Db, patientId: string): Promise<Record<string, unknown>> {
  const rows = await db
    .selectFrom('alert_thresholds')
    .select(['rule', 'threshold'])
    .where('patient_id', '=', patientId)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.rule, r.threshold]));
}

export async function saveThreshold(db: Db, patientId: string, rule: string, threshold: unknown): Promise<void> {
  await sql`
    INSERT INTO alert_thresholds (patient_id, rule, threshold) VALUES (${patientId}, ${rule}, ${JSON.stringify(threshold)}::jsonb)
    ON CONFLICT (patient_id, rule) DO UPDATE SET threshold = EXCLUDED.threshold, updated_at = now()
  `.execute(db);
}

export async function deleteThreshold(db: Db, patientId: string, rule: string): Promise<void> {
  await db.deleteFrom('alert_thresholds').where('patient_id', '=', patientId).where('rule', '=', rule).execute();
}

/**
 * The latest alert of each rule, whatever its status, of several patients in one
 * statement, by patient (every patient given has an entry): what the lifecycle needs
 * (src/domain/alerts/lifecycle.ts).
 */
export async function loadLatestAlertsOf(
  db: Db,
  patientIds: readonly string[],
): Promise<Map<string, Map<string, StoredAlert>>> {
  const result = new Map<string, Map<string, StoredAlert>>(patientIds.map((id) => [id, new Map()]));
  if (patientIds.length === 0) return result;
  const { rows } = await sql<AlertRow>`
    SELECT DISTINCT ON (patient_id, rule) * FROM alerts
    WHERE patient_id = ANY(${[...patientIds]}::text[]) ORDER BY patient_id, rule, id DESC
  `.execute(db);
  for (const r of rows) result.get(r.patient_id)?.set(r.rule, toStored(r));
  return result;
}

/** loadThresholds of several patients in one statement, by patient (every patient given has an entry). */
export async function loadThresholdsOf(
  db: Db,
  patientIds: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const result = new Map<string, Record<string, unknown>>(patientIds.map((id) => [id, {}]));
  if (patientIds.length === 0) return result;
  const rows = await db
    .selectFrom('alert_thresholds')
    .select(['patient_id', 'rule', 'threshold'])
    .where('patient_id', 'in', [...patientIds])
    .execute();
  for (const r of rows) {
    const overrides = result.get(r.patient_id);
    if (overrides) overrides[r.rule] = r.threshold;
  }
  return result;
}

export async function findAlert(db: Db, id: string): Promise<StoredAlert | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const { rows } = await sql<AlertRow>`SELECT * FROM alerts WHERE id = ${id}`.execute(db);
  return rows[0] ? toStored(rows[0]) : undefined;
}

/** Alerts by id, in the order of `ids` (one query). */
export async function findAlerts(db: Db, ids: string[]): Promise<StoredAlert[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<AlertRow>`SELECT * FROM alerts WHERE id = ANY(${ids}::int8[])`.execute(db);
  const byId = new Map(rows.map((r) => [r.id, toStored(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Ids of alerts of some patients, newest first (ids are increasing), optionally
 * of one status and older than `beforeId`; up to `limit`.
 */
export async function listAlertIds(
  db: Db,
  options: { patientIds: readonly string[]; status?: AlertState['status']; beforeId?: string; limit: number },
): Promise<string[]> {
  let q = db
    .selectFrom('alerts')
    .select('id')
    .where('patient_id', 'in', [...options.patientIds])
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.status) q = q.where('status', '=', options.status);
  if (options.beforeId !== undefined) q = q.where('id', '<', options.beforeId);
  return (await q.execute()).map((r) => r.id);
}

export type AlertEvent = 'opened' | 'updated' | 'condition_cleared' | 'acknowledged' | 'resolved';

/** What an event adds to the alert's row and to its history. */
export interface AlertChange {
  /** Who: acknowledgements (src/domain/alerts/acknowledgement.ts, actorName). */
  actor?: string | null;
  /** The occurrence's time, when it changes (update). */
  occurredAt?: number | null;
  /** The occurrence's readings with their values (open, update); null: unknown. */
  eventReadings?: AlertEventReading[] | null;
  /** Acknowledgement: the action taken (null: not said) and the note. */
  action?: AcknowledgeAction | null;
  note?: string | null;
}

export async function insertAlert(
  db: Db,
  patientId: string,
  rule: string,
  state: AlertState,
  occurredAt: number | null,
  eventReadings: AlertEventReading[] | null = null,
): Promise<string> {
  const row = await db
    .insertInto('alerts')
    .values({
      patient_id: patientId,
      rule,
      status: state.status,
      opened_at: new Date(state.openedAt),
      acknowledged_at: date(state.acknowledgedAt),
      resolved_at: date(state.resolvedAt),
      condition_cleared_at: date(state.conditionClearedAt),
      occurred_at: date(occurredAt),
      threshold: JSON.stringify(state.threshold),
      reading_ids: state.readingIds,
      event_readings: eventReadings === null ? null : JSON.stringify(eventReadings),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await recordEvent(db, row.id, 'opened', state.openedAt, { eventReadings }, state.readingIds);
  return row.id;
}

export async function updateAlert(
  db: Db,
  id: string,
  state: AlertState,
  event: AlertEvent,
  at: number,
  change: AlertChange = {},
): Promise<void> {
  const acknowledged = event === 'acknowledged';
  await db
    .updateTable('alerts')
    .set({
      status: state.status,
      acknowledged_at: date(state.acknowledgedAt),
      resolved_at: date(state.resolvedAt),
      condition_cleared_at: date(state.conditionClearedAt),
      reading_ids: state.readingIds,
      ...(acknowledged
        ? {
            acknowledged_by: change.actor ?? null,
            acknowledged_action: change.action ?? null,
            acknowledged_note: change.note ?? null,
          }
        : {}),
      ...(change.occurredAt !== undefined ? { occurred_at: date(change.occurredAt) } : {}),
      ...(change.eventReadings !== undefined
        ? { event_readings: change.eventReadings === null ? null : JSON.stringify(change.eventReadings) }
        : {}),
    })
    .where('id', '=', id)
    .execute();
  await recordEvent(db, id, event, at, change, event === 'updated' ? state.readingIds : null);
  // README, "Notifications": an acknowledged or resolved alert is not escalated.
  if (state.status !== 'open') await cancelPendingEscalations(db, id);
}

async function recordEvent(
  db: Db,
  alertId: string,
  event: AlertEvent,
  at: number,
  change: AlertChange,
  readingIds: string[] | null,
): Promise<void> {
  await db
    .insertInto('alert_events')
    .values({
      alert_id: alertId,
      event,
      at: new Date(at),
      actor: change.actor ?? null,
      reading_ids: readingIds,
      action: change.action ?? null,
      note: change.note ?? null,
      readings: change.eventReadings ? JSON.stringify(change.eventReadings) : null,
    })
    .execute();
}

/** One entry of an alert's history (GET /api/v1/alerts/{id}/history). */
export interface AlertHistoryEntry {
  at: Date;
  event: string;
  actor: string | null;
  readingIds: string[] | null;
  readings: AlertEventReading[] | null;
  action: AcknowledgeAction | null;
  note: string | null;
  /** Notification events: the channel, the team told, first notification or escalation; null for the others. */
  notification: { channel: string; teamId: string; purpose: 'alert' | 'escalation' } | null;
}

/**
 * Everything that happened to an alert, oldest first, with the notifications the
 * teams were sent (`notified`) or that failed for good (`notification_failed`).
 * Cost: the alert's own rows, by the (alert_id, id) index and the notifications'
 * (alert_id, channel_id, purpose) key; a handful per alert.
 */
export async function alertHistory(db: Db, alertId: string): Promise<AlertHistoryEntry[]> {
  const rows = await db
    .selectFrom('alert_events')
    .select(['at', 'event', 'actor', 'reading_ids', 'readings', 'action', 'note'])
    .where('alert_id', '=', alertId)
    .orderBy('id')
    .execute();
  const events: AlertHistoryEntry[] = rows.map((r) => ({
    at: r.at,
    event: r.event,
    actor: r.actor,
    readingIds: r.reading_ids,
    readings: (r.readings ?? null) as AlertEventReading[] | null,
    action: r.action as AcknowledgeAction | null,
    note: r.note,
    notification: null,
  }));
  const told: AlertHistoryEntry[] = (await notificationOutcomes(db, alertId)).map((n) => ({
    at: n.at,
    event: n.sent ? 'notified' : 'notification_failed',
    actor: null,
    readingIds: null,
    readings: null,
    action: null,
    note: null,
    notification: { channel: n.channel, teamId: n.teamId, purpose: n.purpose },
  }));
  return [...events, ...told].sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** Devices assigned to the patient at `at`. */
export async function assignedDeviceIds(db: Db, patientId: string, at: Date): Promise<string[]> {
  const rows = await db
    .selectFrom('device_assignments')
    .select('device_id')
    .where('patient_id', '=', patientId)
    .where('valid_from', '<=', at)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
    .execute();
  return rows.map((r) => r.device_id);
}

/**
 * Alerts not resolved, counted by rule and status (open, acknowledged): the gauges
 * vitalink_alerts_open and vitalink_alerts_acknowledged (src/metrics/alert-gauges.ts).
 * Cost: the partial index alerts_one_active (its predicate is `status <> 'resolved'`),
 * which holds at most one entry per patient and rule (10,000 patients × 9 rules =
 * 90,000 at the very worst; hundreds in practice), plus a heap visit per entry for
 * its status; never the resolved history, which grows. Not index-only, so it runs
 * at most every 15 s per instance, however often /metrics is scraped. Measured: with
 * 2,000 active alerts among 2M resolved, a bitmap scan of alerts_one_active, 27 buffers, 0.5 ms.
 */
export async function countUnresolvedAlerts(
  db: Db,
): Promise<Array<{ rule: string; status: 'open' | 'acknowledged'; count: number }>> {
  const { rows } = await sql<{ rule: string; status: 'open' | 'acknowledged'; count: string }>`
    SELECT rule, status, count(*) AS count FROM alerts WHERE status <> 'resolved' GROUP BY rule, status
  `.execute(db);
  return rows.map((r) => ({ rule: r.rule, status: r.status, count: Number(r.count) }));
}
