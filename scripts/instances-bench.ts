/**
 * Throughput of one and two `vitalink serve` instances on one PostgreSQL, direct
 * and behind HAProxy with the shipped deploy/haproxy.cfg (README, "Running several
 * instances", "Throughput"): the same closed-loop devices as `vitalink bench`
 * (single-reading QoS 1 messages, `--inflight` outstanding each), one scenario
 * after the other on a scratch database, then every acknowledged reading checked
 * stored once.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/instances-bench.ts [--devices 40] [--duration 15] [--inflight 16] [--readings-per-message 1]
 *
 * Scenarios: `1 direct` (devices on the instance's port), `1 via HAProxy` (HAProxy's
 * cost per message: the same instance behind it), `2 via HAProxy`. On a 2-core
 * machine the instances, PostgreSQL, HAProxy and the devices share the cores: the
 * figures say what the machine does, not what two machines would.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectAll, drive } from '../simulators/bench/bench.ts';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { loadToolLimits, ROOT, type ServiceProcess, startService } from '../simulators/harness/service-process.ts';
import { openProvisioner } from '../src/cli/provisioner.ts';
import { readSecretKeys } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '40' },
    duration: { type: 'string', default: '15' },
    inflight: { type: 'string', default: '16' },
    'readings-per-message': { type: 'string', default: '1' },
  },
});
const devicesN = Number(values.devices);
const durationMs = Number(values.duration) * 1000;
const inflight = Number(values.inflight);
const perMessage = Number(values['readings-per-message']);
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  console.error('instances-bench: set DATABASE_URL to a PostgreSQL server (a scratch database is made there)');
  process.exit(2);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startInstance(
  url: string,
  id: string,
  mqttPort: number,
  httpPort: number,
  behindHaproxy = true,
): Promise<ServiceProcess> {
  return startService(
    {
      ...loadToolLimits(),
      DATABASE_URL: url,
      VITALINK_INSTANCE_ID: id,
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      // Behind HAProxy, which sends PROXY headers from 127.0.0.1; direct devices send none.
      VITALINK_TRUSTED_PROXIES: behindHaproxy ? '127.0.0.1' : undefined,
      VITALINK_DATA_DIR: path.join(os.tmpdir(), `vitalink-instances-bench-${id}`),
    },
    { keepLogs: false },
  );
}

async function startHaproxy(ports: {
  a: [number, number];
  b: [number, number];
}): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('haproxy', ['-f', path.join(ROOT, 'deploy', 'haproxy.cfg'), '-db'], {
    env: {
      ...process.env,
      VITALINK_LB_MQTT_BIND: `127.0.0.1:${port}`,
      VITALINK_LB_HTTP_BIND: `127.0.0.1:${await freePort()}`,
      VITALINK_LB_ADMIN_SOCKET: path.join(os.tmpdir(), `vitalink-instances-bench-${port}.sock`),
      VITALINK_A_MQTT_PORT: String(ports.a[0]),
      VITALINK_A_HTTP_PORT: String(ports.a[1]),
      VITALINK_B_MQTT_PORT: String(ports.b[0]),
      VITALINK_B_HTTP_PORT: String(ports.b[1]),
    },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Health checks a second apart: a down server is marked so after 3, an up one stays up.
  await new Promise((r) => setTimeout(r, 4_000));
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const run = randomBytes(3).toString('hex');
const scratch = await createScratchDatabase(serverUrl, { prefix: 'vitalink_instances_bench' });
const results: Array<{ scenario: string; readingsPerSecond: number; p50: number; p99: number }> = [];
try {
  const provisioner = await openProvisioner(scratch.url, createLogger('warn', process.stderr), {
    migrate: true,
    secretKeys: readSecretKeys(process.env).keys,
  });
  const devices: { id: string; secret: string }[] = [];
  const from = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < devicesN; i++) {
    const id = `ib-${run}-${i}`;
    await provisioner.addPatient({ id: `${id}-p` });
    devices.push({ id, secret: (await provisioner.addDevice({ id, patientId: `${id}-p` }, from)).secret });
  }
  await provisioner.close();

  const a: [number, number] = [await freePort(), await freePort()];
  const b: [number, number] = [await freePort(), await freePort()];
  const scenario = async (name: string, url: string, pid: number) => {
    console.error(`instances-bench: ${name}, ${devicesN} devices, ${durationMs / 1000} s`);
    const clients = await connectAll(url, devices);
    try {
      const d = await drive(
        clients,
        devices.map((x) => x.id),
        { durationMs, perMessage, inflight, pid },
      );
      const sorted = d.latencies.sort((x, y) => x - y);
      results.push({
        scenario: name,
        readingsPerSecond: Math.round(d.ackedInWindow / (d.windowMs / 1000)),
        p50: Math.round(sorted[Math.floor(sorted.length * 0.5)]! * 10) / 10,
        p99: Math.round(sorted[Math.floor(sorted.length * 0.99)]! * 10) / 10,
      });
    } finally {
      await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
    }
  };

  const direct = await startInstance(scratch.url, 'bench-direct', a[0], a[1], false);
  try {
    await scenario('1 instance, direct', `mqtt://127.0.0.1:${a[0]}`, direct.child.pid!);
  } finally {
    await direct.stop();
  }
  const one = await startInstance(scratch.url, 'bench-a', a[0], a[1]);
  try {
    // HAProxy with b down: every device goes to a.
    const lb = await startHaproxy({ a, b });
    try {
      await scenario('1 instance via HAProxy', `mqtt://127.0.0.1:${lb.port}`, one.child.pid!);
      const two = await startInstance(scratch.url, 'bench-b', b[0], b[1]);
      try {
        await new Promise((r) => setTimeout(r, 2_500));
        await scenario('2 instances via HAProxy', `mqtt://127.0.0.1:${lb.port}`, one.child.pid!);
      } finally {
        await two.stop();
      }
    } finally {
      await lb.stop();
    }
  } finally {
    await one.stop();
  }

  const check = new pg.Client({ connectionString: scratch.url });
  await check.connect();
  const { rows } = await check.query<{ n: string; distinct: string }>(
    `SELECT count(*) AS n, count(DISTINCT (device_id, reading_id)) AS distinct FROM readings`,
  );
  await check.end();
  console.log('| scenario | readings/s | PUBACK p50 ms | p99 ms |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.scenario} | ${r.readingsPerSecond} | ${r.p50} | ${r.p99} |`);
  console.log(`stored ${rows[0]!.n} readings, ${rows[0]!.distinct} distinct (device, reading id)`);
} finally {
  await scratch.drop();
}
