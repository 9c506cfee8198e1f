import type { Logger } from './logger.ts';
import { isDatabaseUnreachable } from './store/database.ts';

export interface RoundLoopOptions {
  readonly log: Logger;
  /** One round; true when it was full (there may be more due: the next runs at once). */
  readonly round: () => Promise<boolean>;
  /** The pause after a round that was not full, or that failed. */
  readonly intervalMs: number;
  /** The constant log messages: the first failed round of a kind, and the first round after failures. */
  readonly messages: { readonly failed: string; readonly again: string };
}

/**
 * A background job's rounds, one after the other (the notification delivery and the
 * Mon espace santé push workers): the next round at once after a full one, else after
 * the interval. A failing round is logged once per kind of failure: at debug while
 * the database is unreachable (its pool logs the outage once:
 * src/store/database-reachability.ts), at warn otherwise; the first round that works
 * again says so (at debug after an outage, at info after another error).
 *
 * States: stopped → running (start) → stopping (stop: waits for the round in progress).
 */
export class RoundLoop {
  readonly #o: RoundLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** Why the latest round failed: the database away, or another error. */
  #failing: false | 'unreachable' | 'error' = false;

  constructor(options: RoundLoopOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#loop().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #loop(): Promise<void> {
    let full = false;
    try {
      full = await this.#o.round();
      if (this.#failing) this.#o.log[this.#failing === 'unreachable' ? 'debug' : 'info'](this.#o.messages.again);
      this.#failing = false;
    } catch (err) {
      const kind = isDatabaseUnreachable(err) ? 'unreachable' : 'error';
      if (this.#failing !== kind)
        this.#o.log[kind === 'unreachable' ? 'debug' : 'warn']({ err }, this.#o.messages.failed);
      this.#failing = kind;
    }
    this.#schedule(full ? 0 : this.#o.intervalMs);
  }
}
