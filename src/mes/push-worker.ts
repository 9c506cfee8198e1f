import { patientFeedIdentity, readingBundle } from '../actions/mes-bundles.ts';
import type { MesSettings, MesPushSettings } from '../config.ts';
import { retryDelayMs } from '../domain/notifications.ts';
import type { Logger } from '../logger.ts';
import { RoundLoop } from '../round-loop.ts';
import type { Db } from '../store/database.ts';
import {
  abandonStaleSends,
  type ClaimedMesPush,
  claimDueMesPushes,
  type MesOutcome,
  readingOfPush,
  recordMesOutcome,
} from '../store/mes-pushes.repository.ts';
import { type MesSendResult, sendMesBundle } from './push.ts';

export interface MesPushWorkerOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly settings: MesSettings;
  readonly push: MesPushSettings;
  /** Pushes taken per round (sent concurrently). */
  readonly batchSize?: number;
  readonly now: () => number;
  /** In [0, 1): the retry jitter. */
  readonly random?: () => number;
}

export interface MesPushRound {
  claimed: number;
  sent: number;
  retried: number;
  refused: number;
  dead: number;
  abandoned: number;
}

const DEFAULT_BATCH = 20;

/**
 * The push worker of the Mon espace santé outbox (README, "Feeding Mon espace
 * santé"), run by every `serve` when VITALINK_MES_URL is set, after the notification
 * delivery worker (src/notifications/delivery-worker.ts): each round leases the due
 * pushes (FOR UPDATE SKIP LOCKED: instances share the rows, never the same one),
 * builds each reading's bundle, POSTs it and records the outcome: sent (with the
 * receiver's locations); retried with exponential backoff and jitter (5xx, 401,
 * network, timeout); refused (422, 403, 409, or a bundle that cannot be built: no
 * qualified INS, no value), left for an operator to replay; dead after the last
 * attempt. Unlike notifications, a push whose lease runs out while sending (the
 * instance stopped between sending and recording) is not sent again but recorded
 * dead (abandonStaleSends): the receiver documents no idempotency, so sending it again
 * could store the observation twice; the Idempotency-Key header is sent all the same.
 *
 * Its rounds run in a RoundLoop (src/round-loop.ts).
 */
export class MesPushWorker {
  readonly #o: MesPushWorkerOptions;
  readonly #loop: RoundLoop;

  constructor(options: MesPushWorkerOptions) {
    this.#o = options;
    this.#loop = new RoundLoop({
      log: options.log,
      intervalMs: options.push.pollMs,
      round: async () => (await this.runOnce()).claimed >= (options.batchSize ?? DEFAULT_BATCH),
      messages: { failed: 'mes push round failed, will retry', again: 'mes push runs again' },
    });
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** One round. Exposed for tests. */
  async runOnce(): Promise<MesPushRound> {
    const { db, now, push } = this.#o;
    const at = now();
    const abandoned = await abandonStaleSends(db, new Date(at));
    if (abandoned > 0)
      this.#o.log.warn({ pushes: abandoned }, 'mes pushes abandoned: an instance stopped while sending');
    const batch = this.#o.batchSize ?? DEFAULT_BATCH;
    const claimed = await claimDueMesPushes(db, new Date(at), batch, new Date(at + mesLeaseMs(push.timeoutMs)));
    const round: MesPushRound = { claimed: claimed.length, sent: 0, retried: 0, refused: 0, dead: 0, abandoned };
    const outcomes = await Promise.all(claimed.map((p) => this.#deliver(p)));
    for (const o of outcomes) {
      if (o === 'sent') round.sent++;
      else if (o === 'pending') round.retried++;
      else if (o === 'refused') round.refused++;
      else if (o === 'dead') round.dead++;
    }
    return round;
  }

  async #deliver(p: ClaimedMesPush): Promise<MesOutcome['state'] | 'lost'> {
    const { db, push, settings } = this.#o;
    let bundle: unknown;
    let result: MesSendResult;
    const reading = await readingOfPush(db, p);
    const identity = reading ? await patientFeedIdentity(db, p.patientId) : undefined;
    if (!reading || !identity) {
      result = { outcome: 'refused', status: null, answer: 'the reading is no longer stored (retention)' };
    } else if (!identity.ok) {
      result = { outcome: 'refused', status: null, answer: identity.problem };
    } else {
      const built = readingBundle(settings, identity.identifier, reading);
      if (!built.ok) result = { outcome: 'refused', status: null, answer: built.problem };
      else {
        bundle = built.bundle;
        result = await sendMesBundle(push, built.bundle, p.id);
      }
    }
    const finishedAt = new Date(this.#o.now());
    let outcome: MesOutcome;
    if (result.outcome === 'sent') {
      outcome = { state: 'sent', at: finishedAt, ...pick(result) };
    } else if (result.outcome === 'retry' && p.attempts < push.retry.maxAttempts) {
      const delay = retryDelayMs(p.attempts, push.retry, (this.#o.random ?? Math.random)());
      outcome = {
        state: 'pending',
        dueAt: new Date(finishedAt.getTime() + delay),
        status: result.status,
        answer: result.answer,
      };
    } else if (result.outcome === 'retry') {
      outcome = {
        state: 'dead',
        status: result.status,
        answer: `${result.answer} (attempt ${p.attempts} of ${push.retry.maxAttempts})`,
      };
    } else outcome = { state: 'refused', status: result.status, answer: result.answer };
    const recorded = await recordMesOutcome(db, p.id, p.attempts, bundle, outcome);
    // Ids and statuses only: no patient data, no token (conventions.md, "Config and logs").
    const fields = {
      push: p.id,
      device: p.deviceId,
      attempt: p.attempts,
      outcome: outcome.state,
      status: result.status,
    };
    if (!recorded) {
      this.#o.log.warn(fields, 'mes push outcome not recorded: its lease ran out');
      return 'lost';
    }
    if (outcome.state === 'refused' || outcome.state === 'dead') this.#o.log.warn(fields, 'mes push not delivered');
    else this.#o.log.info(fields, 'mes push attempt');
    return outcome.state;
  }
}

function pick(r: Extract<MesSendResult, { outcome: 'sent' }>) {
  return { status: r.status, answer: r.answer, location: r.location, deviceLocation: r.deviceLocation };
}

/** How long a taken push is leased: longer than one attempt can take (the timeout), with room. */
export function mesLeaseMs(timeoutMs: number): number {
  return timeoutMs * 3 + 60_000;
}
