import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startBareBroker } from '../../simulators/bench/bare-broker-ceiling.ts';
import { type BenchOptions, type BenchResult, parseBenchArgs, runBench } from '../../simulators/bench/bench.ts';
import { createBenchProduct } from '../../src/cli/bench.command.ts';
import { createLogger } from '../../src/logger.ts';

const product = createBenchProduct(createLogger('warn', process.stderr));

const SHORT_CEILINGS = { ceilingDurationMs: 150, ceilingConnections: [1], ceilingBatchSizes: [1000] } as const;

async function bench(options: Omit<BenchOptions, 'databaseUrl'>) {
  const out: string[] = [];
  const err: string[] = [];
  const result = await runBench(
    { ...SHORT_CEILINGS, ...options, databaseUrl: inject('pgAdminUrl') },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
    product,
  );
  const scratch = err.map((l) => /scratch database (\w+)/.exec(l)?.[1]).find(Boolean);
  return { result, out, err, scratch };
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

function expectFiniteNumbers(value: unknown, where: string): void {
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) expectFiniteNumbers(v, `${where}.${k}`);
    return;
  }
  expect(typeof value, where).toBe('number');
  expect(Number.isFinite(value), `${where} is finite`).toBe(true);
}

function expectVerified(result: BenchResult, readingsPerMessage: number): void {
  expect(Object.keys(result).sort()).toEqual(
    [
      'devices',
      'durationS',
      'messageReadings',
      'sent',
      'acked',
      'stored',
      'lost',
      'duplicatesStored',
      'readingsPerSecond',
      'ackLatencyMs',
      'serviceCpuPct',
      'serviceRssMb',
      'ceilings',
      'ratios',
    ].sort(),
  );
  expect(Object.keys(result.ackLatencyMs).sort()).toEqual(['max', 'p50', 'p95', 'p99']);
  expect(Object.keys(result.ceilings).sort()).toEqual([
    'bareBrokerQos1MessagesPerSecond',
    'postgresCopyRowsPerSecond',
    'postgresUpsertRowsPerSecond',
  ]);
  expect(Object.keys(result.ratios).sort()).toEqual(['vsBareBroker', 'vsPostgresUpsert']);
  expectFiniteNumbers(result, 'result');
  expect(result.devices).toBe(3);
  expect(result.messageReadings).toBe(readingsPerMessage);
  expect(result.acked).toBeGreaterThan(0);
  expect(result.acked % readingsPerMessage).toBe(0);
  expect(result.sent).toBeGreaterThanOrEqual(result.acked);
  expect(result.lost).toBe(0);
  expect(result.duplicatesStored).toBe(0);
  expect(result.stored).toBeGreaterThanOrEqual(result.acked);
  expect(result.stored).toBeLessThanOrEqual(result.sent);
  expect(result.readingsPerSecond).toBeGreaterThan(0);
  expect(result.serviceRssMb).toBeGreaterThan(0);
  expect(result.ceilings.postgresUpsertRowsPerSecond).toBeGreaterThan(0);
  expect(result.ceilings.bareBrokerQos1MessagesPerSecond).toBeGreaterThan(0);
  expect(result.ratios.vsPostgresUpsert).toBeGreaterThan(0);
  expect(result.ratios.vsBareBroker).toBeGreaterThan(0);
}

describe('vitalink bench', () => {
  it.each([1, 10])(
    'drives 3 devices closed loop with %i reading(s) per message and stores every acked reading once',
    async (readingsPerMessage) => {
      const { result, out, scratch } = await bench({ devices: 3, durationS: 2, readingsPerMessage, json: true });
      expectVerified(result, readingsPerMessage);
      // The JSON object is the last line of the output, after a readable table.
      expect(JSON.parse(out.at(-1)!)).toEqual(result);
      expect(out.length).toBeGreaterThan(5);
      expect(out.some((l) => /readings acked/.test(l))).toBe(true);
      // The scratch database is dropped at the end.
      expect(scratch).toMatch(/^vitalink_bench_/);
      expect(await databaseExists(scratch!)).toBe(false);
    },
    45_000,
  );

  it('runs open loop at a given rate, reports idle connections and a peer broker when asked', async () => {
    // A stand-in for a Mosquitto: any MQTT broker URL.
    const peer = await startBareBroker();
    let run: Awaited<ReturnType<typeof bench>>;
    try {
      run = await bench({
        devices: 3,
        durationS: 2,
        readingsPerMessage: 2,
        rate: 200,
        connectionsOnly: 5,
        mosquittoUrl: peer.url,
      });
    } finally {
      await peer.close();
    }
    const { result, out } = run;
    const { connectionsOnly, mosquittoMessagesPerSecond, ...rest } = result;
    expectVerified(rest, 2);
    expectFiniteNumbers(mosquittoMessagesPerSecond, 'mosquittoMessagesPerSecond');
    expect(mosquittoMessagesPerSecond).toBeGreaterThan(0);
    // Paced at 200 readings/s for 2 s: nowhere near the closed-loop volume.
    expect(result.sent).toBeLessThanOrEqual(200 * 4);
    expect(connectionsOnly).toBeDefined();
    expect(connectionsOnly!.devices).toBe(5);
    expectFiniteNumbers(connectionsOnly, 'connectionsOnly');
    expect(connectionsOnly!.serviceRssMb).toBeGreaterThan(0);
    // Without --json, no JSON line.
    expect(() => JSON.parse(out.at(-1)!)).toThrow();
  }, 45_000);

  it('uses an embedded PostgreSQL of its own without a database URL', async () => {
    const err: string[] = [];
    const result = await runBench(
      { ...SHORT_CEILINGS, devices: 3, durationS: 1, readingsPerMessage: 1 },
      { out: () => {}, err: (l) => err.push(l) },
      product,
    );
    expect(err.some((l) => /embedded PostgreSQL/.test(l))).toBe(true);
    expectVerified(result, 1);
  }, 60_000);

  it('parses its command-line options', () => {
    expect(
      parseBenchArgs([
        '--devices',
        '7',
        '--duration',
        '3',
        '--readings-per-message',
        '50',
        '--rate',
        '1000',
        '--inflight',
        '4',
        '--connections-only',
        '100',
        '--mosquitto',
        'mqtt://127.0.0.1:18830',
        '--json',
      ]),
    ).toEqual({
      devices: 7,
      durationS: 3,
      readingsPerMessage: 50,
      rate: 1000,
      inflight: 4,
      connectionsOnly: 100,
      mosquittoUrl: 'mqtt://127.0.0.1:18830',
      json: true,
    });
    expect(parseBenchArgs([])).toMatchObject({ devices: 20, durationS: 10, readingsPerMessage: 1, json: false });
    expect(() => parseBenchArgs(['--devices', '0'])).toThrow(RangeError);
    expect(() => parseBenchArgs(['--bogus'])).toThrow();
  });

  it('refuses a non-integer device count before touching anything', async () => {
    await expect(runBench({ devices: 1.5, durationS: 1 }, { out: () => {}, err: () => {} }, product)).rejects.toThrow(
      RangeError,
    );
  });
});
