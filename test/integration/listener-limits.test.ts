import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

/**
 * README, "Security", "Limits on the MQTT listeners": every bound against the real
 * service, with raw sockets (node:net, node:tls, ws) and real MQTT clients, on
 * loopback. Other source addresses are simulated with 127.0.0.2 and up as local
 * addresses (Linux routes all of 127.0.0.0/8 to lo). No timing is asserted: only
 * bounded waits for the event, and counts the service reports in /metrics.
 */

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls');
const TLS_CERT_FILE = path.join(TLS_DIR, 'cert.pem');
const TLS_KEY_FILE = path.join(TLS_DIR, 'key.pem');
const CA = readFileSync(TLS_CERT_FILE);

const CONNECT_TIMEOUT_MS = 2_000;
const TLS_HANDSHAKE_TIMEOUT_MS = 8_000;
const WS_HANDSHAKE_TIMEOUT_MS = 3_000;
const PER_ADDRESS = 100;

const DEVICE = 'll-dev-1';
const secrets: Record<string, string> = {};

const t = useTestService({
  env: {
    MQTT_TLS_PORT: '0',
    TLS_CERT_FILE,
    TLS_KEY_FILE,
    MQTT_WS_PORT: '0',
    VITALINK_MQTT_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    VITALINK_TLS_HANDSHAKE_TIMEOUT_MS: String(TLS_HANDSHAKE_TIMEOUT_MS),
    VITALINK_WS_HANDSHAKE_TIMEOUT_MS: String(WS_HANDSHAKE_TIMEOUT_MS),
    VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
  },
  beforeStart: async (fixture) => {
    secrets[DEVICE] = await fixture.provisionDevice(DEVICE);
  },
});

const opened: net.Socket[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  // Every socket of a test is gone from the service before the next one starts.
  await waitFor(async () => (await openSockets()).total === 0, 'the service to count no open socket', 20_000);
});

async function metricsText(): Promise<string> {
  return (await fetch(`${t.httpUrl}/metrics`)).text();
}

function refusals(text: string, listener: string, reason: string): number {
  const m = new RegExp(
    `^vitalink_listener_refusals_total\\{listener="${listener}",reason="${reason}"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return m ? Number(m[1]) : 0;
}

async function openSockets(): Promise<{ mqtt: number; mqtts: number; ws: number; total: number }> {
  const text = await metricsText();
  const get = (l: string) =>
    Number(new RegExp(`^vitalink_listener_open_sockets\\{listener="${l}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const r = { mqtt: get('mqtt'), mqtts: get('mqtts'), ws: get('mqtt-ws') };
  return { ...r, total: r.mqtt + r.mqtts + r.ws };
}

/** A raw TCP socket from `localAddress`; resolves once connected. */
function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    opened.push(s);
    // Flowing: a socket that is never read does not see the end of what the service sent, nor its close.
    s.resume();
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed && s.closed) return resolve();
    s.once('close', () => resolve());
  });
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function connectPacket(clientId: string, password: string): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive: 30,
    username: clientId,
    password: Buffer.from(password),
  });
}

/** Number of descriptors this process holds (the service runs in it). */
const descriptors = () => readdirSync('/proc/self/fd').length;

describe('TLS handshake timeout', () => {
  it('closes 2,000 sockets that never finish a handshake, while a real device connects over TLS', async () => {
    const before = await metricsText();
    const fdsBefore = descriptors();
    const port = t.ports.mqtts!;
    // 20 source addresses of 100 sockets each: the per-address cap is not what closes them.
    const sockets: net.Socket[] = [];
    for (let a = 0; a < 20; a++) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => rawSocket(port, `127.0.1.${a + 1}`)));
      for (const s of batch) s.on('error', () => {});
      sockets.push(...batch);
    }
    // Half of them send the start of a ClientHello, the rest nothing.
    for (const s of sockets.slice(0, 1000)) s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const device = await bounded(
      t.connectDevice(
        DEVICE,
        secrets[DEVICE],
        { ca: CA, servername: 'localhost', connectTimeout: 5_000 },
        `mqtts://127.0.0.1:${port}`,
      ),
      10_000,
      'the TLS device CONNACK',
    );
    expect((await openSockets()).mqtts).toBeGreaterThanOrEqual(2_000);
    await t.publish(device, DEVICE, [heartRate('ll-tls-1', 61)]);
    // Every one is closed by the service (the client side sees the close).
    await bounded(Promise.all(sockets.map(closed)), TLS_HANDSHAKE_TIMEOUT_MS + 20_000, 'the 2,000 sockets to close');
    const after = await metricsText();
    expect(refusals(after, 'mqtts', 'tls_handshake_timeout') - refusals(before, 'mqtts', 'tls_handshake_timeout')).toBe(
      2_000,
    );
    // The device's session is all that is left open; descriptors came back.
    await waitFor(async () => (await openSockets()).mqtts === 1, 'the service to hold the device socket only');
    expect(descriptors()).toBeLessThan(fdsBefore + 50);
    device.end();
  }, 90_000);

  it('closes a socket whose handshake is not TLS at all, and counts it as failed', async () => {
    const before = await metricsText();
    const s = await rawSocket(t.ports.mqtts!);
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\n\r\n');
    await bounded(closed(s), 10_000, 'the close');
    const after = await metricsText();
    expect(refusals(after, 'mqtts', 'tls_handshake_failed') - refusals(before, 'mqtts', 'tls_handshake_failed')).toBe(
      1,
    );
  });
});

describe('CONNECT timeout, on every listener', () => {
  it('closes a TCP socket that sends nothing', async () => {
    const before = refusals(await metricsText(), 'mqtt', 'connect_timeout');
    const s = await rawSocket(t.ports.mqtt!);
    await bounded(closed(s), CONNECT_TIMEOUT_MS + 10_000, 'the close');
    expect(refusals(await metricsText(), 'mqtt', 'connect_timeout')).toBe(before + 1);
  });

  it('closes a TCP socket that sends a partial CONNECT under the bound', async () => {
    const before = refusals(await metricsText(), 'mqtt', 'connect_timeout');
    const s = await rawSocket(t.ports.mqtt!);
    s.write(connectPacket(DEVICE, secrets[DEVICE]).subarray(0, 10));
    await bounded(closed(s), CONNECT_TIMEOUT_MS + 10_000, 'the close');
    expect(refusals(await metricsText(), 'mqtt', 'connect_timeout')).toBe(before + 1);
  });

  it('closes a TLS connection that finished its handshake and sends nothing', async () => {
    const before = refusals(await metricsText(), 'mqtts', 'connect_timeout');
    const s = tls.connect({ port: t.ports.mqtts!, host: '127.0.0.1', ca: CA, servername: 'localhost' });
    opened.push(s);
    s.on('error', () => {});
    await bounded(new Promise((r) => s.once('secureConnect', r)), 10_000, 'the handshake');
    await bounded(closed(s), CONNECT_TIMEOUT_MS + 10_000, 'the close');
    expect(refusals(await metricsText(), 'mqtts', 'connect_timeout')).toBe(before + 1);
  });

  it('closes an upgraded WebSocket that sends nothing', async () => {
    const before = refusals(await metricsText(), 'mqtt-ws', 'connect_timeout');
    const ws = new WebSocket(`ws://127.0.0.1:${t.ports.mqttWs}/mqtt`, 'mqtt');
    ws.on('error', () => {});
    await bounded(new Promise((r) => ws.once('open', r)), 10_000, 'the upgrade');
    await bounded(new Promise((r) => ws.once('close', r)), CONNECT_TIMEOUT_MS + 10_000, 'the close');
    expect(refusals(await metricsText(), 'mqtt-ws', 'connect_timeout')).toBe(before + 1);
  });
});

describe('WebSocket upgrade timeout', () => {
  it('closes a socket whose upgrade request never ends, with 408', async () => {
    const before = refusals(await metricsText(), 'mqtt-ws', 'ws_handshake_timeout');
    const s = await rawSocket(t.ports.mqttWs!);
    s.on('error', () => {});
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    s.write('GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await bounded(closed(s), WS_HANDSHAKE_TIMEOUT_MS + 10_000, 'the close');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(refusals(await metricsText(), 'mqtt-ws', 'ws_handshake_timeout')).toBe(before + 1);
  });

  it('closes a socket that sends nothing at all', async () => {
    const before = refusals(await metricsText(), 'mqtt-ws', 'ws_handshake_timeout');
    const s = await rawSocket(t.ports.mqttWs!);
    s.on('error', () => {});
    await bounded(closed(s), WS_HANDSHAKE_TIMEOUT_MS + 10_000, 'the close');
    expect(refusals(await metricsText(), 'mqtt-ws', 'ws_handshake_timeout')).toBe(before + 1);
  });

  it('still upgrades and serves a device over WebSocket, 20 KiB messages included once authenticated', async () => {
    const device = await t.connectDevice(DEVICE, secrets[DEVICE], {}, `ws://127.0.0.1:${t.ports.mqttWs}/mqtt`);
    await t.publish(device, DEVICE, JSON.stringify({ readings: [heartRate('ll-ws-1', 64)] }) + ' '.repeat(20 * 1024));
    const { rows } = await t.query('SELECT 1 FROM readings WHERE device_id = $1 AND reading_id = $2', [
      DEVICE,
      'll-ws-1',
    ]);
    expect(rows).toHaveLength(1);
    device.end();
  });

  it('closes an upgraded WebSocket at the header of a first message over the pre-CONNECT bound, unbuffered', async () => {
    const text = await metricsText();
    const before = refusals(text, 'mqtt-ws', 'connect_too_large');
    const timeoutsBefore = refusals(text, 'mqtt-ws', 'connect_timeout');
    const ws = new WebSocket(`ws://127.0.0.1:${t.ports.mqttWs}/mqtt`, 'mqtt');
    ws.on('error', () => {});
    await bounded(new Promise((r) => ws.once('open', r)), 10_000, 'the upgrade');
    const closedWs = new Promise((r) => ws.once('close', r));
    // A masked binary frame declaring 200 KiB, and 1 KiB of it: the service must not
    // wait for (and buffer) the rest before refusing it.
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(200n * 1024n);
    const frame = Buffer.concat([Buffer.from([0x82, 0x80 | 127]), length, Buffer.alloc(4), Buffer.alloc(1024)]);
    (ws as unknown as { _socket: net.Socket })._socket.write(frame);
    await bounded(closedWs, CONNECT_TIMEOUT_MS + 10_000, 'the close');
    const after = await metricsText();
    expect(refusals(after, 'mqtt-ws', 'connect_too_large')).toBe(before + 1);
    expect(refusals(after, 'mqtt-ws', 'connect_timeout')).toBe(timeoutsBefore);
  });
});

describe('frame bound before authentication', () => {
  it('closes a CONNECT that declares more than 8 KiB as soon as its header arrives', async () => {
    const before = refusals(await metricsText(), 'mqtt', 'connect_too_large');
    const s = await rawSocket(t.ports.mqtt!);
    s.on('error', () => {});
    // CONNECT, remaining length 9000 (0xa8 0x46), and a few bytes of it.
    s.write(Buffer.from([0x10, 0xa8, 0x46, 0x00, 0x04, 0x4d, 0x51]));
    await bounded(closed(s), 5_000, 'the close');
    expect(refusals(await metricsText(), 'mqtt', 'connect_too_large')).toBe(before + 1);
  });

  it('applies the bound to a pipelined publish before CONNACK, and lets an authenticated device send 20 KiB', async () => {
    const before = refusals(await metricsText(), 'mqtt', 'connect_too_large');
    const s = await rawSocket(t.ports.mqtt!);
    s.on('error', () => {});
    const big = mqttPacket.generate({
      cmd: 'publish',
      topic: `v1/devices/${DEVICE}/readings`,
      payload: Buffer.alloc(20 * 1024, 0x20),
      qos: 0,
      retain: false,
      dup: false,
    });
    s.write(Buffer.concat([connectPacket(DEVICE, 'wrong-secret-of-a-pipelining-client'), big]));
    await bounded(closed(s), 5_000, 'the close');
    expect(refusals(await metricsText(), 'mqtt', 'connect_too_large')).toBe(before + 1);

    const device = await t.connectDevice(DEVICE, secrets[DEVICE]);
    const reading = JSON.stringify({ readings: [heartRate('ll-big-1', 62)] });
    await t.publish(device, DEVICE, reading + ' '.repeat(20 * 1024));
    const { rows } = await t.query('SELECT 1 FROM readings WHERE device_id = $1 AND reading_id = $2', [
      DEVICE,
      'll-big-1',
    ]);
    expect(rows).toHaveLength(1);
    device.end();
  });
});

describe('connection cap per source address', () => {
  it('refuses the 101st socket of one address, while a device from another address connects', async () => {
    const before = refusals(await metricsText(), 'mqtt', 'max_connections_per_address');
    const held = await Promise.all(Array.from({ length: PER_ADDRESS }, () => rawSocket(t.ports.mqtt!, '127.0.0.9')));
    for (const s of held) s.on('error', () => {});
    const extra = await rawSocket(t.ports.mqtt!, '127.0.0.9').catch(() => undefined);
    extra?.on('error', () => {});
    if (extra) await bounded(closed(extra), 5_000, 'the refused socket to close');
    expect(refusals(await metricsText(), 'mqtt', 'max_connections_per_address')).toBe(before + 1);
    // The cap is per address: the device (127.0.0.1) is served, and so is another address over TLS.
    const device = await bounded(t.connectDevice(DEVICE, secrets[DEVICE]), 10_000, 'the device CONNACK');
    await t.publish(device, DEVICE, [heartRate('ll-cap-1', 63)]);
    device.end();
    const other = await rawSocket(t.ports.mqtts!, '127.0.0.10');
    other.on('error', () => {});
    // The 100 held sockets are still open: nothing else closed them.
    expect(held.every((s) => !s.destroyed)).toBe(true);
    expect((await openSockets()).mqtt).toBeGreaterThanOrEqual(PER_ADDRESS);
  });

  it('counts one address across listeners: its sockets on TLS and WebSocket count toward the same cap', async () => {
    const before = refusals(await metricsText(), 'mqtt-ws', 'max_connections_per_address');
    const onTcp = await Promise.all(Array.from({ length: 60 }, () => rawSocket(t.ports.mqtt!, '127.0.0.11')));
    const onTls = await Promise.all(Array.from({ length: 40 }, () => rawSocket(t.ports.mqtts!, '127.0.0.11')));
    for (const s of [...onTcp, ...onTls]) s.on('error', () => {});
    // Each listener accepts from its own queue: wait until the service has counted the 100.
    await waitFor(async () => {
      const open = await openSockets();
      return open.mqtt === 60 && open.mqtts === 40;
    }, 'the service to count the 100 sockets');
    const extra = await rawSocket(t.ports.mqttWs!, '127.0.0.11').catch(() => undefined);
    extra?.on('error', () => {});
    if (extra) await bounded(closed(extra), 5_000, 'the refused socket to close');
    expect(refusals(await metricsText(), 'mqtt-ws', 'max_connections_per_address')).toBe(before + 1);
  });
});
