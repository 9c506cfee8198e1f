import { createHmac } from 'node:crypto';
import { ALERT_RULES, type AlertSeverity, type RuleKey } from './alerts/rules.ts';

/**
 * Notifications of alerts to care teams (README, "Notifications"): the channels,
 * the retry schedule, the webhook signature and what a message says. Pure.
 */

export const CHANNEL_KINDS = ['webhook', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** `alert`: the team is told an alert opened; `escalation`: the second contact is told nobody acknowledged it. */
export const NOTIFICATION_PURPOSES = ['alert', 'escalation'] as const;
export type NotificationPurpose = (typeof NOTIFICATION_PURPOSES)[number];

/**
 * pending → sent | dead (after the last attempt, or a refusal that retrying will not
 * change) | cancelled (an escalation whose alert was acknowledged or resolved, a
 * channel removed). A dead notification goes back to pending when replayed.
 */
export const NOTIFICATION_STATES = ['pending', 'sent', 'dead', 'cancelled'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/** The metric's outcomes (vitalink_notifications_total{channel,outcome}). */
export const DELIVERY_OUTCOMES = ['sent', 'retry', 'dead', 'cancelled'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/**
 * How long after the team is notified an alert still open (neither acknowledged
 * nor resolved) is escalated, per severity; null: never. The defaults follow
 * what each severity means (src/domain/alerts/rules.ts): critical is "act today"
 * (a level 2 hypoglycaemia, a hypertensive crisis), so half an hour without a
 * reaction during service hours is already long; high is a likely decompensation,
 * to be seen within the morning or afternoon (2 h); moderate is to be reviewed
 * within the working day (8 h); low is a monitoring gap (no data), worth a
 * coordinator's call if nobody took it up within a day (24 h).
 */
export type EscalationDelays = Readonly<Record<AlertSeverity, number | null>>;

export const DEFAULT_ESCALATION_DELAYS: EscalationDelays = Object.freeze({
  critical: 30 * 60_000,
  high: 2 * 3_600_000,
  moderate: 8 * 3_600_000,
  low: 24 * 3_600_000,
});

export function severityOf(rule: string): AlertSeverity {
  return ALERT_RULES.find((r) => r.key === rule)?.severity ?? 'moderate';
}

/** The rule's name in a message: a label, never a value. */
export const RULE_LABELS: Readonly<Record<RuleKey, string>> = {
  spo2_low: 'Low SpO2',
  weight_gain: 'Weight gain',
  bp_high: 'High blood pressure',
  fever: 'Fever',
  hypoglycemia: 'Hypoglycaemia',
  hyperglycemia: 'Hyperglycaemia',
  tachycardia: 'Tachycardia',
  bradycardia: 'Bradycardia',
  no_data: 'No data',
};

export function ruleLabel(rule: string): string {
  return (RULE_LABELS as Record<string, string>)[rule] ?? rule;
}

export interface RetrySettings {
  /** Attempts in all, the first included; after the last failed one the notification is dead. */
  readonly maxAttempts: number;
  /** The pause after the first failed attempt; it doubles after each one. */
  readonly baseDelayMs: number;
  /** The longest pause. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
});

/**
 * The pause before attempt `attempts + 1` after `attempts` failed ones: exponential
 * (base × 2^(attempts−1), capped), with "equal jitter" (half of it fixed, half
 * random) so that notifications failing together at a receiver's outage do not all
 * come back at the same instant, and none comes back at once. `random` in [0, 1).
 */
export function retryDelayMs(attempts: number, settings: RetrySettings, random: number): number {
  const exp = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + (exp / 2) * random);
}

/**
 * What an HTTP status means for a webhook delivery: 2xx delivered; 408 and 429 and
 * 5xx (and anything else) worth retrying; the other 4xx refused for good (the
 * receiver says the request itself is wrong: a bad signature, a removed endpoint),
 * so the notification goes to the dead letters at once.
 */
export function webhookStatusOutcome(status: number): 'delivered' | 'retry' | 'refused' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'refused';
  return 'retry';
}

/** An SMTP reply code: 5xx is permanent (RFC 5321, 4.2.1), anything else is retried. */
export function smtpCodeOutcome(code: number | undefined): 'retry' | 'refused' {
  return code !== undefined && code >= 500 && code < 600 ? 'refused' : 'retry';
}

/** The headers of a webhook (README, "Verifying a webhook"). */
export const WEBHOOK_TIMESTAMP_HEADER = 'Vitalink-Timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'Vitalink-Signature';
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** `v1=` and the hex HMAC-SHA256, under the channel's secret, of "timestamp.body". */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** Shortest webhook secret given with --secret (a generated one has 32 random bytes). */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

/** What a notification says: no clinical value, no patient name. */
export interface NotificationMessage {
  readonly notificationId: string;
  readonly purpose: NotificationPurpose;
  readonly teamId: string;
  readonly alertId: string;
  readonly patientId: string;
  readonly rule: string;
  readonly openedAt: Date;
  /** Where the alert is seen; null when VITALINK_PUBLIC_URL is unset. */
  readonly url: string | null;
}

/** The link to an alert in the dashboard. */
export function alertUrl(publicUrl: string | undefined, alertId: string): string | null {
  return publicUrl === undefined ? null : `${publicUrl}/#/alerts/${encodeURIComponent(alertId)}`;
}

/**
 * The webhook's JSON body. It names the patient by id (the receiver is a system of
 * the care team's that routes the alert, over TLS, authenticated by the signature),
 * never by name, and carries no reading value.
 */
export function webhookBody(m: NotificationMessage): string {
  return JSON.stringify({
    id: m.notificationId,
    type: m.purpose === 'alert' ? 'alert.opened' : 'alert.escalated',
    teamId: m.teamId,
    alert: {
      id: m.alertId,
      patientId: m.patientId,
      rule: m.rule,
      label: ruleLabel(m.rule),
      severity: severityOf(m.rule),
      openedAt: m.openedAt.toISOString(),
      url: m.url,
    },
  });
}

/**
 * The e-mail: the severity, the rule's label and a link, nothing else: no patient
 * id or name and no value, since a plain e-mail may be read or kept where health
 * data must not be (README, "Notifications").
 */
export function emailContent(m: NotificationMessage): { subject: string; text: string } {
  const severity = severityOf(m.rule);
  const label = ruleLabel(m.rule);
  const subject =
    m.purpose === 'alert'
      ? `[Vitalink] ${severity} alert: ${label}`
      : `[Vitalink] Not acknowledged: ${severity} alert: ${label}`;
  const lead =
    m.purpose === 'alert'
      ? `A ${severity} alert (${label}) opened at ${m.openedAt.toISOString()} for a patient followed by care team ${m.teamId}.`
      : `A ${severity} alert (${label}) that opened at ${m.openedAt.toISOString()} for a patient followed by care team ${m.teamId} has not been acknowledged yet.`;
  const link = m.url ? `See it in Vitalink: ${m.url}` : 'See it in the Vitalink dashboard.';
  return {
    subject,
    text: [lead, '', link, '', 'This message holds no clinical data; sign in to see the alert.', ''].join('\n'),
  };
}

/** What a webhook's sealed secret is bound to (src/domain/sealed-secrets.ts): its team and URL. */
export function channelSecretContext(teamId: string, url: string): string {
  return `${teamId}\n${url}`;
}
