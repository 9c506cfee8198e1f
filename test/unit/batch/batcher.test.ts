import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type BatcherOptions } from '../../../src/batch/batcher.ts';
import type { PendingMessage } from '../../../src/ingest/pending-message.ts';
import type { MessageOutcome } from '../../../src/store/reading-sink.ts';
import type { Rejection } from '../../../src/domain/reading.ts';
import { createLogger } from '../../../src/logger.ts';

const log = createLogger('silent');

/** A message of the test: a PendingMessage whose `done` records every call. */
interface TestMessage extends PendingMessage {
  readonly id: string;
  readonly calls: { error: Error | null; outcome: MessageOutcome | undefined; committedBefore: boolean }[];
}

class RetryableError extends Error {
  readonly retryable = true;
}

/**
 * The batcher's `write`: an in-memory store whose commits the test finishes
 * (or fails) by hand, one deferred promise per write call.
 */
class DeferredStore {
  readonly calls: {
    batch: TestMessage[];
    commit: () => void;
    fail: (error: Error) => void;
    settled: boolean;
  }[] = [];
  /** Ids of messages whose write committed. */
  readonly committed = new Set<string>();
  readonly commitOrder: string[] = [];
  inflight = 0;
  maxConcurrent = 0;

  readonly write = (messages: PendingMessage[]): Promise<MessageOutcome[]> => {
    const batch = messages as TestMessage[];
    this.inflight++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inflight);
    return new Promise<MessageOutcome[]>((resolve, reject) => {
      const call = {
        batch: [...batch],
        settled: false,
        commit: () => {
          if (call.settled) throw new Error('write already settled');
          call.settled = true;
          this.inflight--;
          for (const m of batch) {
            this.committed.add(m.id);
            this.commitOrder.push(m.id);
          }
          resolve(batch.map(outcomeFor));
        },
        fail: (error: Error) => {
          if (call.settled) throw new Error('write already settled');
          call.settled = true;
          this.inflight--;
          reject(error);
        },
      };
      this.calls.push(call);
    });
  };

  /** Ids of each write call's batch, in call order. */
  batches(): string[][] {
    return this.calls.map((c) => c.batch.map((m) => m.id));
  }

  open() {
    return this.calls.filter((c) => !c.settled);
  }

  /** Commits every write as it comes until `until` is true. */
  async commitAllUntil(until: () => boolean): Promise<void> {
    await vi.waitFor(
      () => {
        for (const c of this.open()) c.commit();
        if (!until()) throw new Error('not yet');
      },
      { timeout: 5_000, interval: 2 },
    );
  }
}

/** A store that commits on its own, after a macrotask, unless `fails` says otherwise. */
class AutoStore {
  readonly calls: string[][] = [];
  readonly committed = new Set<string>();
  readonly fails: (batch: TestMessage[], attempt: number) => Error | undefined;
  constructor(fails: (batch: TestMessage[], attempt: number) => Error | undefined = () => undefined) {
    this.fails = fails;
  }

  readonly write = async (messages: PendingMessage[]): Promise<MessageOutcome[]> => {
    const batch = messages as TestMessage[];
    const attempt = this.calls.length;
    this.calls.push(batch.map((m) => m.id));
    await new Promise((r) => setTimeout(r, 1));
    const error = this.fails(batch, attempt);
    if (error) throw error;
    for (const m of batch) this.committed.add(m.id);
    return batch.map(outcomeFor);
  };
}

let storeForDone: { committed: Set<string> } | undefined;

/** The outcome the stores report for a message: distinct per message, so a mix-up shows. */
function outcomeFor(m: PendingMessage): MessageOutcome {
  return { stored: messageRowsOf(m), duplicates: m.bytes, rejections: [] };
}

function messageRowsOf(m: PendingMessage): number {
  return m.readings.length + m.rejections.length;
}

function rejection(i: number): Rejection {
  return { readingId: `r${i}`, reason: 'invalid_reading', detail: 'test', raw: Buffer.from('{}') };
}

function message(id: string, rows = 1, bytes = 10): TestMessage {
  const calls: TestMessage['calls'] = [];
  return {
    id,
    deviceId: `device-${id}`,
    receivedAt: Date.now(),
    readings: [],
    rejections: Array.from({ length: rows }, (_, i) => rejection(i)),
    bytes,
    cancelled: false,
    calls,
    done: (error, outcome) => {
      calls.push({ error, outcome, committedBefore: storeForDone?.committed.has(id) ?? false });
    },
  };
}

const batchers: Batcher<PendingMessage>[] = [];

function createBatcher(
  store: { write: BatcherOptions<PendingMessage>['write']; committed: Set<string> },
  options: Partial<BatcherOptions<PendingMessage>> = {},
): Batcher<PendingMessage> {
  storeForDone = store;
  const b = new Batcher({
    write: store.write,
    isRetryable: (e) => e instanceof RetryableError,
    maxRows: 100,
    maxWaitMs: 60_000,
    maxInflight: 1,
    queueMaxReadings: 10_000,
    queueMaxBytes: 10_000_000,
    retryBaseMs: 1,
    retryMaxMs: 4,
    log,
    ...options,
  });
  batchers.push(b);
  return b;
}

/** Lets settled promises run their continuations (a macrotask turn). */
function tick(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

afterEach(() => {
  for (const b of batchers.splice(0)) b.abort(new Error('test over'));
  storeForDone = undefined;
});

describe('Batcher: when a batch is flushed', () => {
  it('flushes as soon as pending rows reach maxRows, without waiting for maxWaitMs', () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 3, maxWaitMs: 60_000 });
    b.submit(message('a'));
    b.submit(message('b'));
    expect(store.calls).toHaveLength(0);
    b.submit(message('c'));
    expect(store.batches()).toEqual([['a', 'b', 'c']]);
  });

  it('does not flush below maxRows before maxWaitMs has passed', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 10, maxWaitMs: 60_000 });
    b.submit(message('a'));
    await tick(50);
    expect(store.calls).toHaveLength(0);
    expect(b.depth).toEqual({ rows: 1, bytes: 10, waiting: 0 });
  });

  it('flushes after maxWaitMs when below maxRows (real timers)', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 10, maxWaitMs: 5 });
    b.submit(message('a'));
    b.submit(message('b'));
    expect(store.calls).toHaveLength(0);
    await vi.waitFor(() => expect(store.calls).toHaveLength(1), { timeout: 2_000, interval: 2 });
    expect(store.batches()).toEqual([['a', 'b']]);
  });

  it('flushes after maxWaitMs when below maxRows (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const store = new DeferredStore();
      const b = createBatcher(store, { maxRows: 10, maxWaitMs: 100 });
      b.submit(message('a'));
      vi.advanceTimersByTime(99);
      expect(store.calls).toHaveLength(0);
      vi.advanceTimersByTime(2);
      expect(store.batches()).toEqual([['a']]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never splits a message and takes at most maxRows rows unless one message is bigger', () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 5, maxInflight: 10 });
    b.submit(message('a', 2));
    b.submit(message('b', 2));
    b.submit(message('c', 2)); // 6 pending rows: a+b (4) go, c would make 6
    expect(store.batches()).toEqual([['a', 'b']]);
    b.submit(message('d', 3)); // c+d = 5
    expect(store.batches()).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    b.submit(message('e', 1));
    b.submit(message('big', 8)); // e alone (1 + 8 > 5), then big alone though over maxRows
    expect(store.batches()).toEqual([['a', 'b'], ['c', 'd'], ['e'], ['big']]);
    for (const call of store.calls) {
      const rows = call.batch.reduce((n, m) => n + messageRowsOf(m), 0);
      expect(rows <= 5 || call.batch.length === 1).toBe(true);
    }
  });

  it('runs at most maxInflight writes at once and starts the next when one commits', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 1, maxInflight: 2 });
    const messages = ['a', 'b', 'c', 'd', 'e'].map((id) => message(id));
    for (const m of messages) b.submit(m);
    expect(store.batches()).toEqual([['a'], ['b']]);
    store.calls[1].commit();
    await tick();
    expect(store.batches()).toEqual([['a'], ['b'], ['c']]);
    expect(store.inflight).toBe(2);
    await store.commitAllUntil(() => messages.every((m) => m.calls.length === 1));
    expect(store.maxConcurrent).toBe(2);
    expect(store.batches()).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
  });
});

describe('Batcher: acknowledgement', () => {
  it('calls done only after the write holding the message resolved, with that message’s outcome', async () => {
    const onCommitted = vi.fn();
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 3, onCommitted });
    const a = message('a', 1, 11);
    const c = message('c', 2, 22);
    b.submit(a);
    b.submit(c);
    expect(store.calls).toHaveLength(1);
    await tick(10);
    expect(a.calls).toHaveLength(0);
    expect(c.calls).toHaveLength(0);
    expect(onCommitted).not.toHaveBeenCalled();
    expect(b.depth).toEqual({ rows: 3, bytes: 33, waiting: 0 });

    store.calls[0].commit();
    await tick();
    expect(a.calls).toEqual([
      { error: null, outcome: { stored: 1, duplicates: 11, rejections: [] }, committedBefore: true },
    ]);
    expect(c.calls).toEqual([
      { error: null, outcome: { stored: 2, duplicates: 22, rejections: [] }, committedBefore: true },
    ]);
    expect(onCommitted).toHaveBeenCalledTimes(1);
    const [batch, outcomes, seconds] = onCommitted.mock.calls[0];
    expect(batch).toEqual([a, c]);
    expect(outcomes).toEqual([outcomeFor(a), outcomeFor(c)]);
    expect(typeof seconds).toBe('number');
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(b.depth).toEqual({ rows: 0, bytes: 0, waiting: 0 });
  });

  it('calls each done exactly once', async () => {
    const store = new AutoStore();
    const b = createBatcher(store, { maxRows: 2, maxInflight: 2, maxWaitMs: 1 });
    const messages = Array.from({ length: 9 }, (_, i) => message(`m${i}`));
    for (const m of messages) b.submit(m);
    await b.drain();
    await tick(10);
    for (const m of messages) expect(m.calls).toEqual([{ error: null, outcome: outcomeFor(m), committedBefore: true }]);
  });
});

describe('Batcher: backpressure', () => {
  it('holds messages over queueMaxReadings outside the queue and admits them in FIFO order', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 100, maxWaitMs: 0, maxInflight: 1, queueMaxReadings: 5 });
    const m1 = message('m1', 1);
    const m2 = message('m2', 3);
    const m3 = message('m3', 2);
    const m4 = message('m4', 1); // would fit on its own, but m3 waits ahead of it
    b.submit(m1); // flushed at once (maxWaitMs 0)
    b.submit(m2); // admitted, pending behind the write in flight
    expect(b.depth).toEqual({ rows: 4, bytes: 20, waiting: 0 });
    b.submit(m3);
    b.submit(m4);
    expect(b.depth).toEqual({ rows: 4, bytes: 20, waiting: 2 });
    expect(store.batches()).toEqual([['m1']]);
    await tick(20);
    expect(m3.calls).toHaveLength(0);
    expect(m4.calls).toHaveLength(0);
    expect(b.depth.waiting).toBe(2);

    store.calls[0].commit(); // frees 1 row: m3 (2 rows) fits, m4 does not yet
    await vi.waitFor(() => expect(store.calls).toHaveLength(2));
    expect(store.batches()).toEqual([['m1'], ['m2', 'm3']]);
    expect(b.depth).toEqual({ rows: 5, bytes: 20, waiting: 1 });
    expect(m4.calls).toHaveLength(0);

    store.calls[1].commit();
    await vi.waitFor(() => expect(store.calls).toHaveLength(3));
    expect(store.batches()).toEqual([['m1'], ['m2', 'm3'], ['m4']]);
    expect(b.depth.waiting).toBe(0);
    store.calls[2].commit();
    await tick();
    expect(store.commitOrder).toEqual(['m1', 'm2', 'm3', 'm4']);
    for (const m of [m1, m2, m3, m4]) {
      expect(m.calls).toEqual([{ error: null, outcome: outcomeFor(m), committedBefore: true }]);
    }
    expect(b.depth).toEqual({ rows: 0, bytes: 0, waiting: 0 });
  });

  it('holds messages over queueMaxBytes', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 1, queueMaxBytes: 100 });
    const big1 = message('big1', 1, 60);
    const big2 = message('big2', 1, 50);
    b.submit(big1);
    b.submit(big2);
    expect(b.depth).toEqual({ rows: 1, bytes: 60, waiting: 1 });
    expect(store.batches()).toEqual([['big1']]);
    store.calls[0].commit();
    await vi.waitFor(() => expect(store.calls).toHaveLength(2));
    expect(store.batches()).toEqual([['big1'], ['big2']]);
    expect(b.depth).toEqual({ rows: 1, bytes: 50, waiting: 0 });
    expect(big2.calls).toHaveLength(0);
    store.calls[1].commit();
    await tick();
    expect(big2.calls).toEqual([{ error: null, outcome: outcomeFor(big2), committedBefore: true }]);
  });

  it('admits a message larger than the caps when the queue is empty', () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 10, queueMaxReadings: 2, queueMaxBytes: 5 });
    b.submit(message('huge', 20, 1_000));
    expect(store.batches()).toEqual([['huge']]);
    expect(b.depth).toEqual({ rows: 20, bytes: 1_000, waiting: 0 });
  });

  it('drops a waiting message cancelled before admission with an error, and never writes it', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 1, queueMaxReadings: 1 });
    const m1 = message('m1');
    const gone = message('gone');
    const m3 = message('m3');
    b.submit(m1);
    b.submit(gone);
    b.submit(m3);
    expect(b.depth.waiting).toBe(2);
    gone.cancelled = true;
    store.calls[0].commit();
    await vi.waitFor(() => expect(store.calls).toHaveLength(2));
    expect(gone.calls).toHaveLength(1);
    expect(gone.calls[0].error).toBeInstanceOf(Error);
    expect(gone.calls[0].outcome).toBeUndefined();
    expect(store.batches()).toEqual([['m1'], ['m3']]);
    store.calls[1].commit();
    await b.drain();
    expect(store.batches().flat()).not.toContain('gone');
    expect(store.committed.has('gone')).toBe(false);
    expect(gone.calls).toHaveLength(1);
    expect(m3.calls).toEqual([{ error: null, outcome: outcomeFor(m3), committedBefore: true }]);
  });
});

describe('Batcher: write errors', () => {
  it('retries a retryable error with backoff and calls done only once a later attempt succeeds', async () => {
    const onWriteError = vi.fn();
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 2, onWriteError });
    const a = message('a');
    const c = message('c');
    b.submit(a);
    b.submit(c);
    const down = new RetryableError('connection terminated');
    store.calls[0].fail(down);
    await vi.waitFor(() => expect(store.calls).toHaveLength(2), { timeout: 2_000, interval: 2 });
    expect(a.calls).toHaveLength(0);
    expect(c.calls).toHaveLength(0);
    expect(onWriteError).toHaveBeenCalledWith(down, true);
    store.calls[1].fail(down);
    await vi.waitFor(() => expect(store.calls).toHaveLength(3), { timeout: 2_000, interval: 2 });
    expect(a.calls).toHaveLength(0);
    expect(onWriteError).toHaveBeenCalledTimes(2);
    expect(b.depth.rows).toBe(2);
    // Every attempt writes the same batch.
    expect(store.batches()).toEqual([
      ['a', 'c'],
      ['a', 'c'],
      ['a', 'c'],
    ]);
    store.calls[2].commit();
    await tick();
    expect(a.calls).toEqual([{ error: null, outcome: outcomeFor(a), committedBefore: true }]);
    expect(c.calls).toEqual([{ error: null, outcome: outcomeFor(c), committedBefore: true }]);
    expect(b.depth.rows).toBe(0);
  });

  it('keeps holding messages through many retryable failures: nothing is acknowledged uncommitted', async () => {
    const store = new AutoStore((_batch, attempt) => (attempt < 6 ? new RetryableError('db down') : undefined));
    const b = createBatcher(store, { maxRows: 3, maxInflight: 1, retryBaseMs: 1, retryMaxMs: 3 });
    const messages = ['a', 'b', 'c'].map((id) => message(id));
    for (const m of messages) b.submit(m);
    await vi.waitFor(() => expect(store.calls.length).toBeGreaterThanOrEqual(3), { timeout: 2_000, interval: 1 });
    for (const m of messages) expect(m.calls).toHaveLength(0);
    await b.drain();
    expect(store.calls).toHaveLength(7);
    for (const m of messages) {
      expect(m.calls).toEqual([{ error: null, outcome: outcomeFor(m), committedBefore: true }]);
    }
  });

  it('on a non-retryable error writes each message alone: only the poisoned one fails', async () => {
    const onWriteError = vi.fn();
    const poison = new Error('value out of range for type');
    const store = new AutoStore((batch) => (batch.some((m) => m.id === 'poison') ? poison : undefined));
    const b = createBatcher(store, { maxRows: 4, onWriteError });
    const ok1 = message('ok1');
    const ok2 = message('ok2');
    const bad = message('poison');
    const ok3 = message('ok3');
    for (const m of [ok1, ok2, bad, ok3]) b.submit(m);
    await b.drain();
    expect(store.calls).toEqual([['ok1', 'ok2', 'poison', 'ok3'], ['ok1'], ['ok2'], ['poison'], ['ok3']]);
    for (const m of [ok1, ok2, ok3]) {
      expect(m.calls).toEqual([{ error: null, outcome: outcomeFor(m), committedBefore: true }]);
    }
    expect(bad.calls).toHaveLength(1);
    expect(bad.calls[0].error).toBe(poison);
    expect(bad.calls[0].outcome).toBeUndefined();
    expect(onWriteError.mock.calls).toEqual([
      [poison, false],
      [poison, false],
    ]);
    expect(b.depth).toEqual({ rows: 0, bytes: 0, waiting: 0 });
  });

  it('retries a retryable error met while writing messages one by one', async () => {
    let flaky = true;
    const poison = new Error('invalid input syntax');
    const store = new AutoStore((batch) => {
      if (batch.length > 1) return poison;
      if (batch[0].id === 'ok' && flaky) {
        flaky = false;
        return new RetryableError('connection reset');
      }
      return batch[0].id === 'poison' ? poison : undefined;
    });
    const b = createBatcher(store, { maxRows: 2 });
    const ok = message('ok');
    const bad = message('poison');
    b.submit(ok);
    b.submit(bad);
    await b.drain();
    expect(store.calls).toEqual([['ok', 'poison'], ['ok'], ['ok'], ['poison']]);
    expect(ok.calls).toEqual([{ error: null, outcome: outcomeFor(ok), committedBefore: true }]);
    expect(bad.calls.map((c) => c.error)).toEqual([poison]);
  });

  it('wraps a non-Error rejection in an Error for done', async () => {
    const store = new AutoStore(() => 'boom' as unknown as Error);
    const b = createBatcher(store, { maxRows: 1 });
    const m = message('m');
    b.submit(m);
    await b.drain();
    expect(m.calls).toHaveLength(1);
    expect(m.calls[0].error).toBeInstanceOf(Error);
    expect(m.calls[0].error?.message).toContain('boom');
  });

  it('does not rewrite a committed batch nor call done twice when a done callback throws', async () => {
    const store = new AutoStore();
    const b = createBatcher(store, { maxRows: 3 });
    const a = message('a');
    const throwing = message('throwing');
    const c = message('c');
    const originalDone = throwing.done;
    (throwing as { done: PendingMessage['done'] }).done = (error, outcome) => {
      originalDone(error, outcome);
      throw new Error('callback bug');
    };
    for (const m of [a, throwing, c]) b.submit(m);
    await b.drain();
    await tick(10);
    expect(store.calls).toEqual([['a', 'throwing', 'c']]);
    for (const m of [a, throwing, c]) {
      expect(m.calls).toEqual([{ error: null, outcome: outcomeFor(m), committedBefore: true }]);
    }
  });
});

describe('Batcher: drain and abort', () => {
  it('drain resolves at once when idle', async () => {
    const b = createBatcher(new DeferredStore());
    await expect(b.drain()).resolves.toBeUndefined();
  });

  it('drain flushes what is pending and waiting, and resolves only once all is written', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 2, maxWaitMs: 60_000, maxInflight: 1, queueMaxReadings: 3 });
    const messages = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => message(id));
    for (const m of messages) b.submit(m);
    expect(store.batches()).toEqual([['a', 'b']]);
    expect(b.depth).toEqual({ rows: 3, bytes: 30, waiting: 3 });
    let drained = false;
    const drain = b.drain().then(() => {
      drained = true;
    });
    await tick(20);
    expect(drained).toBe(false);
    await store.commitAllUntil(() => drained);
    await drain;
    expect(store.commitOrder).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    for (const m of messages) {
      expect(m.calls).toEqual([{ error: null, outcome: outcomeFor(m), committedBefore: true }]);
    }
    expect(b.depth).toEqual({ rows: 0, bytes: 0, waiting: 0 });
  });

  it('drain flushes a message below maxRows without waiting for maxWaitMs', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 100, maxWaitMs: 60_000 });
    b.submit(message('a'));
    const drain = b.drain();
    expect(store.batches()).toEqual([['a']]);
    store.calls[0].commit();
    await drain;
  });

  it('abort fails what is pending and waiting, and it is never written', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 1, maxInflight: 1, queueMaxReadings: 2 });
    const inflight = message('inflight');
    const pending = message('pending');
    const waiting = message('waiting');
    b.submit(inflight);
    b.submit(pending);
    b.submit(waiting);
    expect(b.depth).toEqual({ rows: 2, bytes: 20, waiting: 1 });
    const reason = new Error('stopping');
    b.abort(reason);
    expect(pending.calls).toEqual([{ error: reason, outcome: undefined, committedBefore: false }]);
    expect(waiting.calls).toEqual([{ error: reason, outcome: undefined, committedBefore: false }]);
    expect(inflight.calls).toHaveLength(0);
    // The write in flight still commits: its message is acknowledged as stored.
    store.calls[0].commit();
    await tick(20);
    expect(inflight.calls).toEqual([{ error: null, outcome: outcomeFor(inflight), committedBefore: true }]);
    expect(store.batches()).toEqual([['inflight']]);
  });

  it('abort fails a batch in flight whose write then fails, without retrying it', async () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 1 });
    const m = message('m');
    b.submit(m);
    b.abort(new Error('stopping'));
    store.calls[0].fail(new RetryableError('pool ended'));
    await tick(30);
    expect(store.calls).toHaveLength(1);
    expect(m.calls).toHaveLength(1);
    expect(m.calls[0].error).toBeInstanceOf(Error);
  });

  it('submit after abort fails immediately', () => {
    const store = new DeferredStore();
    const b = createBatcher(store, { maxRows: 1 });
    b.abort(new Error('stopping'));
    const m = message('late');
    b.submit(m);
    expect(m.calls).toHaveLength(1);
    expect(m.calls[0].error).toBeInstanceOf(Error);
    expect(store.calls).toHaveLength(0);
  });
});

describe('quarantine of a message whose data cannot be stored', () => {
  const reading = (id: string) =>
    ({ readingId: id, source: { id }, measuredAt: 0 }) as unknown as PendingMessage['readings'][number];

  it('writes the replacement instead and acknowledges the original with its outcome', async () => {
    const written: PendingMessage[][] = [];
    const done: { error: Error | null; outcome?: MessageOutcome }[] = [];
    const dataError = Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    const batcher = new Batcher<PendingMessage>({
      write: async (messages) => {
        written.push(messages);
        if (messages.some((m) => m.readings.length > 0)) throw dataError;
        return messages.map((m) => ({ stored: 0, duplicates: 0, rejections: m.rejections }));
      },
      isRetryable: () => false,
      maxRows: 10,
      maxWaitMs: 0,
      maxInflight: 1,
      queueMaxReadings: 100,
      queueMaxBytes: 1_000_000,
      log,
      quarantine: (m, error) => {
        expect(error).toBe(dataError);
        const rejections: Rejection[] = m.readings.map((r) => ({
          readingId: r.readingId,
          reason: 'invalid_reading',
          detail: 'quarantined',
          raw: Buffer.from('{}'),
        }));
        return { ...m, readings: [], rejections };
      },
    });
    batcher.submit({
      deviceId: 'd',
      receivedAt: 0,
      readings: [reading('a'), reading('b')],
      rejections: [],
      bytes: 10,
      cancelled: false,
      done: (error, outcome) => done.push({ error, outcome }),
    });
    await batcher.drain();
    expect(done).toHaveLength(1);
    expect(done[0].error).toBeNull();
    expect(done[0].outcome?.rejections.map((r) => [r.readingId, r.reason])).toEqual([
      ['a', 'invalid_reading'],
      ['b', 'invalid_reading'],
    ]);
    expect(written.map((batch) => batch.map((m) => m.readings.length))).toEqual([[2], [0]]);
  });

  it('fails the message when there is no replacement', async () => {
    const done: (Error | null)[] = [];
    const batcher = new Batcher<PendingMessage>({
      write: async () => {
        throw Object.assign(new Error('constraint'), { code: '23514' });
      },
      isRetryable: () => false,
      maxRows: 10,
      maxWaitMs: 0,
      maxInflight: 1,
      queueMaxReadings: 100,
      queueMaxBytes: 1_000_000,
      log,
      quarantine: () => undefined,
    });
    batcher.submit({
      deviceId: 'd',
      receivedAt: 0,
      readings: [reading('a')],
      rejections: [],
      bytes: 10,
      cancelled: false,
      done: (error) => done.push(error),
    });
    await batcher.drain();
    expect(done).toHaveLength(1);
    expect(done[0]?.message).toBe('constraint');
  });
});
