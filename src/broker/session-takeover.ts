import type { Logger } from '../logger.ts';
import { isDatabaseUnreachable } from '../store/database.ts';

/** New sessions are announced together, at most this long after their CONNACK. */
const ANNOUNCE_EVERY_MS = 50;

export interface SessionTakeoverDeps {
  /** This instance's id (VITALINK_INSTANCE_ID). */
  readonly instanceId: string;
  /** Tells every instance, this one included, that these devices have a new session here (a NOTIFY). */
  readonly announce: (deviceIds: readonly string[]) => Promise<void>;
  /** The device's live session on this instance: what identifies it, and how to close it. */
  readonly session: (deviceId: string) => { readonly key: object; close(): void } | undefined;
  readonly log: Logger;
}

/**
 * Takeover across instances (README, "Running several instances"). Aedes
 * closes a device's older session when the device connects again to the same
 * instance; this does the same when it connects to another instance.
 *
 * Every instance announces its new sessions on one PostgreSQL channel, and every
 * instance, the sender included, receives the announcements in one order (commit
 * order). A session here is older than another instance's when its own
 * announcement came back before that instance's: then it is closed. A session
 * whose announcement has not come back yet is the newer one, and is kept: the
 * other instance closes its own when this announcement reaches it. So whichever
 * way a device flaps between instances, its last session survives, and no clock
 * is compared. If an announcement is lost (the database unreachable), the session
 * is never taken over here and ends by its keepalive.
 */
export class SessionTakeover {
  readonly #d: SessionTakeoverDeps;
  /** Sessions whose own announcement came back: any session announced after, elsewhere, replaces them. */
  readonly #announced = new WeakSet<object>();
  /** Sessions accepted, not yet announced, in order. */
  #pending: Array<{ deviceId: string; key: object }> = [];
  /** Sessions announced, per device in sending order, until their announcement comes back. */
  readonly #inFlight = new Map<string, object[]>();
  #timer: NodeJS.Timeout | undefined;
  #failing = false;
  #flushing: Promise<void> | undefined;

  constructor(deps: SessionTakeoverDeps) {
    this.#d = deps;
  }

  /** A device's session (`key`) was accepted here. */
  started(deviceId: string, key: object): void {
    this.#pending.push({ deviceId, key });
    this.#timer ??= setTimeout(() => void this.flush(), ANNOUNCE_EVERY_MS);
  }

  /** Sends the announcements waiting now (also at stop). */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    if (this.#pending.length === 0) return;
    const sessions = this.#pending;
    this.#pending = [];
    for (const { deviceId, key } of sessions) {
      const queue = this.#inFlight.get(deviceId);
      if (queue) queue.push(key);
      else this.#inFlight.set(deviceId, [key]);
    }
    // Announcements are sent one flush after the other, so they come back in the order of `#inFlight`.
    this.#flushing = this.#d.announce(sessions.map((s) => s.deviceId)).then(
      () => {
        if (this.#failing) this.#d.log.info('session announcements sent again');
        this.#failing = false;
      },
      (err: unknown) => {
        // Lost: these sessions will never be known as announced (they end by their keepalive).
        for (const { deviceId, key } of sessions) this.#dropInFlight(deviceId, key);
        // A lost connection is the pool's `database unreachable` line already (src/store/database-reachability.ts).
        if (!this.#failing)
          this.#d.log[isDatabaseUnreachable(err) ? 'debug' : 'warn'](
            { err },
            'session announcements not sent: takeover from other instances off until they are',
          );
        this.#failing = true;
      },
    );
    await this.#flushing;
    this.#flushing = undefined;
  }

  /** Sessions announced by an instance, in the order every instance receives them. */
  announced(instanceId: string, deviceIds: readonly string[]): number {
    let closed = 0;
    for (const deviceId of deviceIds) {
      if (instanceId === this.#d.instanceId) {
        const queue = this.#inFlight.get(deviceId);
        const key = queue?.shift();
        if (queue?.length === 0) this.#inFlight.delete(deviceId);
        if (key) this.#announced.add(key);
        continue;
      }
      const session = this.#d.session(deviceId);
      if (session && this.#announced.has(session.key)) {
        session.close();
        closed++;
      }
    }
    return closed;
  }

  #dropInFlight(deviceId: string, key: object): void {
    const queue = this.#inFlight.get(deviceId);
    if (!queue) return;
    const at = queue.indexOf(key);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0) this.#inFlight.delete(deviceId);
  }

  /** Announcements may have been missed (the listening connection was re-established): none is awaited any more. */
  reset(): void {
    this.#inFlight.clear();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
