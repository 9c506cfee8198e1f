/**
 * A quick local load, not the benchmark (that is `vitalink bench`, to come): starts
 * `vitalink serve` as a child process on a fresh database of the PostgreSQL server
 * in DATABASE_URL, drives N devices closed-loop for a few seconds, then checks by
 * counting rows that every acknowledged reading is stored exactly once. Meanwhile a
 * probe device sends one SpO2 reading a second, each lower than the last, and the
 * script measures how long after its PUBACK the patient's spo2_min indicator shows it
 * (the aggregation lag a clinician would see).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/quick-load.ts --devices 20 --duration 10 --per-message 1 --inflight 16
 */
import { readSecretKeys } from '../src/config.ts';
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { loadToolLimits, startService } from '../simulators/harness/service-process.ts';
import { connectClient } from '../simulators/mqtt-connect.ts';
import { openProvisioner } from '../src/cli/provisioner.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20' },
    duration: { type: 'string', default: '10' },
    'per-message': { type: 'string', default: '1' },
    inflight: { type: 'string', default: '16' },
  },
});
const devices = Number(values.devices);
const durationS = Number(values.duration);
const perMessage = Number(values['per-message']);
const inflight = Number(values.inflight);
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('quick-load: set DATABASE_URL to a PostgreSQL server where a database may be created\n');
  process.exit(2);
}

const scratch = await createScratchDatabase(base, { prefix: 'vitalink_load' });
const url = scratch.url;
const provisioner = await openProvisioner(url, createLogger('warn', process.stderr), {
  migrate: true,
  secretKeys: readSecretKeys(process.env).keys,
});
await provisioner.addPatient({ id: 'load-probe' });
const probeSecret = (
  await provisioner.addDevice({ id: 'load-probe-d', patientId: 'load-probe' }, new Date(Date.now() - 86_400_000))
).secret;
const secrets: string[] = [];
for (let i = 0; i < devices; i++) {
  await provisioner.addPatient({ id: `load-p${i}` });
  secrets.push(
    (await provisioner.addDevice({ id: `load-d${i}`, patientId: `load-p${i}` }, new Date(Date.now() - 86_400_000)))
      .secret,
  );
}
await provisioner.close();

const service = await startService({ DATABASE_URL: url, ...loadToolLimits() }, { keepLogs: false });
const { mqtt: port, http: httpPort } = service.ports;

const probe = await connectClient(`mqtt://127.0.0.1:${port}`, {
  clientId: 'load-probe-d',
  username: 'load-probe-d',
  password: probeSecret,
});
const started = performance.now();
const deadline = started + durationS * 1000;
const freshness: number[] = [];
const probeDone = (async () => {
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  for (let i = 0; performance.now() < started + durationS * 1000 - 1000; i++) {
    const value = 99 - i * 0.1;
    await probe.publishAsync(
      'v1/devices/load-probe-d/readings',
      JSON.stringify({ id: `probe-${i}`, type: 'spo2', at: Date.now(), value, unit: '%' }),
      { qos: 1 },
    );
    const ackedAt = performance.now();
    // Gives up after 10 s (aggregation slowed down or switched off with VITALINK_AGGREGATION_INTERVAL_MS).
    for (; performance.now() - ackedAt < 10_000;) {
      const { rows } = await check.query(
        `SELECT value FROM patient_indicators WHERE patient_id = 'load-probe' AND key = 'spo2_min'`,
      );
      if (rows[0] && Math.abs(rows[0].value - value) < 1e-9) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    freshness.push(performance.now() - ackedAt);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await check.end();
})();
let acked = 0;
const latencies: number[] = [];
const clients: MqttClient[] = [];
await Promise.all(
  secrets.map(async (secret, i) => {
    const id = `load-d${i}`;
    const client = await connectClient(`mqtt://127.0.0.1:${port}`, { clientId: id, username: id, password: secret });
    clients.push(client);
    let n = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (performance.now() < deadline) {
          const readings = Array.from({ length: perMessage }, () => ({
            id: `${id}-${++n}`,
            type: 'heart_rate',
            at: Date.now(),
            value: 70,
            unit: '/min',
          }));
          const t0 = performance.now();
          await client.publishAsync(
            `v1/devices/${id}/readings`,
            JSON.stringify(perMessage === 1 ? readings[0] : { readings }),
            { qos: 1 },
          );
          latencies.push(performance.now() - t0);
          acked += perMessage;
        }
      }),
    );
  }),
);
const elapsed = (performance.now() - started) / 1000;
await probeDone;
await probe.endAsync();
for (const c of clients) await c.endAsync();
// The service's own view of its batches: mean rows per commit and mean commit time.
const metricsText = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1] ?? NaN);
const batches = {
  count: metric('vitalink_batch_rows_count'),
  meanRows: Math.round(metric('vitalink_batch_rows_sum') / metric('vitalink_batch_rows_count')),
  meanCommitMs: Number(
    ((metric('vitalink_batch_commit_seconds_sum') / metric('vitalink_batch_commit_seconds_count')) * 1000).toFixed(1),
  ),
};
await service.stop();

const check = new pg.Client({ connectionString: url });
await check.connect();
const counted = await check.query(
  'SELECT count(*)::int AS n, count(DISTINCT (device_id, reading_id))::int AS d FROM readings',
);
await check.end();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
const result = {
  devices,
  perMessage,
  inflight,
  seconds: Number(elapsed.toFixed(1)),
  acked,
  stored: counted.rows[0].n,
  distinct: counted.rows[0].d,
  readingsPerSecond: Math.round(acked / elapsed),
  ackMs: { p50: pct(50), p95: pct(95), p99: pct(99) },
  batches,
  indicatorFreshnessMs: {
    probes: freshness.length,
    p50: Math.round(freshness.sort((a, b) => a - b)[Math.floor(freshness.length / 2)] ?? NaN),
    max: Math.round(Math.max(...freshness)),
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await scratch.drop();
