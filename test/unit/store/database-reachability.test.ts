import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { DatabaseReachability } from '../../../src/store/database-reachability.ts';

function logged(): { lines: Record<string, unknown>[]; reachability: DatabaseReachability } {
  const lines: Record<string, unknown>[] = [];
  const sink = { write: (chunk: string) => lines.push(JSON.parse(chunk)) } as unknown as NodeJS.WritableStream;
  return { lines, reachability: new DatabaseReachability(createLogger('debug', sink)) };
}

describe('DatabaseReachability', () => {
  it('says an outage once when it starts and once when it ends', () => {
    const { lines, reachability } = logged();
    for (let i = 0; i < 5; i++) reachability.lost(new Error('connection refused'));
    reachability.reached();
    reachability.reached();
    expect(lines.map((l) => l.msg)).toEqual(['database unreachable', 'database reachable again']);
    expect(lines[1]).toMatchObject({ failures: 5 });
  });

  it('does not count a connection made before the outage ended that fails afterwards', () => {
    const { lines, reachability } = logged();
    const before = reachability.epoch;
    reachability.lost(new Error('connection terminated'), before);
    reachability.reached();
    // A stale connection of the first epoch fails after the return: nothing changes.
    reachability.lost(new Error('connection terminated'), before);
    expect(reachability.up).toBe(true);
    // A connection of this epoch, or one made now, fails: a new outage.
    reachability.lost(new Error('connection refused'), reachability.epoch);
    expect(reachability.up).toBe(false);
    expect(lines.map((l) => l.msg)).toEqual([
      'database unreachable',
      'database reachable again',
      'database unreachable',
    ]);
  });
});
