import type { Logger } from '../logger.ts';

/**
 * Whether a pool's database answers, as its connections see it. States: `up`
 * (from the start: the service only starts once a query answered) and `down`.
 * A connection lost or refused (src/store/database.ts, isDatabaseUnreachable)
 * takes it down; the next connection made or query answered brings it back up.
 *
 * Each change is one log line (`database unreachable`, `database reachable again`
 * with how long and how many failures), and listeners are told (the gauge
 * vitalink_database_up). During an outage every job and every batch retry meets
 * the same error each second: they log it at debug only, so that an outage of an
 * hour is two lines at info, not thousands of stack traces. The trade-off: the
 * cause is the first error's code and message, later ones are only counted.
 */
export class DatabaseReachability {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #listeners: Array<(up: boolean) => void> = [];
  #down: { since: number; failures: number } | undefined;
  #epoch = 0;

  constructor(log: Logger, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  get up(): boolean {
    return this.#down === undefined;
  }

  /**
   * How many times the database came back. A connection made before the last
   * return (`lost(error, itsEpoch)`) is a stale one from before the outage: its
   * failure afterwards says nothing of the database now, and is not counted.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** `listener(up)` on every change from now on. */
  onChange(listener: (up: boolean) => void): void {
    this.#listeners.push(listener);
  }

  /** A connection was lost or could not be made; `epoch`: the epoch the connection was made in, when known. */
  lost(error: unknown, epoch?: number): void {
    if (epoch !== undefined && epoch < this.#epoch && !this.#down) return;
    if (this.#down) {
      this.#down.failures++;
      return;
    }
    this.#down = { since: this.#now(), failures: 1 };
    const e = error as { code?: unknown; message?: unknown } | undefined;
    this.#log.warn(
      {
        code: typeof e?.code === 'string' ? e.code : undefined,
        reason: typeof e?.message === 'string' ? e.message : String(error),
      },
      'database unreachable',
    );
    for (const listener of this.#listeners) listener(false);
  }

  /** A connection was made, or a query answered. */
  reached(): void {
    const down = this.#down;
    if (!down) return;
    this.#down = undefined;
    this.#epoch++;
    this.#log.info({ downMs: this.#now() - down.since, failures: down.failures }, 'database reachable again');
    for (const listener of this.#listeners) listener(true);
  }
}
