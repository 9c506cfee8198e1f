import { describe, expect, it } from 'vitest';
import { AckQueue, type AckTicket } from '../../../src/broker/ordered-acks.ts';

/** Enqueues `n` tickets whose callbacks record `[index, error]` in `log`. */
function enqueueMany(q: AckQueue, n: number, log: [number, Error | null | undefined][], start = 0): AckTicket[] {
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return q.enqueue((error) => log.push([i, error]), 1_000 + i);
  });
}

describe('AckQueue', () => {
  it('calls the callbacks in enqueue order whatever the settle order', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    const [t0, t1, t2, t3] = enqueueMany(q, 4, log);
    q.settle(t2, null);
    q.settle(t1, null);
    expect(log).toEqual([]);
    q.settle(t3, null);
    expect(log).toEqual([]);
    q.settle(t0, null);
    expect(log.map(([i]) => i)).toEqual([0, 1, 2, 3]);
    expect(q.size).toBe(0);
  });

  it('releases the head at once, and what follows as soon as it is settled', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    const [t0, t1, t2] = enqueueMany(q, 3, log);
    q.settle(t0, null);
    expect(log.map(([i]) => i)).toEqual([0]);
    q.settle(t2, null);
    expect(log.map(([i]) => i)).toEqual([0]);
    q.settle(t1, null);
    expect(log.map(([i]) => i)).toEqual([0, 1, 2]);
  });

  it('passes each error to its own callback', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    const [t0, t1, t2] = enqueueMany(q, 3, log);
    const e1 = new Error('not stored 1');
    const e2 = new Error('not stored 2');
    q.settle(t2, e2);
    q.settle(t1, e1);
    q.settle(t0, null);
    expect(log).toEqual([
      [0, null],
      [1, e1],
      [2, e2],
    ]);
    expect(log[1][1]).toBe(e1);
    expect(log[2][1]).toBe(e2);
  });

  it('reports size and the arrival of the oldest unacknowledged ticket', () => {
    const q = new AckQueue();
    expect(q.size).toBe(0);
    expect(q.oldestArrival).toBeUndefined();
    const t0 = q.enqueue(() => {}, 10);
    const t1 = q.enqueue(() => {}, 20);
    const t2 = q.enqueue(() => {}, 30);
    expect(q.size).toBe(3);
    expect(q.oldestArrival).toBe(10);
    q.settle(t1, null); // not the head: nothing released
    expect(q.size).toBe(3);
    expect(q.oldestArrival).toBe(10);
    q.settle(t0, null); // releases t0 and t1
    expect(q.size).toBe(1);
    expect(q.oldestArrival).toBe(30);
    q.settle(t2, null);
    expect(q.size).toBe(0);
    expect(q.oldestArrival).toBeUndefined();
  });

  it('close() calls onAbandon for tickets not released and no callback afterwards', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    const tickets = enqueueMany(q, 4, log);
    const abandoned: number[] = [];
    tickets.forEach((t, i) => {
      t.onAbandon = () => abandoned.push(i);
    });
    q.settle(tickets[0], null); // released before the close
    q.settle(tickets[2], null); // settled, but held behind ticket 1
    expect(log.map(([i]) => i)).toEqual([0]);
    q.close();
    expect(abandoned).toContain(1);
    expect(abandoned).toContain(3);
    expect(abandoned).not.toContain(0);
    expect(q.size).toBe(0);
    expect(q.oldestArrival).toBeUndefined();
    q.settle(tickets[1], null);
    q.settle(tickets[3], new Error('late'));
    expect(log.map(([i]) => i)).toEqual([0]);
    q.close(); // a second close does nothing
    expect(abandoned.filter((i) => i === 1)).toHaveLength(1);
  });

  it('close() tolerates tickets without onAbandon', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    enqueueMany(q, 2, log);
    expect(() => q.close()).not.toThrow();
    expect(log).toEqual([]);
  });

  it('keeps the order over many tickets (compaction after more than 1024 settled)', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    const n = 5_000;
    const tickets = enqueueMany(q, n, log);
    // Settle in an order that releases in bursts: every block of 100 back to front.
    for (let block = 0; block < n; block += 100) {
      for (let i = Math.min(block + 99, n - 1); i >= block; i--) {
        q.settle(tickets[i], i % 7 === 0 ? new Error(`e${i}`) : null);
      }
      expect(q.size).toBe(n - Math.min(block + 100, n));
      expect(q.oldestArrival).toBe(block + 100 < n ? 1_000 + block + 100 : undefined);
    }
    expect(log.map(([i]) => i)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const [i, error] of log) {
      if (i % 7 === 0) expect(error?.message).toBe(`e${i}`);
      else expect(error).toBeNull();
    }
  });

  it('keeps working when enqueuing and settling interleave across compactions', () => {
    const q = new AckQueue();
    const log: [number, Error | null | undefined][] = [];
    let next = 0;
    const open: AckTicket[] = [];
    for (let round = 0; round < 30; round++) {
      open.push(...enqueueMany(q, 200, log, next));
      next += 200;
      // Settle the newest half first, then the oldest: releases everything but the last 20.
      const keep = open.splice(open.length - 20, 20);
      const half = Math.floor(open.length / 2);
      for (const t of open.slice(half)) q.settle(t, null);
      for (const t of open.slice(0, half)) q.settle(t, null);
      open.length = 0;
      open.push(...keep);
      expect(q.size).toBe(20);
      expect(q.oldestArrival).toBe(keep[0].arrivedAt);
    }
    for (const t of open.reverse()) q.settle(t, null);
    expect(q.size).toBe(0);
    expect(log.map(([i]) => i)).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});
