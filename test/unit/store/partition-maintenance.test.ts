import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { PartitionMaintenance } from '../../../src/store/partitions.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-22T08:00:00Z');
const running: PartitionMaintenance[] = [];

afterEach(() => {
  for (const m of running.splice(0)) m.stop();
});

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, lines };
}

describe('PartitionMaintenance', () => {
  it('ensures partitions from the oldest acceptable reading to two months ahead at start, and logs what it created', async () => {
    const ranges: [number, number][] = [];
    const { log, lines } = logLines();
    const m = new PartitionMaintenance(
      {
        ensureRange: async (from, to) => {
          ranges.push([from, to]);
          return ['readings_2026_12'];
        },
      },
      { maxAgeMs: 90 * DAY, log, now: () => NOW },
    );
    running.push(m);
    await m.start();
    expect(ranges).toEqual([[NOW - 90 * DAY, NOW + 62 * DAY]]);
    expect(lines.filter((l) => l.msg === 'reading partitions created').map((l) => l.partitions)).toEqual([
      ['readings_2026_12'],
    ]);
  });

  it('fails its start when the first pass fails', async () => {
    const { log } = logLines();
    const m = new PartitionMaintenance(
      {
        ensureRange: async () => {
          throw new Error('database down');
        },
      },
      { maxAgeMs: DAY, log, now: () => NOW },
    );
    running.push(m);
    await expect(m.start()).rejects.toThrow('database down');
  });
});
