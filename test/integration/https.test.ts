import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { fingerprint, type Pair, ScratchPki } from '../helpers/pki.ts';

/**
 * README, "Security", "HTTPS" and "Certificate rotation": HTTPS_PORT serves the
 * API with the certificate of TLS_CERT_FILE and TLS_KEY_FILE, sends HSTS where
 * plaintext HTTP does not, closes a socket that never handshakes, and both TLS
 * listeners (HTTPS and MQTT over TLS) take a new certificate written over the
 * files without a restart, keeping the old one when the new files are broken.
 * Real sockets, node's https client and mqtt.js; certificates made by openssl.
 */

const pki = new ScratchPki();
afterAll(() => pki.remove());

let first: Pair;
let second: Pair;
const served = { cert: pki.file('served.pem'), key: pki.file('served.key') };
const HANDSHAKE_TIMEOUT_MS = 1_500;
const PER_ADDRESS = 6;
/** Per token: more than the admin token's requests in this file, so only the rate-limit test reaches it. */
const PER_TOKEN_PER_MIN = 10;
const DEVICE = 'https-dev-1';
let secret = '';

const t = useTestService({
  adminToken: true,
  env: () => {
    first = pki.serverPair('first');
    second = pki.serverPair('second');
    copyFileSync(first.cert, served.cert);
    copyFileSync(first.key, served.key);
    return {
      HTTPS_PORT: '0',
      MQTT_TLS_PORT: '0',
      TLS_CERT_FILE: served.cert,
      TLS_KEY_FILE: served.key,
      VITALINK_TLS_RELOAD_INTERVAL_MS: '100',
      VITALINK_TLS_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS),
      VITALINK_HTTPS_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
      VITALINK_HTTP_RATE_LIMIT_PER_MIN: String(PER_TOKEN_PER_MIN),
    };
  },
  beforeStart: async (fixture) => {
    await fixture.addPatient('p-https-1');
    secret = await fixture.provisionDevice(DEVICE, 'p-https-1');
  },
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One request over HTTPS with node's client, trusting `ca` (the certificate served now). */
function httpsGet(path: string, options: { ca?: Buffer | string; token?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: t.ports.https,
        path,
        servername: 'localhost',
        ca: options.ca ?? readFileSync(served.cert),
        agent: false,
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
  });
}

/** The fingerprint of the certificate a new TLS connection to `port` is served (no verification: just looking). */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

async function metricsText(): Promise<string> {
  return (await fetch(`${t.httpUrl}/metrics`)).text();
}

function counter(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** Replaces the served files, each by a rename (as certbot and most deployment tools do). */
function install(pair: { cert: string; key: string }): void {
  copyFileSync(pair.key, `${served.key}.new`);
  renameSync(`${served.key}.new`, served.key);
  copyFileSync(pair.cert, `${served.cert}.new`);
  renameSync(`${served.cert}.new`, served.cert);
}

describe('HTTPS_PORT', () => {
  it('is reported in the ports and in GET /api/v1/ops/ingestion with the others', async () => {
    expect(t.ports.https).toBeGreaterThan(0);
    expect(t.ports.http).toBeGreaterThan(0);
    const res = await httpsGet('/api/v1/ops/ingestion', { token: t.adminToken });
    expect(res.status).toBe(200);
    expect(res.body.listeners).toMatchObject({
      https: t.ports.https,
      http: t.ports.http,
      mqtt: t.ports.mqtt,
      mqtts: t.ports.mqtts,
    });
  });

  it('serves the API with HSTS and the security headers; plaintext HTTP sends no HSTS', async () => {
    const secure = await httpsGet('/api/v1/me', { token: t.adminToken });
    expect(secure.status).toBe(200);
    expect(secure.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(secure.headers['x-content-type-options']).toBe('nosniff');
    expect(secure.headers['cache-control']).toBe('no-store');
    const plain = await t.api.get('/api/v1/me', { token: t.adminToken });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    // Errors too: an unknown route over HTTPS is a 404 with HSTS.
    const missing = await httpsGet('/no-such-route');
    expect(missing.status).toBe(404);
    expect(missing.headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it('refuses a bad token over HTTPS as over HTTP (the same authentication and limits)', async () => {
    const res = await httpsGet('/api/v1/me', { token: 'not-a-token-of-this-service' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it("counts a token's requests over HTTP and HTTPS together against its rate limit", async () => {
    const { token } = await t.createToken('clinician', ['p-https-1']);
    for (let i = 0; i < PER_TOKEN_PER_MIN / 2; i++) {
      expect((await t.api.get('/api/v1/me', { token })).status).toBe(200);
      expect((await httpsGet('/api/v1/me', { token })).status).toBe(200);
    }
    const limited = await httpsGet('/api/v1/me', { token });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['strict-transport-security']).toBe('max-age=31536000');
    expect((await t.api.get('/api/v1/me', { token })).status).toBe(429);
  });

  it('builds FHIR links with https and the HTTPS listener address', async () => {
    const device = await t.connectDevice(DEVICE, secret);
    await t.publish(device, DEVICE, [heartRate('https-r-1', 64)]);
    await device.endAsync();
    const clinician = await t.createToken('clinician', ['p-https-1']);
    const res = await httpsGet('/fhir/Observation?patient=p-https-1', { token: clinician.token });
    expect(res.status).toBe(200);
    expect(res.body.link[0].url.startsWith(`https://127.0.0.1:${t.ports.https}/fhir/Observation?`)).toBe(true);
    expect(res.body.entry[0].fullUrl.startsWith(`https://127.0.0.1:${t.ports.https}/fhir/Observation/`)).toBe(true);
  });

  it('closes a socket that never starts its TLS handshake once the handshake timeout passes', async () => {
    const before = counter(
      await metricsText(),
      'vitalink_listener_refusals_total',
      'listener="https",reason="tls_handshake_timeout"',
    );
    const socket = net.connect(t.ports.https!, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await closed;
    const after = counter(
      await metricsText(),
      'vitalink_listener_refusals_total',
      'listener="https",reason="tls_handshake_timeout"',
    );
    expect(after - before).toBe(1);
  });
});

describe('HTTPS connection caps', () => {
  it('resets a socket beyond the per-address cap before any TLS, and serves again once sockets close', async () => {
    const gauge = async () => counter(await metricsText(), 'vitalink_listener_open_sockets', 'listener="https"');
    await waitFor(async () => (await gauge()) === 0, 'no HTTPS socket open');
    // Handshaken TLS connections, idle: they stay open (the idle bound is 30 s).
    const held = await Promise.all(
      Array.from(
        { length: PER_ADDRESS },
        () =>
          new Promise<tls.TLSSocket>((resolve, reject) => {
            const s = tls.connect(
              { host: '127.0.0.1', port: t.ports.https!, servername: 'localhost', ca: readFileSync(served.cert) },
              () => resolve(s),
            );
            s.on('error', reject);
          }),
      ),
    );
    try {
      await waitFor(async () => (await gauge()) === PER_ADDRESS, 'the held sockets to be counted');
      const label = 'listener="https",reason="max_connections_per_address"';
      const before = counter(await metricsText(), 'vitalink_listener_refusals_total', label);
      await expect(httpsGet('/healthz')).rejects.toThrow();
      expect(counter(await metricsText(), 'vitalink_listener_refusals_total', label) - before).toBe(1);
    } finally {
      for (const s of held) s.destroy();
    }
    await waitFor(async () => (await gauge()) === 0, 'the held sockets to be released');
    expect((await httpsGet('/healthz')).status).toBe(200);
  });
});

describe('certificate rotation', () => {
  it('serves a certificate written over the files to new connections on both TLS listeners, without a restart', async () => {
    expect(await servedFingerprint(t.ports.https!)).toBe(fingerprint(first.cert));
    expect(await servedFingerprint(t.ports.mqtts!)).toBe(fingerprint(first.cert));
    // A connection made before the rotation keeps working (it was made with the old certificate).
    const device = await t.connectDevice(
      DEVICE,
      secret,
      { ca: readFileSync(first.cert), servername: 'localhost', rejectUnauthorized: true },
      `mqtts://127.0.0.1:${t.ports.mqtts}`,
    );
    install(second);
    await waitFor(
      async () => (await servedFingerprint(t.ports.https!)) === fingerprint(second.cert),
      'HTTPS to serve the new certificate',
    );
    await waitFor(
      async () => (await servedFingerprint(t.ports.mqtts!)) === fingerprint(second.cert),
      'MQTT TLS to serve the new certificate',
    );
    await t.publish(device, DEVICE, [heartRate('https-r-2', 65)]);
    // A client that trusts only the new certificate is served over HTTPS.
    const res = await httpsGet('/healthz', { ca: readFileSync(second.cert) });
    expect(res.status).toBe(200);
    await device.endAsync();
    const text = await metricsText();
    expect(counter(text, 'vitalink_tls_reloads_total', 'outcome="loaded"')).toBeGreaterThanOrEqual(1);
  });

  it('keeps the current certificate when the new files are broken, and says so', async () => {
    const current = await servedFingerprint(t.ports.https!);
    const failedBefore = counter(await metricsText(), 'vitalink_tls_reloads_total', 'outcome="failed"');
    // A key that is not the certificate's: the pair does not go together.
    install({ cert: first.cert, key: second.key });
    await waitFor(
      async () => counter(await metricsText(), 'vitalink_tls_reloads_total', 'outcome="failed"') > failedBefore,
      'the broken pair to be refused',
    );
    expect(await servedFingerprint(t.ports.https!)).toBe(current);
    expect(await servedFingerprint(t.ports.mqtts!)).toBe(current);
    // Not PEM at all.
    writeFileSync(`${served.cert}.new`, 'not a certificate\n');
    renameSync(`${served.cert}.new`, served.cert);
    await waitFor(
      async () => counter(await metricsText(), 'vitalink_tls_reloads_total', 'outcome="failed"') > failedBefore + 1,
      'the unreadable certificate to be refused',
    );
    expect(await servedFingerprint(t.ports.https!)).toBe(current);
    // A good pair again is taken.
    install(first);
    await waitFor(
      async () => (await servedFingerprint(t.ports.https!)) === fingerprint(first.cert),
      'the good pair again',
    );
  });
});

describe('start with TLS files that do not hold', () => {
  it('refuses to start, before the database, naming the variables', async () => {
    const attempt = async (files: { TLS_CERT_FILE: string; TLS_KEY_FILE: string }) => {
      const config = loadConfig({
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        MQTT_PORT: '0',
        HTTP_PORT: '0',
        HTTPS_PORT: '0',
        ...files,
      });
      return createApp(config, createLogger('silent'))
        .start()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    };
    const missing = await attempt({ TLS_CERT_FILE: pki.file('absent.pem'), TLS_KEY_FILE: first.key });
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).problems).toEqual([
      expect.stringMatching(/^TLS_CERT_FILE: cannot read .*\(ENOENT\)/),
    ]);
    const mismatched = await attempt({ TLS_CERT_FILE: first.cert, TLS_KEY_FILE: second.key });
    expect(mismatched).toBeInstanceOf(ConfigError);
    expect((mismatched as ConfigError).problems[0]).toContain('check that TLS_KEY_FILE is the key of TLS_CERT_FILE');
  });
});
