import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../fixture.ts';
import { createDatabase } from '../../src/store/database.ts';
import { pingDatabase } from '../../src/store/database-ping.ts';
import { createLogger } from '../../src/logger.ts';

const t = useTestDatabase();

/** A pool on the test database whose sessions start with `options` (libpq's `-c name=value`); the test ends it. */
function poolWith(options?: string) {
  const url = new URL(t.url);
  if (options) url.searchParams.set('options', options);
  return createDatabase(url.toString(), 1, createLogger('silent'));
}

describe('pingDatabase (GET /readyz)', () => {
  it('is true for a database that accepts writes', async () => {
    const { db, pool } = poolWith();
    expect(await pingDatabase(db)).toBe(true);
    await pool.end();
  });

  it('is false for a database that answers but would refuse writes (a standby, or made read-only)', async () => {
    const { db, pool } = poolWith('-c default_transaction_read_only=on');
    expect(await pingDatabase(db)).toBe(false);
    await pool.end();
  });

  it('is false, not an error, when nothing answers', async () => {
    const { db, pool } = createDatabase('postgres://postgres@127.0.0.1:1/none', 1, createLogger('silent'));
    expect(await pingDatabase(db, 500)).toBe(false);
    await pool.end();
  });
});
