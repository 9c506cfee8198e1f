import { sql } from 'kysely';
import {
  type ChannelKind,
  type EscalationDelays,
  type NotificationPurpose,
  type NotificationState,
  severityOf,
} from '../domain/notifications.ts';
import { nextOpening, parseServiceHours } from '../domain/service-hours.ts';
import type { Db } from './database.ts';

/**
 * Where a team's alerts go (notification_channels) and the outbox of what is to
 * be sent (notifications): migration 2026-12-07T1740-notifications.
 */

export interface Channel {
  id: string;
  teamId: string;
  kind: ChannelKind;
  target: string;
  escalation: boolean;
  createdAt: Date;
}

export interface NewChannel {
  teamId: string;
  kind: ChannelKind;
  target: string;
  escalation: boolean;
  /** A webhook's sealed secret (src/domain/sealed-secrets.ts). */
  secret?: { sealed: Buffer; keyId: string };
}

export async function teamExists(db: Db, teamId: string): Promise<boolean> {
  const row = await db.selectFrom('care_teams').select('id').where('id', '=', teamId).executeTakeFirst();
  return row !== undefined;
}

/** Inserts a channel; undefined when the team already has the same one (unique while not removed). */
export async function insertChannel(db: Db, c: NewChannel): Promise<Channel | undefined> {
  const row = await db
    .insertInto('notification_channels')
    .values({
      team_id: c.teamId,
      kind: c.kind,
      target: c.target,
      escalation: c.escalation,
      secret_sealed: c.secret?.sealed ?? null,
      secret_key_id: c.secret?.keyId ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['team_id', 'kind', 'target', 'escalation']).where('removed_at', 'is', null).doNothing(),
    )
    .returning(['id', 'team_id', 'kind', 'target', 'escalation', 'created_at'])
    .executeTakeFirst();
  return row ? toChannel(row) : undefined;
}

function toChannel(r: {
  id: string;
  team_id: string;
  kind: ChannelKind;
  target: string;
  escalation: boolean;
  created_at: Date;
}): Channel {
  return {
    id: r.id,
    teamId: r.team_id,
    kind: r.kind,
    target: r.target,
    escalation: r.escalation,
    createdAt: r.created_at,
  };
}

/** The channels in use, of one team or of all, by id. */
export async function listChannels(db: Db, teamId?: string): Promise<Channel[]> {
  let q = db
    .selectFrom('notification_channels')
    .select(['id', 'team_id', 'kind', 'target', 'escalation', 'created_at'])
    .where('removed_at', 'is', null)
    .orderBy('id');
  if (teamId !== undefined) q = q.where('team_id', '=', teamId);
  return (await q.execute()).map(toChannel);
}

/** Removes a channel (kept for the history of what was sent); false when there is no such channel in use. */
export async function removeChannel(db: Db, id: string, at: Date): Promise<boolean> {
  if (!/^\d{1,18}$/.test(id)) return false;
  const result = await db
    .updateTable('notification_channels')
    .set({ removed_at: at })
    .where('id', '=', id)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The outbox write, in the transaction that opens the alert: for each team the
 * patient is enrolled with at `at`, one notification per channel, due at `at`, or
 * at the team's next opening when it is off duty then (src/domain/service-hours.ts);
 * and one per escalation contact, due that time plus the delay of the rule's
 * severity (none when the severity's delay is off). A team whose stored hours do
 * not parse is taken as on duty: better told early than never.
 *
 * Cost: the patient's enrolments (enrolments_patient) and their teams' channels
 * (notification_channels_active): a few rows per alert opened; never readings.
 */
export async function queueAlertNotifications(
  db: Db,
  alert: { alertId: string; patientId: string; rule: string; at: number },
  delays: EscalationDelays,
): Promise<number> {
  const at = new Date(alert.at);
  const { rows } = await sql<{
    team_id: string;
    time_zone: string;
    service_hours: string | null;
    channel_id: string;
    kind: ChannelKind;
    escalation: boolean;
  }>`
    SELECT DISTINCT t.id AS team_id, t.time_zone, t.service_hours, c.id AS channel_id, c.kind, c.escalation
    FROM enrolments e
    JOIN care_teams t ON t.id = e.team_id
    JOIN notification_channels c ON c.team_id = t.id AND c.removed_at IS NULL
    WHERE e.patient_id = ${alert.patientId} AND e.starts_at <= ${at} AND (e.ends_at IS NULL OR e.ends_at > ${at})
  `.execute(db);
  if (rows.length === 0) return 0;
  const delay = delays[severityOf(alert.rule)];
  const values = rows.flatMap((r) => {
    const parsed = r.service_hours === null ? null : parseServiceHours(r.service_hours);
    const hours = parsed?.ok ? parsed.hours : null;
    const notifiedAt = nextOpening(hours, r.time_zone, at);
    if (r.escalation && delay === null) return [];
    const purpose: NotificationPurpose = r.escalation ? 'escalation' : 'alert';
    return [
      {
        alert_id: alert.alertId,
        team_id: r.team_id,
        channel_id: r.channel_id,
        channel: r.kind,
        purpose,
        due_at: r.escalation ? new Date(notifiedAt.getTime() + (delay ?? 0)) : notifiedAt,
        created_at: at,
      },
    ];
  });
  if (values.length === 0) return 0;
  await db
    .insertInto('notifications')
    .values(values)
    .onConflict((oc) => oc.columns(['alert_id', 'channel_id', 'purpose']).doNothing())
    .execute();
  return values.length;
}

/**
 * An alert acknowledged or resolved: its escalations not sent yet are cancelled
 * (through notifications' unique (alert_id, channel_id, purpose) index: the alert's few rows).
 */
export async function cancelPendingEscalations(db: Db, alertId: string): Promise<number> {
  const result = await db
    .updateTable('notifications')
    .set({ state: 'cancelled', last_error: 'the alert was acknowledged or resolved before the escalation' })
    .where('alert_id', '=', alertId)
    .where('purpose', '=', 'escalation')
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * A webhook secret sealed again under the current key (it was under a previous one),
 * unless another instance did it first. Cost: one row by key.
 */
export async function resealChannelSecret(
  db: Db,
  channelId: string,
  from: string,
  to: { sealed: Buffer; keyId: string },
): Promise<void> {
  await db
    .updateTable('notification_channels')
    .set({ secret_sealed: to.sealed, secret_key_id: to.keyId })
    .where('id', '=', channelId)
    .where('secret_key_id', '=', from)
    .execute();
}

/** A notification taken for delivery, with what sending it needs. */
export interface ClaimedNotification {
  id: string;
  alertId: string;
  teamId: string;
  channel: ChannelKind;
  purpose: NotificationPurpose;
  /** Attempts so far, this one included. */
  attempts: number;
  patientId: string;
  rule: string;
  alertStatus: 'open' | 'acknowledged' | 'resolved';
  openedAt: Date;
  channelId: string;
  target: string;
  secret: { sealed: Buffer; keyId: string } | null;
  channelRemoved: boolean;
}

/**
 * Takes up to `limit` notifications due at `now`, oldest due first, and leases
 * them until `leaseUntil` (their due_at moves there and their attempt is counted)
 * in one statement: FOR UPDATE SKIP LOCKED, so that several instances never take
 * the same row, and a lease rather than a transaction held open while sending, so
 * that a crash after sending and before recording it sends it again once the lease
 * is over, with the same id (at least once, with an idempotency key).
 *
 * Cost: an index range scan of notifications_due (state = 'pending', due_at ≤ now):
 * the rows due, not the rows ever sent; then each row's alert and channel by key.
 */
export async function claimDueNotifications(
  db: Db,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<ClaimedNotification[]> {
  const { rows } = await sql<{
    id: string;
    alert_id: string;
    team_id: string;
    channel: ChannelKind;
    purpose: NotificationPurpose;
    attempts: number;
    patient_id: string;
    rule: string;
    status: 'open' | 'acknowledged' | 'resolved';
    opened_at: Date;
    channel_id: string;
    target: string;
    secret_sealed: Buffer | null;
    secret_key_id: string | null;
    removed_at: Date | null;
  }>`
    WITH due AS (
      SELECT id FROM notifications
      WHERE state = 'pending' AND due_at <= ${now}
      ORDER BY due_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE notifications n SET due_at = ${leaseUntil}, attempts = n.attempts + 1
    FROM due, alerts a, notification_channels c
    WHERE n.id = due.id AND a.id = n.alert_id AND c.id = n.channel_id
    RETURNING n.id, n.alert_id, n.team_id, n.channel, n.purpose, n.attempts, a.patient_id, a.rule, a.status,
              a.opened_at, n.channel_id, c.target, c.secret_sealed, c.secret_key_id, c.removed_at
  `.execute(db);
  return rows.map((r) => ({
    id: r.id,
    alertId: String(r.alert_id),
    teamId: r.team_id,
    channel: r.channel,
    purpose: r.purpose,
    attempts: r.attempts,
    patientId: r.patient_id,
    rule: r.rule,
    alertStatus: r.status,
    openedAt: r.opened_at,
    channelId: String(r.channel_id),
    target: r.target,
    secret: r.secret_sealed && r.secret_key_id ? { sealed: r.secret_sealed, keyId: r.secret_key_id } : null,
    channelRemoved: r.removed_at !== null,
  }));
}

/**
 * Records the outcome of an attempt. Only while the row is still this attempt's
 * (pending, same attempt count): a worker whose lease ran out and whose row another
 * took changes nothing. Returns whether it did.
 */
export async function recordOutcome(
  db: Db,
  id: string,
  attempts: number,
  outcome:
    | { state: 'sent'; at: Date }
    | { state: 'pending'; dueAt: Date; error: string }
    | { state: 'dead'; at: Date; error: string }
    | { state: 'cancelled'; error: string },
): Promise<boolean> {
  const set =
    outcome.state === 'sent'
      ? { state: 'sent' as const, sent_at: outcome.at, last_error: null }
      : outcome.state === 'pending'
        ? { due_at: outcome.dueAt, last_error: outcome.error }
        : outcome.state === 'dead'
          ? { state: 'dead' as const, dead_at: outcome.at, last_error: outcome.error }
          : { state: 'cancelled' as const, last_error: outcome.error };
  const result = await db
    .updateTable('notifications')
    .set(set)
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where('attempts', '=', attempts)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface DeadLetter {
  id: string;
  alertId: string;
  teamId: string;
  channelId: string;
  channel: ChannelKind;
  purpose: NotificationPurpose;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deadAt: Date | null;
}

/**
 * Dead letters, oldest first, up to `limit`. Cost: notifications_due for
 * state = 'dead': the dead rows only (their due_at is the end of their last lease).
 */
export async function listDeadLetters(db: Db, options: { teamId?: string; limit: number }): Promise<DeadLetter[]> {
  let q = db
    .selectFrom('notifications')
    .select([
      'id',
      'alert_id',
      'team_id',
      'channel_id',
      'channel',
      'purpose',
      'attempts',
      'last_error',
      'created_at',
      'dead_at',
    ])
    .where('state', '=', 'dead')
    .orderBy('due_at')
    .orderBy('id')
    .limit(options.limit);
  if (options.teamId !== undefined) q = q.where('team_id', '=', options.teamId);
  return (await q.execute()).map((r) => ({
    id: r.id,
    alertId: String(r.alert_id),
    teamId: r.team_id,
    channelId: String(r.channel_id),
    channel: r.channel,
    purpose: r.purpose,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at,
    deadAt: r.dead_at,
  }));
}

/**
 * Puts dead letters back in the outbox, due at `now`, with their attempts counted
 * afresh: one by id, or all. Returns the ids replayed. Cost: the dead rows.
 */
export async function replayDeadLetters(db: Db, which: { id: string } | { all: true }, now: Date): Promise<string[]> {
  let q = db
    .updateTable('notifications')
    .set({ state: 'pending', due_at: now, attempts: 0, dead_at: null })
    .where('state', '=', 'dead');
  if ('id' in which) {
    if (!/^[0-9a-f-]{36}$/i.test(which.id)) return [];
    q = q.where('id', '=', which.id);
  }
  return (await q.returning('id').execute()).map((r) => r.id);
}

/** The state of one notification (CLI and API answers). */
export async function notificationState(db: Db, id: string): Promise<NotificationState | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const row = await db.selectFrom('notifications').select('state').where('id', '=', id).executeTakeFirst();
  return row?.state;
}

/**
 * Notifications waiting (pending) and dead, for the gauges. Cost: index-only counts
 * over notifications_due's pending and dead ranges (sent rows are not read).
 */
export async function notificationBacklog(db: Db): Promise<{ pending: number; dead: number }> {
  const { rows } = await sql<{ pending: string; dead: string }>`
    SELECT (SELECT count(*) FROM notifications WHERE state = 'pending') AS pending,
           (SELECT count(*) FROM notifications WHERE state = 'dead') AS dead
  `.execute(db);
  return { pending: Number(rows[0]?.pending ?? 0), dead: Number(rows[0]?.dead ?? 0) };
}

/** An alert's notifications that were delivered (`sent`) or given up, when, through which channel of which team. */
export async function notificationOutcomes(
  db: Db,
  alertId: string,
): Promise<{ at: Date; sent: boolean; channel: string; teamId: string; purpose: 'alert' | 'escalation' }[]> {
  const rows = await db
    .selectFrom('notifications')
    .select(['state', 'sent_at', 'dead_at', 'channel', 'team_id', 'purpose'])
    .where('alert_id', '=', alertId)
    .where('state', 'in', ['sent', 'dead'])
    .execute();
  return rows.map((r) => ({
    at: (r.state === 'sent' ? r.sent_at : r.dead_at) as Date,
    sent: r.state === 'sent',
    channel: r.channel,
    teamId: r.team_id,
    purpose: r.purpose,
  }));
}
