import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { type Pair, ScratchPki } from '../helpers/pki.ts';

/**
 * README, "Security", "Device certificates", with VITALINK_DEVICE_CERTS=required:
 * a device on MQTT_TLS_PORT presents a certificate issued by VITALINK_DEVICE_CA_FILE
 * whose CN is its id, and still its secret. Revocation goes through
 * VITALINK_DEVICE_CRL_FILE, re-read without a restart. Real TLS sockets and
 * mqtt.js; the CA, certificates and CRLs are made by openssl in a scratch folder.
 */

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls');
const SERVER_CA = readFileSync(path.join(TLS_DIR, 'cert.pem'));

const pki = new ScratchPki();
afterAll(() => pki.remove());

const DEVICE = 'mtls-dev-1';
const OTHER = 'mtls-dev-2';
const REVOKED = 'mtls-dev-3';
const secrets: Record<string, string> = {};
const certs: Record<string, Pair> = {};
const crlFile = pki.file('devices.crl.pem');

const t = useTestService({
  env: () => {
    const ca = pki.deviceCa();
    for (const id of [DEVICE, OTHER, REVOKED]) certs[id] = pki.deviceCert(id, id);
    pki.writeCrl(crlFile);
    return {
      MQTT_TLS_PORT: '0',
      TLS_CERT_FILE: path.join(TLS_DIR, 'cert.pem'),
      TLS_KEY_FILE: path.join(TLS_DIR, 'key.pem'),
      VITALINK_DEVICE_CERTS: 'required',
      VITALINK_DEVICE_CA_FILE: ca,
      VITALINK_DEVICE_CRL_FILE: crlFile,
      VITALINK_TLS_RELOAD_INTERVAL_MS: '100',
    };
  },
  beforeStart: async (fixture) => {
    await fixture.addPatient('p-mtls-1');
    for (const id of [DEVICE, OTHER, REVOKED]) secrets[id] = await fixture.provisionDevice(id, 'p-mtls-1');
  },
});

const mqttsUrl = () => `mqtts://127.0.0.1:${t.ports.mqtts}`;

function tlsOptions(cert?: Pair): IClientOptions {
  return {
    ca: SERVER_CA,
    servername: 'localhost',
    rejectUnauthorized: true,
    ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
  };
}

async function metricsText(): Promise<string> {
  return (await fetch(`${t.httpUrl}/metrics`)).text();
}

function counter(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

const listenerRefusals = async (reason: string) =>
  counter(await metricsText(), 'vitalink_listener_refusals_total', `listener="mqtts",reason="${reason}"`);

/**
 * A raw TLS connection with `cert` (or none) that sends the CONNECT of `deviceId`
 * with its secret: `connack` when the service answers it, `closed` when the
 * service closed the socket without answering (it refused the certificate).
 */
async function tlsOutcome(cert: Pair | undefined, deviceId = DEVICE): Promise<'connack' | 'closed'> {
  return (await tlsAttempt(cert, deviceId)).outcome;
}

interface Attempt {
  readonly outcome: 'connack' | 'closed';
  /** The TLS session the service gave (to resume it later). */
  readonly session: Buffer | undefined;
  /** Whether the handshake resumed the session it was offered. */
  readonly reused: boolean;
}

/** tlsOutcome, offering `session` for resumption, with the session given and whether it was resumed. */
function tlsAttempt(cert: Pair | undefined, deviceId: string, session?: Buffer): Promise<Attempt> {
  return new Promise((resolveAttempt, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: t.ports.mqtts!,
      ...tlsOptions(cert),
      session,
    } as tls.ConnectionOptions);
    let given: Buffer | undefined;
    let reused = false;
    socket.on('session', (s: Buffer) => (given = s));
    const resolve = (outcome: Attempt['outcome']) => resolveAttempt({ outcome, session: given, reused });
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: deviceId,
          keepalive: 30,
          username: deviceId,
          password: Buffer.from(secrets[deviceId]!),
        }),
      );
    });
    socket.once('data', () => {
      resolve('connack');
      socket.destroy();
    });
    socket.once('close', () => resolve('closed'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE' && !/alert|certificate/i.test(err.message)) reject(err);
    });
  });
}

async function refusedCode(options: IClientOptions): Promise<number | undefined> {
  try {
    await t.mqttClient({ reconnectPeriod: 0, connectTimeout: 5_000, ...options }, mqttsUrl());
  } catch (error) {
    return (error as { code?: number }).code;
  }
  throw new Error('the CONNECT was accepted');
}

describe('device certificates required', () => {
  it('connects a device with its certificate and its secret, and acknowledges its publish after storing it', async () => {
    const client = await t.connectDevice(DEVICE, secrets[DEVICE], tlsOptions(certs[DEVICE]), mqttsUrl());
    await t.publish(client, DEVICE, [heartRate('mtls-r-1', 70)]);
    const { rows } = await t.query('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [DEVICE]);
    expect(rows[0].n).toBe(1);
    await client.endAsync();
  });

  it('closes a connection without a certificate after the handshake, and counts it', async () => {
    const before = await listenerRefusals('device_cert_missing');
    expect(await tlsOutcome(undefined)).toBe('closed');
    expect((await listenerRefusals('device_cert_missing')) - before).toBe(1);
    // mqtt.js sees the connection closed, never a CONNACK.
    const client = mqtt.connect(mqttsUrl(), {
      clientId: DEVICE,
      username: DEVICE,
      password: secrets[DEVICE],
      reconnectPeriod: 0,
      ...tlsOptions(),
    });
    client.on('error', () => {});
    let connected = false;
    client.on('connect', () => (connected = true));
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    await client.endAsync(true);
    expect(connected).toBe(false);
  });

  it('refuses with CONNACK 5 a certificate of another device, even with the right secret', async () => {
    const before = counter(await metricsText(), 'vitalink_connections_refused_total', 'reason="device_cert_mismatch"');
    const code = await refusedCode({
      clientId: DEVICE,
      username: DEVICE,
      password: secrets[DEVICE],
      ...tlsOptions(certs[OTHER]),
    });
    expect(code).toBe(5);
    const after = counter(await metricsText(), 'vitalink_connections_refused_total', 'reason="device_cert_mismatch"');
    expect(after - before).toBe(1);
  });

  it('still asks for the secret: the right certificate with a wrong secret is refused with CONNACK 4', async () => {
    const code = await refusedCode({
      clientId: DEVICE,
      username: DEVICE,
      password: 'not-the-secret',
      ...tlsOptions(certs[DEVICE]),
    });
    expect(code).toBe(4);
  });

  it('closes a certificate from another CA after the handshake', async () => {
    const stranger = new ScratchPki();
    try {
      stranger.deviceCa('Stranger CA');
      const foreign = stranger.deviceCert('foreign', DEVICE);
      const before = await listenerRefusals('device_cert_invalid');
      expect(await tlsOutcome(foreign)).toBe('closed');
      expect((await listenerRefusals('device_cert_invalid')) - before).toBe(1);
    } finally {
      stranger.remove();
    }
  });

  it('refuses a certificate revoked in the CRL on the next connection, without a restart', async () => {
    // Accepted before the revocation.
    const earlier = await tlsAttempt(certs[REVOKED], REVOKED);
    expect(earlier.outcome).toBe('connack');
    expect(earlier.session).toBeDefined();
    // The service resumes TLS sessions (a resumed handshake presents no certificate to check again).
    expect(await tlsAttempt(certs[REVOKED], REVOKED, earlier.session)).toMatchObject({
      outcome: 'connack',
      reused: true,
    });
    const live = await t.connectDevice(REVOKED, secrets[REVOKED], tlsOptions(certs[REVOKED]), mqttsUrl());
    await live.endAsync();

    pki.revoke(certs[REVOKED].cert);
    pki.writeCrl(crlFile);
    const before = await listenerRefusals('device_cert_invalid');
    await waitFor(
      async () => (await tlsOutcome(certs[REVOKED], REVOKED)) === 'closed',
      'the revoked certificate to be refused',
    );
    // Nor can it resume the TLS session it had before the revocation (the reload starts new session keys).
    const resumed = await tlsAttempt(certs[REVOKED], REVOKED, earlier.session);
    expect(resumed).toMatchObject({ outcome: 'closed', reused: false });
    expect((await listenerRefusals('device_cert_invalid')) - before).toBeGreaterThanOrEqual(1);

    // The other devices' certificates still work.
    const client = await t.connectDevice(DEVICE, secrets[DEVICE], tlsOptions(certs[DEVICE]), mqttsUrl());
    await t.publish(client, DEVICE, [heartRate('mtls-r-2', 71)]);
    await client.endAsync();
  });
});

describe('device certificates optional', () => {
  const o = useTestService({
    env: () => ({
      MQTT_TLS_PORT: '0',
      TLS_CERT_FILE: path.join(TLS_DIR, 'cert.pem'),
      TLS_KEY_FILE: path.join(TLS_DIR, 'key.pem'),
      VITALINK_DEVICE_CERTS: 'optional',
      VITALINK_DEVICE_CA_FILE: pki.file('ca.pem'),
    }),
    beforeStart: async (fixture) => {
      await fixture.addPatient('p-mtls-2');
      for (const id of [DEVICE, OTHER]) secrets[`optional:${id}`] = await fixture.provisionDevice(id, 'p-mtls-2');
    },
  });
  const url = () => `mqtts://127.0.0.1:${o.ports.mqtts}`;

  it('connects a device without a certificate on its secret alone', async () => {
    const client = await o.connectDevice(DEVICE, secrets[`optional:${DEVICE}`]!, tlsOptions(), url());
    await o.publish(client, DEVICE, [heartRate('mtls-o-1', 72)]);
    await client.endAsync();
  });

  it('binds a certificate presented anyway: its own device connects, another is refused with CONNACK 5', async () => {
    const own = await o.connectDevice(OTHER, secrets[`optional:${OTHER}`]!, tlsOptions(certs[OTHER]), url());
    await o.publish(own, OTHER, [heartRate('mtls-o-2', 73)]);
    await own.endAsync();
    let code: number | undefined;
    try {
      await o.mqttClient(
        {
          clientId: DEVICE,
          username: DEVICE,
          password: secrets[`optional:${DEVICE}`],
          reconnectPeriod: 0,
          connectTimeout: 5_000,
          ...tlsOptions(certs[OTHER]),
        },
        url(),
      );
    } catch (error) {
      code = (error as { code?: number }).code;
    }
    expect(code).toBe(5);
  });
});
