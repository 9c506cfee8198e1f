/**
 * Measures one MQTT listener abuse against `vitalink serve` (a child process) on
 * loopback: the service's RSS and descriptors, the sockets it reports open, and
 * how long a real device waits for its CONNACK, before and during the attack.
 * README, "Security", "Limits on the MQTT listeners" reports its figures.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/listener-abuse.ts --attack partial-connect --sockets 1500 [--main path/to/src/main.ts] [--json]
 *
 * Attacks: `partial-connect` (each socket sends a CONNECT header declaring 256 KiB
 * and 250 KiB of its body, never the rest), `tls-idle` (TCP sockets to the TLS
 * port that never start a handshake), `https-idle` (the same to HTTPS_PORT; the
 * figure of a real client is then an HTTPS GET /healthz, new connection each,
 * besides the device's CONNACK), `ws-idle` (half an upgrade request). They are
 * held `--hold` seconds (default 2; more than a timeout shows it close them). The
 * sockets come from 127.0.2.1 and up, `--per-address` each (default 100). `wrong-secret`
 * (`--sockets` CONNECTs of the device with a wrong secret, one after the other, from
 * 127.0.2.1) and `flapping` (as many CONNECTs of the device with its secret, each
 * closed once its CONNACK came) count the CONNACK codes instead. `--main` runs
 * another checkout's entry point (the before of a before/after).
 */
import { readSecretKeys } from '../src/config.ts';
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { ROOT, startService } from '../simulators/harness/service-process.ts';
import { connectClient } from '../simulators/mqtt-connect.ts';
import { openProvisioner } from '../src/cli/provisioner.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({
  options: {
    attack: { type: 'string', default: 'partial-connect' },
    sockets: { type: 'string', default: '1500' },
    main: { type: 'string' },
    prefix: { type: 'string', default: 'vitalink_abuse' },
    hold: { type: 'string', default: '2' },
    'per-address': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
  },
});
const ATTACKS = ['partial-connect', 'tls-idle', 'https-idle', 'ws-idle', 'wrong-secret', 'flapping'] as const;
const attack = values.attack as (typeof ATTACKS)[number];
if (!ATTACKS.includes(attack)) {
  process.stderr.write(`listener-abuse: --attack is one of ${ATTACKS.join(', ')}\n`);
  process.exit(2);
}
const count = Number(values.sockets);
const perAddress = Number(values['per-address']);
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('listener-abuse: set DATABASE_URL to a PostgreSQL server where a database may be created\n');
  process.exit(2);
}

const TLS = path.join(ROOT, 'test', 'fixtures', 'tls');
const scratch = await createScratchDatabase(base, { prefix: values.prefix });
const provisioner = await openProvisioner(scratch.url, createLogger('warn', process.stderr), {
  migrate: true,
  secretKeys: readSecretKeys(process.env).keys,
});
await provisioner.addPatient({ id: 'abuse-p' });
const secret = (await provisioner.addDevice({ id: 'abuse-d', patientId: 'abuse-p' }, new Date(Date.now() - 86_400_000)))
  .secret;
await provisioner.close();

const service = await startService(
  {
    DATABASE_URL: scratch.url,
    LOG_LEVEL: 'info', // the harness waits for the 'vitalink started' line
    MQTT_TLS_PORT: '0',
    TLS_CERT_FILE: path.join(TLS, 'cert.pem'),
    TLS_KEY_FILE: path.join(TLS, 'key.pem'),
    MQTT_WS_PORT: '0',
    HTTPS_PORT: '0',
  },
  { keepLogs: false, main: values.main },
);
const pid = service.child.pid!;
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1]) / 1024);
};
const fds = () => readdirSync(`/proc/${pid}/fd`).length;
const openSockets = async () => {
  const text = await (await fetch(`http://127.0.0.1:${service.ports.http}/metrics`)).text();
  const n = [...text.matchAll(/^vitalink_listener_open_sockets\{[^}]*\} (\d+)$/gm)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
  return text.includes('vitalink_listener_open_sockets') ? n : null; // null: a build without the gauge
};

/** Milliseconds from opening a connection to the CONNACK of the real device (median of 3). */
async function connackMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const client = await connectClient(`mqtt://127.0.0.1:${service.ports.mqtt}`, {
      clientId: 'abuse-d',
      username: 'abuse-d',
      password: secret,
      connectTimeout: 60_000,
      reconnectPeriod: 0,
    });
    times.push(performance.now() - t0);
    await client.endAsync();
  }
  times.sort((a, b) => a - b);
  return Math.round(times[1]);
}

/**
 * Milliseconds of an HTTPS GET /healthz on a new connection, handshake included
 * (median of 3), or the error code of a refused one (`ECONNRESET` when a cap is
 * full); `https-idle` only.
 */
async function httpsMs(): Promise<number | string | undefined> {
  if (attack !== 'https-idle') return undefined;
  try {
    return await httpsGets();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

async function httpsGets(): Promise<number> {
  const ca = readFileSync(path.join(TLS, 'cert.pem'));
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      https
        .get(
          { host: '127.0.0.1', port: service.ports.https, path: '/healthz', servername: 'localhost', ca, agent: false },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        )
        .on('error', reject);
    });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[1]!);
}

const settle = () => new Promise((r) => setTimeout(r, 1_000));
await settle();
const before = {
  rssMb: rssMb(),
  fds: fds(),
  openSockets: await openSockets(),
  connackMs: await connackMs(),
  httpsMs: await httpsMs(),
};

if (attack === 'wrong-secret' || attack === 'flapping') {
  const codes: Record<string, number> = {};
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const code = await rawConnack(attack === 'flapping' ? secret : 'not-the-secret');
    codes[code] = (codes[code] ?? 0) + 1;
  }
  const elapsedMs = Math.round(performance.now() - t0);
  const text = await (await fetch(`http://127.0.0.1:${service.ports.http}/metrics`)).text();
  const refused = Object.fromEntries(
    [...text.matchAll(/^vitalink_connections_refused_total\{reason="([^"]+)"\} (\d+)$/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );
  const device = { connackMs: await connackMs().catch((e: Error) => e.message) };
  await service.stop();
  await scratch.drop();
  process.stdout.write(
    `${JSON.stringify({ attack, connects: count, elapsedMs, connackCodes: codes, refused, device, loadavg: readFileSync('/proc/loadavg', 'utf8').trim() })}\n`,
  );
  process.exit(0);
}

/** One CONNECT of the device from 127.0.2.1 over a raw socket; the CONNACK's return code ('closed' without one). */
function rawConnack(password: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port: service.ports.mqtt, host: '127.0.0.1', localAddress: '127.0.2.1' });
    s.on('error', () => {});
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got[0] === 0x20) {
        resolve(String(got[3]));
        s.destroy();
      }
    });
    s.on('close', () => resolve('closed'));
    const id = Buffer.from('abuse-d');
    const pw = Buffer.from(password);
    const payload = Buffer.concat([
      Buffer.from([0x00, 0x04]),
      Buffer.from('MQTT'),
      Buffer.from([0x04, 0xc2, 0x00, 0x1e]),
      Buffer.from([0x00, id.length]),
      id,
      Buffer.from([0x00, id.length]),
      id,
      Buffer.from([0x00, pw.length]),
      pw,
    ]);
    s.write(Buffer.concat([Buffer.from([0x10, payload.length]), payload]));
  });
}

const sockets: net.Socket[] = [];
let refusedOrClosed = 0;
const port =
  attack === 'tls-idle'
    ? service.ports.mqtts!
    : attack === 'https-idle'
      ? service.ports.https!
      : attack === 'ws-idle'
        ? service.ports.mqttWs!
        : service.ports.mqtt;
const body = Buffer.alloc(250 * 1024, 0x41);
// CONNECT, remaining length 262,144 (0x80 0x80 0x10), then the start of the body.
const connectHeader = Buffer.from([0x10, 0x80, 0x80, 0x10, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc2, 0x00, 0x1e]);
const t0 = performance.now();
await Promise.all(
  Array.from(
    { length: count },
    (_, i) =>
      new Promise<void>((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.2.${Math.floor(i / perAddress) + 1}` });
        sockets.push(s);
        s.on('error', () => {});
        s.on('close', () => refusedOrClosed++);
        s.resume();
        s.once('close', () => resolve());
        s.once('connect', () => {
          if (attack === 'partial-connect') {
            s.write(connectHeader);
            s.write(body, () => resolve());
          } else if (attack === 'ws-idle') {
            s.write('GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n', () => resolve());
          } else resolve();
        });
      }),
  ),
);
const openedMs = Math.round(performance.now() - t0);
// The device right away, then the peak over the next seconds (within the default 10 s timeouts).
const during = {
  connackMs: await connackMs(),
  httpsMs: await httpsMs(),
  rssMb: rssMb(),
  fds: fds(),
  openSockets: await openSockets(),
};
let peakRss = during.rssMb;
const holdUntil = performance.now() + Number(values.hold) * 1000;
while (performance.now() < holdUntil) {
  await new Promise((r) => setTimeout(r, 200));
  peakRss = Math.max(peakRss, rssMb());
}
const held = { closedByService: refusedOrClosed, stillOpenAtClient: sockets.filter((s) => !s.destroyed).length };
const heldService = { rssMb: rssMb(), fds: fds(), openSockets: await openSockets() };
for (const s of sockets) s.destroy();
await settle();
const after = { rssMb: rssMb(), fds: fds(), openSockets: await openSockets() };
await service.stop();
await scratch.drop();

const result = {
  attack,
  sockets: count,
  openedMs,
  before,
  during: { ...during, peakRssMb: peakRss },
  afterHold: { holdS: Number(values.hold), ...held, ...heldService },
  after,
  loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
};
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
