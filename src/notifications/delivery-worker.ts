import {
  alertUrl,
  channelSecretContext,
  type DeliveryOutcome,
  emailContent,
  type NotificationMessage,
  type RetrySettings,
  retryDelayMs,
  webhookBody,
} from '../domain/notifications.ts';
import { openSecret, sealSecret } from '../domain/sealed-secrets.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { RoundLoop } from '../round-loop.ts';
import type { Db } from '../store/database.ts';
import {
  type ClaimedNotification,
  claimDueNotifications,
  notificationBacklog,
  recordOutcome,
  resealChannelSecret,
} from '../store/notifications.repository.ts';
import { type Mailer, openMailer, type SmtpSettings } from './email.ts';
import type { SendResult } from './send-result.ts';
import { sendWebhook } from './webhook.ts';

export interface DeliveryWorkerOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** Opens the webhooks' sealed secrets. */
  readonly keys: KeyRing;
  /** Unset: e-mail notifications wait (and retry) until VITALINK_SMTP_HOST is set. */
  readonly smtp: SmtpSettings | undefined;
  readonly retry: RetrySettings;
  /** The longest a webhook request or an SMTP step may take. */
  readonly timeoutMs: number;
  /** Pause between polls when nothing was due. */
  readonly intervalMs: number;
  /** Notifications taken per round (sent concurrently). */
  readonly batchSize?: number;
  /** VITALINK_PUBLIC_URL: the base of the link to the alert. */
  readonly publicUrl: string | undefined;
  readonly now: () => number;
  /** In [0, 1): the retry jitter. */
  readonly random?: () => number;
}

export interface DeliveryRound {
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
  cancelled: number;
}

const DEFAULT_BATCH = 20;
/** How often the pending and dead gauges are refreshed. */
const GAUGES_EVERY_MS = 10_000;

/**
 * The delivery worker of the notification outbox (README, "Notifications"), run by
 * every `serve`. Each round leases the due notifications (FOR UPDATE SKIP LOCKED:
 * several instances share the work, never the same row), sends them, and records
 * each outcome: sent; retried later with exponential backoff and jitter; dead after
 * the last attempt or a refusal (an operator lists and replays dead letters); or
 * cancelled (an escalation whose alert was acknowledged or resolved meanwhile, a
 * removed channel). A crash between sending and recording sends again once the lease
 * is over, with the same idempotency key: delivery is at least once, and a receiver
 * that keeps the keys it has seen gets each notification once.
 *
 * Trade-off: a lease instead of a transaction held open while sending, so that a
 * slow receiver holds no database connection or row lock; the price is the lease
 * (leaseMs: timeout × 3 + 60 s) before a crashed instance's rows are taken again.
 *
 * Its rounds run in a RoundLoop (src/round-loop.ts).
 */
export class DeliveryWorker {
  readonly #o: DeliveryWorkerOptions;
  readonly #loop: RoundLoop;
  #gaugesAt = -Infinity;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    this.#loop = new RoundLoop({
      log: options.log,
      intervalMs: options.intervalMs,
      round: async () => {
        const round = await this.runOnce();
        await this.#updateGauges();
        return round.claimed >= (options.batchSize ?? DEFAULT_BATCH);
      },
      messages: { failed: 'notification delivery round failed, will retry', again: 'notification delivery runs again' },
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** One round: the notifications due now, sent and recorded. Exposed for tests. */
  async runOnce(): Promise<DeliveryRound> {
    const { db, now } = this.#o;
    const at = now();
    const batch = this.#o.batchSize ?? DEFAULT_BATCH;
    const claimed = await claimDueNotifications(db, new Date(at), batch, new Date(at + leaseMs(this.#o.timeoutMs)));
    const round: DeliveryRound = { claimed: claimed.length, sent: 0, retried: 0, dead: 0, cancelled: 0 };
    if (claimed.length === 0) return round;
    let mailer: Promise<Mailer> | undefined;
    const smtp = this.#o.smtp;
    const getMailer = smtp ? () => (mailer ??= openMailer(smtp)) : undefined;
    try {
      const outcomes = await Promise.all(claimed.map((n) => this.#deliver(n, at, getMailer)));
      for (const outcome of outcomes) {
        if (outcome === 'sent') round.sent++;
        else if (outcome === 'retry') round.retried++;
        else if (outcome === 'dead') round.dead++;
        else if (outcome === 'cancelled') round.cancelled++;
      }
    } finally {
      if (mailer) (await mailer.catch(() => undefined))?.close();
    }
    return round;
  }

  async #deliver(
    n: ClaimedNotification,
    at: number,
    getMailer: (() => Promise<Mailer>) | undefined,
  ): Promise<DeliveryOutcome | 'lost'> {
    let result: SendResult | 'cancelled';
    if (n.channelRemoved) result = 'cancelled';
    else if (n.purpose === 'escalation' && n.alertStatus !== 'open') result = 'cancelled';
    else result = await this.#send(n, at, getMailer);

    const { db, retry } = this.#o;
    let outcome: DeliveryOutcome;
    let recorded: boolean;
    const finishedAt = new Date(this.#o.now());
    if (result === 'cancelled') {
      outcome = 'cancelled';
      recorded = await recordOutcome(db, n.id, n.attempts, {
        state: 'cancelled',
        error: n.channelRemoved
          ? 'the channel was removed'
          : 'the alert was acknowledged or resolved before the escalation',
      });
    } else if (result.outcome === 'delivered') {
      outcome = 'sent';
      recorded = await recordOutcome(db, n.id, n.attempts, { state: 'sent', at: finishedAt });
    } else if (result.outcome === 'retry' && n.attempts < retry.maxAttempts) {
      outcome = 'retry';
      const delay = retryDelayMs(n.attempts, retry, (this.#o.random ?? Math.random)());
      recorded = await recordOutcome(db, n.id, n.attempts, {
        state: 'pending',
        dueAt: new Date(finishedAt.getTime() + delay),
        error: result.error,
      });
    } else {
      outcome = 'dead';
      const why =
        result.outcome === 'retry' ? `${result.error} (attempt ${n.attempts} of ${retry.maxAttempts})` : result.error;
      recorded = await recordOutcome(db, n.id, n.attempts, { state: 'dead', at: finishedAt, error: why });
    }
    // Ids and counts only: no patient, no address, no secret (conventions.md, "Config and logs").
    const fields = {
      notification: n.id,
      alert: n.alertId,
      team: n.teamId,
      channel: n.channel,
      purpose: n.purpose,
      attempt: n.attempts,
      outcome,
      ...(result !== 'cancelled' && result.outcome !== 'delivered' ? { error: result.error } : {}),
    };
    if (!recorded) {
      // The lease ran out and another round took the row: its outcome is the one kept.
      this.#o.log.warn(fields, 'notification outcome not recorded: its lease ran out');
      return 'lost';
    }
    this.#o.metrics?.notifications.labels(n.channel, outcome).inc();
    if (outcome === 'dead') this.#o.log.warn(fields, 'notification dead-lettered');
    else this.#o.log.info(fields, 'notification attempt');
    return outcome;
  }

  async #send(n: ClaimedNotification, at: number, getMailer: (() => Promise<Mailer>) | undefined): Promise<SendResult> {
    const message: NotificationMessage = {
      notificationId: n.id,
      purpose: n.purpose,
      teamId: n.teamId,
      alertId: n.alertId,
      patientId: n.patientId,
      rule: n.rule,
      openedAt: n.openedAt,
      url: alertUrl(this.#o.publicUrl, n.alertId),
    };
    if (n.channel === 'webhook') {
      if (!n.secret)
        return { outcome: 'refused', error: 'the webhook has no secret: remove the channel and add it again' };
      const context = channelSecretContext(n.teamId, n.target);
      const opened = openSecret(this.#o.keys, n.secret, context);
      if (!opened.ok) return { outcome: 'refused', error: opened.problem };
      // README, "Rotating the key": a secret under a previous key moves to the current one when used.
      if (!this.#o.keys.isCurrent(n.secret.keyId)) {
        const resealed = sealSecret(this.#o.keys.current, opened.secret, context);
        await resealChannelSecret(this.#o.db, n.channelId, n.secret.keyId, resealed).catch((err: unknown) =>
          this.#o.log.warn({ err, channel: n.channelId }, 'webhook secret not moved to the current key'),
        );
      }
      return sendWebhook({
        url: n.target,
        secret: opened.secret,
        body: webhookBody(message),
        idempotencyKey: n.id,
        timestampSeconds: Math.floor(at / 1000),
        timeoutMs: this.#o.timeoutMs,
      });
    }
    if (!getMailer) {
      return {
        outcome: 'retry',
        error: 'no SMTP server is configured: set VITALINK_SMTP_HOST (README, "Notifications")',
      };
    }
    let mailer: Mailer;
    try {
      mailer = await getMailer();
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      return {
        outcome: 'retry',
        error: `cannot read the SMTP certificate, key or CA file (${code}): check VITALINK_SMTP_CLIENT_CERT_FILE, VITALINK_SMTP_CLIENT_KEY_FILE and VITALINK_SMTP_CA_FILE`,
      };
    }
    const { subject, text } = emailContent(message);
    return mailer.send({ to: n.target, subject, text, idempotencyKey: n.id });
  }

  /** The backlog gauges, at most every GAUGES_EVERY_MS. */
  async #updateGauges(): Promise<void> {
    const wall = Date.now();
    if (!this.#o.metrics || wall - this.#gaugesAt < GAUGES_EVERY_MS) return;
    this.#gaugesAt = wall;
    const backlog = await notificationBacklog(this.#o.db);
    this.#o.metrics.notificationsPending.set(backlog.pending);
    this.#o.metrics.notificationsDead.set(backlog.dead);
  }
}

/**
 * How long a taken notification is leased: longer than one attempt can take (a
 * webhook request, or an SMTP connection, greeting and reply, each bounded by the
 * timeout), so that a live instance's row is never taken by another; a crashed
 * instance's rows are taken again after it.
 */
export function leaseMs(timeoutMs: number): number {
  return timeoutMs * 3 + 60_000;
}
