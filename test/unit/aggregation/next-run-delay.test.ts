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

  it('never pauses longer than ten intervals', () => {
    expect(nextRunDelayMs({ lastRunMs: 60_000, backlog: true, intervalMs: 1000, maxBusyShare: 0.25 })).toBe(10_000);
  });
});
