import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { useTestService } from '../fixture.ts';
import { startTestApp } from '../helpers/app.ts';
import { connectDevice, heartRate } from '../helpers/device.ts';

/** device-protocol.md, "Transport": MQTT over TLS and over WebSocket (path /mqtt). */

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls');
const TLS_CERT_FILE = path.join(TLS_DIR, 'cert.pem');
const TLS_KEY_FILE = path.join(TLS_DIR, 'key.pem');

const secrets: Record<string, string> = {};

const TLS_DEVICE = 'tr-tls-1';
const WS_DEVICE = 'tr-ws-1';
const WS_BIG = 'tr-ws-big-1';
const PLAIN = 'tr-plain-1';
const TLS_BIG = 'tr-tls-big-1';

const readingsTopic = (id: string) => `v1/devices/${id}/readings`;

// The devices exist before the service starts.
const t = useTestService({
  env: { MQTT_TLS_PORT: '0', TLS_CERT_FILE, TLS_KEY_FILE, MQTT_WS_PORT: '0' },
  beforeStart: async (fixture) => {
    for (const id of [TLS_DEVICE, TLS_BIG, WS_DEVICE, WS_BIG, PLAIN]) secrets[id] = await fixture.provisionDevice(id);
  },
});

async function connect(url: string, id: string, options: Parameters<typeof connectDevice>[3] = {}) {
  const client = await t.connectDevice(id, secrets[id], options, url);
  client.on('error', () => {});
  return client;
}

/** Publishes 300 KiB (over the protocol's 256 KiB) and waits for the service to close the connection. */
async function publishOversizeAndWaitForClose(client: MqttClient, deviceId: string): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const payload = `{"readings": [${JSON.stringify(heartRate(`${deviceId}-big`))}]}${' '.repeat(300 * 1024)}`;
  client.publish(readingsTopic(deviceId), payload, { qos: 1 }, () => {});
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('the connection was not closed within 5 s')), 5_000);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function expectNothingStored(deviceId: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  expect(await readingIds(deviceId)).toEqual([]);
  const { rows } = await t.query('SELECT count(*)::int AS n FROM rejections WHERE device_id = $1', [deviceId]);
  expect(rows[0].n).toBe(0);
}

async function readingIds(deviceId: string): Promise<string[]> {
  const { rows } = await t.query('SELECT reading_id FROM readings WHERE device_id = $1 ORDER BY reading_id', [
    deviceId,
  ]);
  return rows.map((r) => r.reading_id);
}

describe('MQTT over TLS', () => {
  it('listens on its own port, distinct from the plain one', () => {
    expect(t.ports.mqtts).toBeGreaterThan(0);
    expect(t.ports.mqtts).not.toBe(t.ports.mqtt);
  });

  it('stores a reading published over TLS, with the certificate verified against the fixture', async () => {
    const client = await connect(`mqtts://127.0.0.1:${t.ports.mqtts}`, TLS_DEVICE, {
      ca: readFileSync(TLS_CERT_FILE),
      servername: 'localhost',
      rejectUnauthorized: true,
    });
    const socket = client.stream as unknown as { encrypted?: boolean; authorized?: boolean };
    expect(socket.encrypted).toBe(true);
    expect(socket.authorized).toBe(true);
    await client.publishAsync(readingsTopic(TLS_DEVICE), JSON.stringify(heartRate('tls-1', 64)), { qos: 1 });
    expect(await readingIds(TLS_DEVICE)).toEqual(['tls-1']);
  });

  it('closes a TLS connection that publishes 300 KiB, storing nothing', async () => {
    const client = await connect(`mqtts://127.0.0.1:${t.ports.mqtts}`, TLS_BIG, {
      ca: readFileSync(TLS_CERT_FILE),
      servername: 'localhost',
    });
    await publishOversizeAndWaitForClose(client, TLS_BIG);
    await expectNothingStored(TLS_BIG);
  });

  it('refuses wrong credentials over TLS too', async () => {
    const error = await t
      .connectDevice(
        TLS_DEVICE,
        'not-the-secret',
        { ca: readFileSync(TLS_CERT_FILE), servername: 'localhost' },
        `mqtts://127.0.0.1:${t.ports.mqtts}`,
      )
      .then(
        () => {
          throw new Error('connected with a wrong secret');
        },
        (e: unknown) => e as { code?: number },
      );
    expect(error.code).toBe(4);
  });
});

describe('MQTT over WebSocket', () => {
  it('stores a reading published over WebSocket on /mqtt', async () => {
    expect(t.ports.mqttWs).toBeGreaterThan(0);
    const client = await connect(`ws://127.0.0.1:${t.ports.mqttWs}/mqtt`, WS_DEVICE);
    await client.publishAsync(readingsTopic(WS_DEVICE), JSON.stringify(heartRate('ws-1', 66)), { qos: 1 });
    expect(await readingIds(WS_DEVICE)).toEqual(['ws-1']);
  });

  it('closes a WebSocket connection that publishes 300 KiB, storing nothing', async () => {
    const client = await connect(`ws://127.0.0.1:${t.ports.mqttWs}/mqtt`, WS_BIG);
    await publishOversizeAndWaitForClose(client, WS_BIG);
    await expectNothingStored(WS_BIG);
  });

  it('answers plain HTTP on the WebSocket port with 426, pointing at /mqtt', async () => {
    const res = await fetch(`http://127.0.0.1:${t.ports.mqttWs}/`);
    expect(res.status).toBe(426);
    expect(await res.text()).toContain('/mqtt');
  });
});

describe('listener configuration', () => {
  it('refuses an incomplete TLS configuration, naming the missing variables', () => {
    const attempt = (env: Record<string, string>) => {
      try {
        loadConfig({ MQTT_PORT: '0', HTTP_PORT: '0', ...env });
      } catch (error) {
        return error;
      }
      throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
    };
    const onlyPort = attempt({ MQTT_TLS_PORT: '0' });
    expect(onlyPort).toBeInstanceOf(ConfigError);
    expect((onlyPort as ConfigError).message).toContain('TLS_CERT_FILE');
    expect((onlyPort as ConfigError).message).toContain('TLS_KEY_FILE');

    const noKey = attempt({ MQTT_TLS_PORT: '8883', TLS_CERT_FILE });
    expect(noKey).toBeInstanceOf(ConfigError);
    expect((noKey as ConfigError).message).toContain('TLS_KEY_FILE');

    const noPort = attempt({ TLS_CERT_FILE, TLS_KEY_FILE });
    expect(noPort).toBeInstanceOf(ConfigError);
    expect((noPort as ConfigError).message).toContain('MQTT_TLS_PORT');
  });

  it('turns the TLS and WebSocket listeners on only when asked', () => {
    const off = loadConfig({ MQTT_PORT: '0', HTTP_PORT: '0' });
    expect(off.tls).toBeUndefined();
    expect(off.wsPort).toBeUndefined();
    const on = loadConfig({ MQTT_PORT: '0', MQTT_TLS_PORT: '8883', TLS_CERT_FILE, TLS_KEY_FILE, MQTT_WS_PORT: '8081' });
    expect(on.tls).toEqual({ port: 8883, certFile: TLS_CERT_FILE, keyFile: TLS_KEY_FILE });
    expect(on.wsPort).toBe(8081);
  });

  it('opens no TLS or WebSocket listener when MQTT_TLS_PORT and MQTT_WS_PORT are unset', async () => {
    const plain = await startTestApp(t.database);
    try {
      expect(plain.ports.mqtt).toBeGreaterThan(0);
      expect(plain.ports.mqtts).toBeUndefined();
      expect(plain.ports.mqttWs).toBeUndefined();
      const client = await connect(`mqtt://127.0.0.1:${plain.ports.mqtt}`, PLAIN);
      await client.publishAsync(readingsTopic(PLAIN), JSON.stringify(heartRate('plain-1')), { qos: 1 });
      expect(await readingIds(PLAIN)).toEqual(['plain-1']);
      await client.endAsync();
    } finally {
      await plain.stop();
    }
  });
});
