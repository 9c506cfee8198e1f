/**
 * README, "Running several instances", "Database sessions": what one connection may
 * hold is bounded. A transaction left open by a frozen instance, holding a reading
 * key another instance needs, ends after VITALINK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
 * and the other instance's publish is then acknowledged; a lock wait past
 * VITALINK_DB_LOCK_TIMEOUT_MS fails the batch's statement, which is retried.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createDatabase, sessionOptions } from '../../src/store/database.ts';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

const BOUNDS = {
  VITALINK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1500',
  VITALINK_DB_LOCK_TIMEOUT_MS: '700',
  VITALINK_DB_STATEMENT_TIMEOUT_MS: '60000',
};
const t = useTestService({ env: BOUNDS });

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

describe('bounded database sessions', () => {
  it('gives every connection the bounds and server-side TCP keepalive', async () => {
    const { dbSession } = loadConfig(BOUNDS);
    const { db } = createDatabase(t.url, 1, createLogger('silent'), 'vitalink:check', dbSession);
    const show = async (name: string) =>
      (await sql<{ v: string }>`SELECT current_setting(${name}) AS v`.execute(db)).rows[0]!.v;
    expect(await show('idle_in_transaction_session_timeout')).toBe('1500ms');
    expect(await show('lock_timeout')).toBe('700ms');
    expect(await show('statement_timeout')).toBe('1min');
    expect(await show('tcp_keepalives_idle')).toBe('10');
    await db.destroy();
    expect(sessionOptions(dbSession)).toContain('-c tcp_keepalives_count=3');
  });

  it('ends a frozen instance’s transaction, so the reading keys it held go to the instance that is alive', async () => {
    const client = await t.device('sess-dev', 'p-sess');
    // Another instance, as it connects (the same bounds), froze inside a batch that claimed r-held.
    const { dbSession } = loadConfig(BOUNDS);
    const frozen = createDatabase(t.url, 1, createLogger('silent'), 'vitalink:frozen', dbSession);
    const connection = await frozen.pool.connect();
    let ended: unknown;
    connection.on('error', (e) => (ended = e));
    await connection.query('BEGIN');
    await connection.query(
      `INSERT INTO reading_keys (device_id, reading_id, content_hash) VALUES ('sess-dev', 'r-held', 'held')`,
    );
    // The device, now on this instance, sends r-held: the batch waits on the frozen transaction's key.
    const retriesBefore = await metric(/^vitalink_batch_write_errors_total\{retryable="true"\} (\d+)$/m);
    await t.publish(client, 'sess-dev', [heartRate('r-held'), heartRate('r-other')]);
    // Acknowledged: the frozen session was ended and its claim rolled back.
    await waitFor(() => ended !== undefined, 'the frozen session to be ended');
    expect(String(ended)).toMatch(/idle-in-transaction timeout|Connection terminated/);
    const gone = await t.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'vitalink:frozen'`,
    );
    expect(gone.rows[0].n).toBe(0);
    const { rows } = await t.query(`SELECT reading_id FROM readings WHERE device_id = 'sess-dev' ORDER BY 1`);
    expect(rows.map((r) => r.reading_id)).toEqual(['r-held', 'r-other']);
    // Meanwhile the batch's lock wait hit VITALINK_DB_LOCK_TIMEOUT_MS and was retried.
    expect(await metric(/^vitalink_batch_write_errors_total\{retryable="true"\} (\d+)$/m)).toBeGreaterThan(
      retriesBefore,
    );
    connection.release(true);
    await frozen.pool.end();
  });

  it('retries a batch whose lock wait timed out, until the lock is released', async () => {
    const client = await t.device('sess-dev-2', 'p-sess');
    const holder = await t.pgClient();
    await holder.query('BEGIN');
    await holder.query(
      `INSERT INTO reading_keys (device_id, reading_id, content_hash) VALUES ('sess-dev-2', 'r-locked', 'held')`,
    );
    const before = await metric(/^vitalink_batch_write_errors_total\{retryable="true"\} (\d+)$/m);
    let acked = false;
    const publishing = t.publish(client, 'sess-dev-2', [heartRate('r-locked')]).then(() => (acked = true));
    await waitFor(
      async () => (await metric(/^vitalink_batch_write_errors_total\{retryable="true"\} (\d+)$/m)) >= before + 2,
      'two lock timeouts',
    );
    expect(acked).toBe(false);
    await holder.query('ROLLBACK');
    await holder.end();
    await publishing;
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM readings WHERE device_id = 'sess-dev-2'`);
    expect(rows[0].n).toBe(1);
  });
});
