/**
 * The aggregation job on a database that refuses writes (a standby given as
 * DATABASE_URL, a primary made read-only) says so once and retries every interval,
 * rather than logging a failure every second.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { createLogger } from '../../src/logger.ts';
import { createDatabase } from '../../src/store/database.ts';
import { useTestDatabase } from '../fixture.ts';
import { waitFor } from '../helpers/device.ts';

const t = useTestDatabase();

describe('the aggregation job on a read-only database', () => {
  it('logs one warning for the whole time the database refuses writes', async () => {
    const url = new URL(t.url);
    url.searchParams.set('options', '-c default_transaction_read_only=on');
    const { db } = createDatabase(url.toString(), 1, createLogger('silent'));
    const lines: Array<{ level: string; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    let runs = 0;
    const job = new Aggregator({
      db,
      log: createLogger('debug', sink),
      intervalMs: 20,
      batchSize: 10,
      refreshEveryMs: 3_600_000,
      now: () => {
        runs++;
        return Date.now();
      },
    });
    job.start();
    await waitFor(() => runs >= 10, 'ten runs');
    await job.stop();
    await db.destroy();
    const warnings = lines.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(warnings.map((l) => l.msg)).toEqual([
      'aggregation paused: the database is read-only (a standby?); it retries every interval',
    ]);
  });
});
