import type { Logger } from '../logger.ts';

/**
 * What the batcher queues: something that adds rows to a batch (one per reading
 * or rejection it holds, at least one) and bytes to the queue, that may be
 * cancelled while it waits for room, and that is told its outcome once.
 */
export interface BatchItem<O> {
  readonly readings: ArrayLike<unknown>;
  readonly rejections: ArrayLike<unknown>;
  /** Counted against the queue's byte bound. */
  readonly bytes: number;
  /** Set when nobody waits for it any more: dropped unwritten if it is still waiting for room. */
  cancelled: boolean;
  /** Called once: after the commit that holds it, or with the error that prevents it. */
  done(error: Error | null, outcome?: O): void;
}

/** The outcome an item is told. */
export type OutcomeOf<M> = M extends BatchItem<infer O> ? O : never;

/** Rows an item adds to a batch: one per reading or rejection. */
export function itemRows(m: BatchItem<unknown>): number {
  return Math.max(1, m.readings.length + m.rejections.length);
}

export interface BatcherOptions<M extends BatchItem<unknown>> {
  /** Writes one batch in one transaction; resolves once committed, one outcome per item. */
  readonly write: (items: M[]) => Promise<OutcomeOf<M>[]>;
  readonly isRetryable: (error: unknown) => boolean;
  /** Retryable errors of a database that cannot be reached: the pool logs the outage once, so their retries log at debug. */
  readonly isUnreachable?: (error: unknown) => boolean;
  readonly maxRows: number;
  readonly maxWaitMs: number;
  readonly maxInflight: number;
  readonly queueMaxReadings: number;
  readonly queueMaxBytes: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly log: Logger;
  readonly onCommitted?: (items: M[], outcomes: OutcomeOf<M>[], seconds: number) => void;
  readonly onWriteError?: (error: unknown, retryable: boolean) => void;
  /**
   * For a message that cannot be written for a reason that will not go away (its
   * data): a replacement to write instead, recording it as rejections, so that the
   * device gets its PUBACK rather than resending the message forever.
   */
  readonly quarantine?: (item: M, error: unknown) => M | undefined;
}

export interface QueueDepth {
  /** Readings and rejections admitted and not yet committed (pending + in flight). */
  rows: number;
  bytes: number;
  /** Messages waiting for room in the queue (their devices are held). */
  waiting: number;
}

/**
 * The group-commit batcher: one queue for the readings of every device, flushed
 * as one transaction when it reaches `maxRows` or its oldest message has waited
 * `maxWaitMs`, with at most `maxInflight` flushes at once (one connection each).
 *
 * Trade-off: a few milliseconds of latency per message buys batches of hundreds
 * of rows, which is what PostgreSQL needs to go fast (architecture.md, decision 2).
 *
 * Bounded: admitted rows and bytes have caps. A message that does not fit waits
 * outside the queue with its callback uncalled, so Aedes stops reading that
 * socket and TCP pushes back on the device; nothing is dropped. A write that
 * fails for a retryable reason (the database went away) is retried with capped
 * backoff, holding every callback: no message is acknowledged uncommitted.
 *
 * Generic over what it batches (BatchItem): the ingest path queues its pending
 * messages and hands each batch to the store's sink through `write`.
 *
 * States: accepting → draining (`drain`: everything queued is flushed at once,
 * still accepting) → stopped (`abort`: whatever is still queued is failed,
 * retries end, new items are refused).
 */
export class Batcher<M extends BatchItem<unknown>> {
  readonly #o: BatcherOptions<M>;
  #pending: M[] = [];
  #pendingRows = 0;
  #waiting: M[] = [];
  #admittedRows = 0;
  #admittedBytes = 0;
  #inflight = 0;
  #timer: NodeJS.Timeout | undefined;
  #oldestPendingAt = 0;
  #draining = false;
  #stopped = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: BatcherOptions<M>) {
    this.#o = { retryBaseMs: 50, retryMaxMs: 5_000, ...options };
  }

  get depth(): QueueDepth {
    return { rows: this.#admittedRows, bytes: this.#admittedBytes, waiting: this.#waiting.length };
  }

  submit(message: M): void {
    if (this.#stopped) {
      message.done(new Error('the service is stopping'));
      return;
    }
    if (this.#waiting.length > 0 || !this.#hasRoomFor(message)) {
      this.#waiting.push(message);
      return;
    }
    this.#admit(message);
    this.#schedule();
  }

  /** Flushes everything admitted or waiting, then resolves. Used by the graceful stop. */
  async drain(): Promise<void> {
    this.#draining = true;
    this.#schedule();
    if (this.#isIdle()) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Fails whatever is still queued (after a drain that timed out) and stops retrying. */
  abort(reason: Error): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const m of [...this.#pending, ...this.#waiting]) m.done(reason);
    this.#pending = [];
    this.#waiting = [];
  }

  #hasRoomFor(m: M): boolean {
    // An empty queue takes any message, so one larger than the caps still goes through.
    if (this.#admittedRows === 0) return true;
    return (
      this.#admittedRows + itemRows(m) <= this.#o.queueMaxReadings &&
      this.#admittedBytes + m.bytes <= this.#o.queueMaxBytes
    );
  }

  #admit(m: M): void {
    const rows = itemRows(m);
    if (this.#pending.length === 0) this.#oldestPendingAt = performance.now();
    this.#pending.push(m);
    this.#pendingRows += rows;
    this.#admittedRows += rows;
    this.#admittedBytes += m.bytes;
  }

  #admitWaiting(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0];
      if (next.cancelled) {
        this.#waiting.shift();
        this.#callSafely(() => next.done(new Error('connection closed before the message was queued')));
        continue;
      }
      if (!this.#hasRoomFor(next)) break;
      this.#waiting.shift();
      this.#admit(next);
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    while (this.#inflight < this.#o.maxInflight && this.#pending.length > 0) {
      const due =
        this.#draining ||
        this.#pendingRows >= this.#o.maxRows ||
        performance.now() - this.#oldestPendingAt >= this.#o.maxWaitMs;
      if (!due) break;
      this.#startFlush(this.#takeBatch());
    }
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length > 0 && this.#inflight < this.#o.maxInflight) {
      const wait = Math.max(0, this.#o.maxWaitMs - (performance.now() - this.#oldestPendingAt));
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, wait);
    }
    this.#notifyIfIdle();
  }

  #takeBatch(): M[] {
    let rows = 0;
    let count = 0;
    while (count < this.#pending.length) {
      const r = itemRows(this.#pending[count]);
      if (count > 0 && rows + r > this.#o.maxRows) break;
      rows += r;
      count++;
    }
    const batch = this.#pending.splice(0, count);
    this.#pendingRows -= rows;
    if (this.#pending.length > 0) this.#oldestPendingAt = performance.now();
    return batch;
  }

  #startFlush(batch: M[]): void {
    this.#inflight++;
    void this.#flush(batch).finally(() => {
      this.#inflight--;
      let rows = 0;
      let bytes = 0;
      for (const m of batch) {
        rows += itemRows(m);
        bytes += m.bytes;
      }
      this.#admittedRows -= rows;
      this.#admittedBytes -= bytes;
      this.#admitWaiting();
      this.#schedule();
    });
  }

  /** Writes a batch until it commits; never rejects. */
  async #flush(batch: M[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let outcomes: OutcomeOf<M>[];
      try {
        outcomes = await this.#o.write(batch);
      } catch (error) {
        const retryable = this.#o.isRetryable(error);
        this.#o.onWriteError?.(error, retryable);
        if (this.#stopped) {
          for (const m of batch) {
            this.#callSafely(() => m.done(new Error('the service stopped before the batch committed')));
          }
          return;
        }
        if (!retryable) {
          if (batch.length > 1) {
            // Find the message that cannot be written: write each on its own.
            this.#o.log.error({ err: error, messages: batch.length }, 'batch failed, writing its messages one by one');
            for (const m of batch) await this.#flush([m]);
            return;
          }
          const replacement = batch[0].readings.length > 0 ? this.#o.quarantine?.(batch[0], error) : undefined;
          if (replacement) {
            this.#o.log.error({ err: error }, 'message cannot be stored, recording its readings as rejections');
            await this.#flush([replacement]);
            return;
          }
          this.#o.log.error({ err: error }, 'message cannot be stored, not acknowledged');
          this.#callSafely(() => batch[0].done(error instanceof Error ? error : new Error(String(error))));
          return;
        }
        const delay = Math.min(this.#o.retryMaxMs!, this.#o.retryBaseMs! * 2 ** Math.min(attempt, 16));
        const jittered = delay / 2 + Math.random() * (delay / 2);
        this.#o.log[this.#o.isUnreachable?.(error) ? 'debug' : 'warn'](
          { err: error, attempt: attempt + 1, retryInMs: Math.round(jittered) },
          'batch write failed, retrying',
        );
        await new Promise((r) => setTimeout(r, jittered));
        continue;
      }
      // Committed. Outside the try: a throwing callback must not count as a failed
      // write (that would rewrite the batch and call `done` twice) nor reject here.
      const seconds = (performance.now() - started) / 1000;
      this.#callSafely(() => this.#o.onCommitted?.(batch, outcomes, seconds));
      for (let i = 0; i < batch.length; i++) this.#callSafely(() => batch[i].done(null, outcomes[i]));
      return;
    }
  }

  #callSafely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#o.log.error({ err }, 'a batch callback threw');
    }
  }

  #isIdle(): boolean {
    return this.#pending.length === 0 && this.#waiting.length === 0 && this.#inflight === 0;
  }

  #notifyIfIdle(): void {
    if (this.#idleWaiters.length > 0 && this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
