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

  it('reports latency percentiles of the latest samples', () => {
    const stats = new IngestionStats(() => 0);
    for (let i = 1; i <= 100; i++) stats.recordAck(i / 1000);
    expect(stats.snapshot().ackLatencyMs).toEqual({ samples: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(new IngestionStats(() => 0).snapshot().commitMs).toEqual({
      samples: 0,
      p50: null,
      p95: null,
      p99: null,
      max: null,
    });
    expect(percentiles([3, 1, 2], 1)).toMatchObject({ p50: 2, max: 3 });
  });
});
