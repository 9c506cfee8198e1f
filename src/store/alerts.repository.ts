import { type Selectable, sql } from 'kysely';
import type { AlertState } from '../domain/alerts/index.ts';
import type { Database, Db } from './database.ts';
import { cancelPendingEscalations } from './notifications.repository.ts';

export interface StoredAlert {
  id: string;
  patientId: string;
  rule: string;
  state: AlertState;
  occurredAt: Date | null;
  acknowledgedBy: string | null;
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
    acknowledgedBy: r.acknowledged_by,
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

export async function insertAlert(
  db: Db,
  patientId: string,
  rule: string,
  state: AlertState,
  occurredAt: number | null,
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
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await recordEvent(db, row.id, 'opened', state.openedAt, null, state.readingIds);
  return row.id;
}

export async function updateAlert(
  db: Db,
  id: string,
  state: AlertState,
  event: AlertEvent,
  at: number,
  actor: string | null = null,
  occurredAt?: number | null,
): Promise<void> {
  await db
    .updateTable('alerts')
    .set({
      status: state.status,
      acknowledged_at: date(state.acknowledgedAt),
      resolved_at: date(state.resolvedAt),
      condition_cleared_at: date(state.conditionClearedAt),
      reading_ids: state.readingIds,
      ...(actor !== null && event === 'acknowledged' ? { acknowledged_by: actor } : {}),
      ...(occurredAt !== undefined ? { occurred_at: date(occurredAt) } : {}),
    })
    .where('id', '=', id)
    .execute();
  await recordEvent(db, id, event, at, actor, event === 'updated' ? state.readingIds : null);
  // README, "Notifications": an acknowledged or resolved alert is not escalated.
  if (state.status !== 'open') await cancelPendingEscalations(db, id);
}

async function recordEvent(
  db: Db,
  alertId: string,
  event: AlertEvent,
  at: number,
  actor: string | null,
  readingIds: string[] | null,
): Promise<void> {
  await db
    .insertInto('alert_events')
    .values({ alert_id: alertId, event, at: new Date(at), actor, reading_ids: readingIds })
    .execute();
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
