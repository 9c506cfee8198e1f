import { describe, expect, it } from 'vitest';
import { nextRunDelayMs } from '../../../src/aggregation/aggregator.ts';

describe('nextRunDelayMs', () => {
  it('goes again at once with a backlog when it may take all the time', () => {
    expect(nextRunDelayMs({ lastRunMs: 200, backlog: true, intervalMs: 1000, maxBusyShare: 1 })).toBe(0);
  });

  it('waits the interval when idle and the last run was cheap', () => {
    expect(nextRunDelayMs({ lastRunMs: 10, backlog: false, intervalMs: 1000, maxBusyShare: 0.25 })).toBe(1000);
  });

  it('keeps its share of wall time under the bound, backlog or not', () => {
    // 25 %: a 400 ms run is followed by 1200 ms of pause (400 / (400 + 1200) = 25 %).
    expect(nextRunDelayMs({ lastRunMs: 400, backlog: true, intervalMs: 1000, maxBusyShare: 0.25 })).toBe(1200);
    expect(nextRunDelayMs({ lastRunMs: 400, backlog: false, intervalMs: 1000, maxBusyShare: 0.25 })).toBe(1200);
    expect(nextRunDelayMs({ lastRunMs: 100, backlog: true, intervalMs: 1000, maxBusyShare: 0.5 })).toBe(100);
  });

  it('holds the share after a long run too: the pause is not capped', () => {
    // A 60 s run at 25 % is followed by 180 s: under a backlog the job still takes only a quarter of the time.
    expect(nextRunDelayMs({ lastRunMs: 60_000, backlog: true, intervalMs: 1000, maxBusyShare: 0.25 })).toBe(180_000);
    // Over a series of runs, busy time / wall time is the share.
    let busy = 0;
    let wall = 0;
    for (const run of [50, 400, 3000, 120, 9000]) {
      busy += run;
      wall += run + nextRunDelayMs({ lastRunMs: run, backlog: true, intervalMs: 1000, maxBusyShare: 0.25 });
    }
    expect(busy / wall).toBeCloseTo(0.25, 12);
  });
});
