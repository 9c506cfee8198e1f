/**
 * Readings over HTTPS beside MQTT, in one run (README, "Device protocol", "Over
 * HTTPS"): starts `vitalink serve` as a child process with HTTPS_PORT (a
 * self-signed certificate made with openssl in a temporary folder) on a fresh
 * database of the PostgreSQL server in DATABASE_URL, then drives four phases one
 * after the other, each closed loop for `--duration` seconds with its own devices:
 *
 *   mqtt-1    single-reading MQTT publishes, QoS 1, `--inflight` per device
 *   mqtt-50   MQTT messages of 50 readings
 *   https-1   single-reading POST /api/v1/devices/{id}/readings over HTTPS (keep-alive),
 *             `--concurrency` requests in flight per device
 *   https-50  POSTs of 50 readings
 *   https-token-1  single-reading POSTs authenticated by a device token (Bearer) instead of
 *             the secret: looked up on every request, where a secret verified lately is not
 *
 * and checks by counting rows that every acknowledged reading (PUBACK, or a 200
 * whose result is `stored`) is stored exactly once. Prints one JSON line per phase
 * and a summary table. Exit code 1 if anything acknowledged is missing or doubled.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/https-load.ts --devices 20 --duration 15 --inflight 16 --concurrency 4
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { loadToolLimits, startService } from '../simulators/harness/service-process.ts';
import { connectClient } from '../simulators/mqtt-connect.ts';
import { createDeviceToken } from '../src/actions/device-tokens.ts';
import { resolveKeyRing } from '../src/actions/secret-keys.ts';
import { openProvisioner } from '../src/cli/provisioner.ts';
import { createDatabase } from '../src/store/database.ts';
import { readSecretKeys } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20' },
    duration: { type: 'string', default: '15' },
    inflight: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '4' },
  },
});
const devices = Number(values.devices);
const durationS = Number(values.duration);
const inflight = Number(values.inflight);
const concurrency = Number(values.concurrency);
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('https-load: set DATABASE_URL to a PostgreSQL server where a database may be created\n');
  process.exit(2);
}

type Phase = 'mqtt-1' | 'mqtt-50' | 'https-1' | 'https-50' | 'https-token-1';
const PHASES: Phase[] = ['mqtt-1', 'mqtt-50', 'https-1', 'https-50', 'https-token-1'];

// A self-signed certificate for 127.0.0.1, for the HTTPS listener only.
const tlsDir = mkdtempSync(path.join(os.tmpdir(), 'vitalink-https-load-'));
const certFile = path.join(tlsDir, 'cert.pem');
const keyFile = path.join(tlsDir, 'key.pem');
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ],
  { stdio: 'ignore' },
);

const scratch = await createScratchDatabase(base, { prefix: 'vitalink_https_load' });
const url = scratch.url;
const provisioner = await openProvisioner(url, createLogger('warn', process.stderr), {
  migrate: true,
  secretKeys: readSecretKeys(process.env).keys,
});
const secrets = new Map<string, string>();
for (const phase of PHASES) {
  for (let i = 0; i < devices; i++) {
    const id = `${phase}-d${i}`;
    await provisioner.addPatient({ id: `${phase}-p${i}` });
    const { secret } = await provisioner.addDevice(
      { id, patientId: `${phase}-p${i}` },
      new Date(Date.now() - 86_400_000),
    );
    secrets.set(id, secret);
  }
}
await provisioner.close();
// README, "Device tokens": one token per device of the token phase.
const tokens = new Map<string, string>();
{
  const { db } = createDatabase(url, 2, createLogger('warn', process.stderr));
  const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
  for (let i = 0; i < devices; i++) {
    const id = `https-token-1-d${i}`;
    tokens.set(id, (await createDeviceToken(db, keys, { deviceId: id })).token);
  }
  await db.destroy();
}

const service = await startService(
  {
    DATABASE_URL: url,
    HTTPS_PORT: '0',
    TLS_CERT_FILE: certFile,
    TLS_KEY_FILE: keyFile,
    ...loadToolLimits(),
    // Every request comes from 127.0.0.1: the per-address cap of the HTTPS listener would refuse past 200 sockets.
    VITALINK_HTTPS_MAX_CONNECTIONS: process.env.VITALINK_HTTPS_MAX_CONNECTIONS ?? '20000',
    VITALINK_HTTPS_MAX_CONNECTIONS_PER_ADDRESS: process.env.VITALINK_HTTPS_MAX_CONNECTIONS_PER_ADDRESS ?? '20000',
  },
  { keepLogs: false },
);
const { mqtt: mqttPort, https: httpsPort } = service.ports;

interface PhaseResult {
  phase: Phase;
  seconds: number;
  acked: number;
  readingsPerSecond: number;
  ackMs: { p50: number; p99: number };
}

let counter = 0;
const readingsOf = (id: string, n: number) =>
  Array.from({ length: n }, () => ({
    id: `${id}-${++counter}`,
    type: 'heart_rate',
    at: Date.now() - 60_000,
    value: 60 + (counter % 40),
    unit: '/min',
  }));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1));
}

async function runMqtt(phase: Phase, perMessage: number): Promise<PhaseResult> {
  const ids = Array.from({ length: devices }, (_, i) => `${phase}-d${i}`);
  const clients = await Promise.all(
    ids.map((id) =>
      connectClient(`mqtt://127.0.0.1:${mqttPort}`, { clientId: id, username: id, password: secrets.get(id)! }),
    ),
  );
  const latencies: number[] = [];
  let acked = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    clients.map((client, d) =>
      Promise.all(
        Array.from({ length: inflight }, async () => {
          while (performance.now() < deadline) {
            const readings = readingsOf(ids[d], perMessage);
            const t0 = performance.now();
            await client.publishAsync(
              `v1/devices/${ids[d]}/readings`,
              JSON.stringify(perMessage === 1 ? readings[0] : { readings }),
              { qos: 1 },
            );
            latencies.push(performance.now() - t0);
            acked += perMessage;
          }
        }),
      ),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const c of clients) await c.endAsync();
  latencies.sort((a, b) => a - b);
  return summary(phase, seconds, acked, latencies);
}

async function runHttps(phase: Phase, perMessage: number, by: 'secret' | 'token' = 'secret'): Promise<PhaseResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: devices * concurrency, ca: undefined });
  const ids = Array.from({ length: devices }, (_, i) => `${phase}-d${i}`);
  const latencies: number[] = [];
  let acked = 0;
  let refused = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    ids.map((id) => {
      const authorization =
        by === 'token'
          ? `Bearer ${tokens.get(id)}`
          : `Basic ${Buffer.from(`${id}:${secrets.get(id)}`).toString('base64')}`;
      return Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < deadline) {
            const readings = readingsOf(id, perMessage);
            const body = JSON.stringify(perMessage === 1 ? readings[0] : { readings });
            const t0 = performance.now();
            const { status, text } = await post(agent, id, authorization, body);
            latencies.push(performance.now() - t0);
            if (status !== 200) {
              refused++;
              continue;
            }
            for (const r of JSON.parse(text).results as { outcome: string }[]) if (r.outcome === 'stored') acked++;
          }
        }),
      );
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (refused > 0) process.stderr.write(`https-load: ${phase}: ${refused} requests not answered 200\n`);
  latencies.sort((a, b) => a - b);
  return summary(phase, seconds, acked, latencies);
}

function post(
  agent: https.Agent,
  id: string,
  authorization: string,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: httpsPort,
        path: `/api/v1/devices/${id}/readings`,
        method: 'POST',
        agent,
        // The bench's own self-signed certificate, made above.
        rejectUnauthorized: false,
        headers: { authorization, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.setNoDelay(true);
    req.on('error', reject);
    req.end(body);
  });
}

function summary(phase: Phase, seconds: number, acked: number, sorted: number[]): PhaseResult {
  return {
    phase,
    seconds: Number(seconds.toFixed(1)),
    acked,
    readingsPerSecond: Math.round(acked / seconds),
    ackMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
  };
}

const results: PhaseResult[] = [];
try {
  results.push(await runMqtt('mqtt-1', 1));
  results.push(await runMqtt('mqtt-50', 50));
  results.push(await runHttps('https-1', 1));
  results.push(await runHttps('https-50', 50));
  results.push(await runHttps('https-token-1', 1, 'token'));
} catch (error) {
  // The service, the scratch database and the certificate do not outlive a failed run.
  await service.stop();
  await scratch.drop();
  rmSync(tlsDir, { recursive: true, force: true });
  throw error;
}
await service.stop();

const check = new pg.Client({ connectionString: url });
await check.connect();
let ok = true;
for (const r of results) {
  const { rows } = await check.query(
    `SELECT count(*)::int AS n, count(DISTINCT (device_id, reading_id))::int AS d FROM readings WHERE device_id LIKE $1`,
    [`${r.phase}-d%`],
  );
  const line = { ...r, stored: rows[0].n, distinct: rows[0].d, load: os.loadavg()[0].toFixed(1) };
  // Every acknowledged reading stored once; MQTT publishes cut by the stop may add unacknowledged ones.
  if (rows[0].n !== rows[0].d || rows[0].n < r.acked) ok = false;
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
await check.end();
process.stdout.write(
  `\nphase          readings/s  ack p50 ms  ack p99 ms\n${results
    .map(
      (r) =>
        `${r.phase.padEnd(13)}  ${String(r.readingsPerSecond).padStart(10)}  ${String(r.ackMs.p50).padStart(10)}  ${String(r.ackMs.p99).padStart(10)}`,
    )
    .join('\n')}\n`,
);
await scratch.drop();
rmSync(tlsDir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
