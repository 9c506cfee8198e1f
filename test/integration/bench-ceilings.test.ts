import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  measureBareBrokerCeiling,
  publishClosedLoop,
  startBareBroker,
} from '../../simulators/bench/bare-broker-ceiling.ts';
import { measurePostgresCeilings, type PostgresCeilingRun } from '../../simulators/bench/postgres-ceiling.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/free-port.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

function expectPositiveFinite(value: unknown, what: string): void {
  expect(value, what).toBeTypeOf('number');
  expect(Number.isFinite(value), `${what} is finite`).toBe(true);
  expect(value as number, what).toBeGreaterThan(0);
}

async function tableExists(table: string): Promise<boolean> {
  const { rows } = await database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class WHERE relname = $1 AND relkind = 'r'`,
    [table],
  );
  return rows[0].n > 0;
}

async function benchTables(): Promise<string[]> {
  const { rows } = await database.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relname LIKE 'bench\\_readings\\_%'`,
  );
  return rows.map((r) => r.relname);
}

describe('PostgreSQL ceilings', () => {
  it('measures COPY and batched upserts per configuration, storing what it reports, and drops its table', async () => {
    const seen: { run: PostgresCeilingRun; stored: number; existed: boolean; duplicates: number }[] = [];
    const result = await measurePostgresCeilings({
      databaseUrl: database.url,
      durationMs: 300,
      connections: [1, 2],
      batchSizes: [1000],
      onRun: async (run, table) => {
        const { rows } = await database.query<{ n: number; keys: number }>(
          `SELECT count(*)::int AS n, count(DISTINCT (device_id, reading_id))::int AS keys FROM ${table}`,
        );
        seen.push({ run, stored: rows[0].n, existed: await tableExists(table), duplicates: rows[0].n - rows[0].keys });
      },
    });

    expectPositiveFinite(result.copyRowsPerSecond, 'copyRowsPerSecond');
    expectPositiveFinite(result.upsertRowsPerSecond, 'upsertRowsPerSecond');
    expect(result.table).toMatch(/^bench_readings_[0-9a-f]{12}$/);
    expect(result.runs.map((r) => [r.kind, r.connections, r.batchSize])).toEqual([
      ['copy', 1, 1000],
      ['upsert', 1, 1000],
      ['copy', 2, 1000],
      ['upsert', 2, 1000],
    ]);
    for (const run of result.runs) {
      const what = `${run.kind} ${run.connections}x${run.batchSize}`;
      expectPositiveFinite(run.rows, `${what} rows`);
      expectPositiveFinite(run.batches, `${what} batches`);
      expectPositiveFinite(run.elapsedMs, `${what} elapsedMs`);
      expectPositiveFinite(run.rowsPerSecond, `${what} rowsPerSecond`);
      // Fresh keys: every batch is written in full.
      expect(run.rows, what).toBe(run.batches * run.batchSize);
      expect(run.rowsPerSecond).toBeCloseTo(run.rows / (run.elapsedMs / 1000), 6);
    }
    expect(result.copyRowsPerSecond).toBe(
      Math.max(...result.runs.filter((r) => r.kind === 'copy').map((r) => r.rowsPerSecond)),
    );
    expect(result.upsertRowsPerSecond).toBe(
      Math.max(...result.runs.filter((r) => r.kind === 'upsert').map((r) => r.rowsPerSecond)),
    );

    // What each run reported is what the table held after it (truncated between runs).
    expect(seen.map((s) => s.run)).toEqual(result.runs);
    for (const s of seen) {
      expect(s.existed).toBe(true);
      expect(s.stored).toBe(s.run.rows);
      expect(s.duplicates).toBe(0);
    }

    expect(await tableExists(result.table)).toBe(false);
    expect(await benchTables()).toEqual([]);
  });

  it('drops its table when a run fails', async () => {
    let table = '';
    await expect(
      measurePostgresCeilings({
        databaseUrl: database.url,
        durationMs: 100,
        connections: [1],
        batchSizes: [1000],
        onRun: (_run, t) => {
          table = t;
          throw new Error('stop here');
        },
      }),
    ).rejects.toThrow('stop here');
    expect(table).toMatch(/^bench_readings_/);
    expect(await tableExists(table)).toBe(false);
  });

  it('refuses empty or non-positive configurations before touching the database', async () => {
    await expect(
      measurePostgresCeilings({ databaseUrl: database.url, durationMs: 100, connections: [] }),
    ).rejects.toThrow(RangeError);
    await expect(
      measurePostgresCeilings({ databaseUrl: database.url, durationMs: 100, batchSizes: [0] }),
    ).rejects.toThrow(RangeError);
    expect(await benchTables()).toEqual([]);
  });
});

describe('bare broker ceiling', () => {
  it('counts PUBACKs from closed-loop QoS 1 publishers and closes the broker', async () => {
    const result = await measureBareBrokerCeiling({ publishers: 2, durationMs: 300, inflight: 10, payloadBytes: 200 });
    expectPositiveFinite(result.messagesPerSecond, 'messagesPerSecond');
    expectPositiveFinite(result.acked, 'acked');
    expectPositiveFinite(result.elapsedMs, 'elapsedMs');
    expect(Number.isInteger(result.acked)).toBe(true);
    expect(result.messagesPerSecond).toBeCloseTo(result.acked / (result.elapsedMs / 1000), 6);

    // The broker is gone: its port refuses connections.
    const port = Number(new URL(result.url).port);
    expect(port).toBeGreaterThan(0);
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('publishes to a broker given by URL, on the topics it is told', async () => {
    const broker = await startBareBroker();
    const topics = new Set<string>();
    try {
      const subscriber = await import('mqtt').then((m) => m.default.connectAsync(broker.url, { reconnectPeriod: 0 }));
      try {
        subscriber.on('message', (topic) => topics.add(topic));
        await subscriber.subscribeAsync('peer/#', { qos: 0 });
        const result = await publishClosedLoop({
          url: broker.url,
          publishers: 3,
          durationMs: 300,
          inflight: 4,
          payloadBytes: 64,
          topic: (i) => `peer/${i}`,
        });
        expectPositiveFinite(result.messagesPerSecond, 'messagesPerSecond');
        expectPositiveFinite(result.acked, 'acked');
      } finally {
        await subscriber.endAsync(true);
      }
    } finally {
      await broker.close();
    }
    expect([...topics].sort()).toEqual(['peer/0', 'peer/1', 'peer/2']);
  });

  it('rejects when the broker URL does not answer', async () => {
    const port = await freePort();
    await expect(
      publishClosedLoop({
        url: `mqtt://127.0.0.1:${port}`,
        publishers: 1,
        durationMs: 100,
        inflight: 1,
        payloadBytes: 1,
      }),
    ).rejects.toThrow();
  });

  it('refuses a non-positive publisher count', async () => {
    await expect(
      measureBareBrokerCeiling({ publishers: 0, durationMs: 100, inflight: 1, payloadBytes: 1 }),
    ).rejects.toThrow(RangeError);
  });
});
