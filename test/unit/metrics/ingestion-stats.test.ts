import { describe, expect, it } from 'vitest';
import { IngestionStats, percentiles } from '../../../src/metrics/ingestion-stats.ts';

describe('IngestionStats', () => {
  it('averages stored readings over complete seconds and forgets what is older than 15 minutes', () => {
    let now = 1_000_000_000_000;
    const stats = new IngestionStats(() => now);
    stats.recordStored(100);
    now += 1000;
    stats.recordStored(50);
    now += 1000;
    expect(stats.rate(1)).toBe(50);
    expect(stats.rate(2)).toBe(75);
    expect(stats.rate(60)).toBeCloseTo(150 / 60, 10);
    now += 899 * 1000;
    expect(stats.rate(900)).toBeCloseTo(50 / 900, 10);
    now += 1000;
    expect(stats.rate(900)).toBe(0);
    // A long silence clears every slot.
    stats.recordStored(10);
    now += 3_600_000;
    expect(stats.rate(900)).toBe(0);
  });

  it('gives the last complete seconds one by one, oldest first, with the start of the first', () => {
    let now = 1_000_000_000_000; // a whole second
    const stats = new IngestionStats(() => now);
    stats.recordStored(7);
    now += 1000;
    stats.recordStored(3);
    stats.recordStored(2);
    now += 1500; // into the third second, which is not complete
    stats.recordStored(100);
    expect(stats.recent(3)).toEqual({ from: 1_000_000_000_000 - 1000, perSecond: [0, 7, 5] });
    expect(stats.snapshot().recent.perSecond).toHaveLength(IngestionStats.RECENT_SECONDS);
    expect(stats.snapshot().recent.perSecond.slice(-2)).toEqual([7, 5]);
    expect(() => stats.recent(0)).toThrow(RangeError);
  });

  it('reports latency percentiles over the last minute and the last five, within 7.5 %, the max exact', () => {
    let now = 1_000_000_000_000;
    const stats = new IngestionStats(() => now);
    for (let i = 1; i <= 100; i++) stats.recordAck(i / 1000);
    const five = stats.snapshot().ackLatencyMs;
    expect(five.samples).toBe(100);
    expect(five.max).toBe(100);
    for (const [p, exact] of [
      [five.p50, 50],
      [five.p95, 95],
      [five.p99, 99],
    ] as const) {
      expect(Math.abs(p! - exact) / exact).toBeLessThanOrEqual(0.075);
    }
    expect(stats.snapshot().latencyWindows.map((w) => [w.seconds, w.ackMs.samples])).toEqual([
      [60, 100],
      [300, 100],
    ]);
    // Two minutes later: out of the last minute, still in the last five.
    now += 120_000;
    stats.recordAck(0.004);
    const [minute, fiveMinutes] = stats.snapshot().latencyWindows;
    expect(minute.ackMs.samples).toBe(1);
    expect(minute.ackMs.max).toBe(4);
    expect(fiveMinutes.ackMs.samples).toBe(101);
    // Idle for five minutes more: nothing in either window, no stale figure.
    now += 301_000;
    const idle = stats.snapshot();
    expect(idle.ackLatencyMs).toEqual({ samples: 0, p50: null, p95: null, p99: null, max: null });
    expect(idle.latencyWindows[0].ackMs.p50).toBeNull();
    expect(new IngestionStats(() => 0).snapshot().commitMs).toEqual({
      samples: 0,
      p50: null,
      p95: null,
      p99: null,
      max: null,
    });
    expect(percentiles([3, 1, 2], 1)).toMatchObject({ p50: 2, max: 3 });
  });

  it('keeps fifteen complete clock minutes of history and the current one', () => {
    let now = Date.UTC(2026, 11, 7, 10, 0, 30); // 30 s into a minute
    const stats = new IngestionStats(() => now);
    stats.recordStored(5);
    stats.recordAck(0.01);
    stats.recordBatch(5, 0.002);
    now += 60_000; // 10:01:30
    stats.recordStored(3);
    stats.recordAck(0.02);
    const { minutes } = stats.snapshot().history;
    expect(minutes).toHaveLength(IngestionStats.HISTORY_MINUTES + 1);
    expect(minutes.at(-1)).toMatchObject({ from: '2026-12-07T10:01:00.000Z', partial: true, stored: 3 });
    expect(minutes.at(-1)!.ackMs.max).toBe(20);
    expect(minutes.at(-2)).toMatchObject({ from: '2026-12-07T10:00:00.000Z', partial: false, stored: 5 });
    expect(minutes.at(-2)!.commitMs.samples).toBe(1);
    expect(minutes[0].from).toBe('2026-12-07T09:46:00.000Z');
    expect(minutes.slice(0, -2).every((m) => m.stored === 0 && m.ackMs.p50 === null)).toBe(true);
    // Sixteen minutes on, 10:00 has left the history.
    now += 16 * 60_000;
    expect(stats.snapshot().history.minutes.every((m) => m.stored === 0 && m.ackMs.samples === 0)).toBe(true);
  });

  it('reports batch sizes in rows', () => {
    const stats = new IngestionStats(() => 0);
    stats.recordBatch(200, 0.01);
    expect(stats.snapshot().batchRows.max).toBe(200);
    expect(Math.abs(stats.snapshot().batchRows.p50! - 200) / 200).toBeLessThanOrEqual(0.075);
  });
});
