import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { disableDevice, enableDevice } from '../../src/actions/device-lifecycle.ts';
import { useTestService } from '../fixture.ts';
import { heartRate } from '../helpers/device.ts';
import { basicAuth, httpsRequest } from '../helpers/https-device.ts';
import { type Pair, ScratchPki } from '../helpers/pki.ts';

/**
 * README, "Over HTTPS", "Device tokens" and "Device certificates over HTTPS":
 * `POST /api/v1/devices/{id}/readings` on HTTPS_PORT with a device token (Bearer)
 * or a client certificate instead of the secret. Everything through real HTTPS
 * (node's https client, a new TLS connection per request, so that each carries the
 * certificate given), the CA, certificates and CRL made by openssl; revoked
 * tokens and revoked certificates refused.
 */

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls');
const SERVER_CA = readFileSync(path.join(TLS_DIR, 'cert.pem'));

const pki = new ScratchPki();
const otherPki = new ScratchPki();
afterAll(() => {
  pki.remove();
  otherPki.remove();
});

const PATIENT = 'p-devcred-1';
const A = 'cred-dev-a';
const B = 'cred-dev-b';
const REVOKED = 'cred-dev-r';
const STRANGER = 'cred-dev-x';
const secrets: Record<string, string> = {};
const certs: Record<string, Pair> = {};
let foreign: Pair;
let unknownCn: Pair;
const crlFile = pki.file('devices.crl.pem');

const t = useTestService({
  adminToken: true,
  env: () => {
    const ca = pki.deviceCa();
    for (const id of [A, B, REVOKED]) certs[id] = pki.deviceCert(id, id);
    unknownCn = pki.deviceCert('unknown', 'no-such-device');
    pki.revoke(certs[REVOKED].cert);
    pki.writeCrl(crlFile);
    otherPki.deviceCa('Another CA');
    foreign = otherPki.deviceCert('foreign', A);
    return {
      HTTPS_PORT: '0',
      TLS_CERT_FILE: path.join(TLS_DIR, 'cert.pem'),
      TLS_KEY_FILE: path.join(TLS_DIR, 'key.pem'),
      VITALINK_DEVICE_CERTS: 'optional',
      VITALINK_DEVICE_CA_FILE: ca,
      VITALINK_DEVICE_CRL_FILE: crlFile,
    };
  },
  beforeStart: async (fixture) => {
    await fixture.addPatient(PATIENT);
    for (const id of [A, B, REVOKED, STRANGER]) secrets[id] = await fixture.provisionDevice(id, PATIENT);
  },
});

/** One request on a new TLS connection to HTTPS_PORT, with `cert` as client certificate when given. */
const request = (
  method: 'GET' | 'POST',
  urlPath: string,
  options: { body?: unknown; authorization?: string; cert?: Pair } = {},
) => httpsRequest(t.ports.https!, SERVER_CA, method, urlPath, options);

let sequence = 0;
const reading = () => heartRate(`c-${++sequence}`, 70, Date.now() - 60_000);
const readingsOf = (deviceId: string) => `/api/v1/devices/${deviceId}/readings`;
const admin = () => `Bearer ${t.adminToken}`;

async function stored(deviceId: string, readingId: string): Promise<number> {
  const { rows } = await t.query('SELECT count(*)::int AS n FROM readings WHERE device_id = $1 AND reading_id = $2', [
    deviceId,
    readingId,
  ]);
  return rows[0].n;
}

async function newToken(deviceId: string, body: object = {}): Promise<{ token: string; id: string }> {
  const res = await request('POST', `/api/v1/devices/${deviceId}/tokens`, { body, authorization: admin() });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.token).toMatch(/^vdt_/);
  expect(res.body.deviceId).toBe(deviceId);
  return res.body;
}

describe('device tokens over HTTPS', () => {
  it("store readings of the token's device, are refused on another device's path, and are stored only hashed", async () => {
    const { token, id } = await newToken(A, { label: 'phone app' });
    const r = reading();
    const ok = await request('POST', readingsOf(A), { body: r, authorization: `Bearer ${token}` });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toEqual({ results: [{ id: r.id, outcome: 'stored', reason: null, detail: null }] });
    expect(await stored(A, r.id)).toBe(1);

    const elsewhere = await request('POST', readingsOf(B), { body: reading(), authorization: `Bearer ${token}` });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error.message).toContain(`/api/v1/devices/${A}/readings`);

    // Not an API token: the API refuses it.
    const api = await request('GET', '/api/v1/patients', { authorization: `Bearer ${token}` });
    expect(api.status).toBe(401);

    const { rows } = await t.query('SELECT token_hash, label FROM device_tokens WHERE id = $1', [id]);
    expect(rows[0].label).toBe('phone app');
    expect(Buffer.from(rows[0].token_hash).toString('utf8')).not.toContain(token);
    expect(rows[0].token_hash).toHaveLength(32);

    const list = await request('GET', `/api/v1/devices/${A}/tokens`, { authorization: admin() });
    expect(list.status).toBe(200);
    const listed = list.body.items.find((item: { id: string }) => item.id === id);
    expect(listed).toMatchObject({ id, deviceId: A, label: 'phone app', state: 'active', revokedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(token);
  });

  it('a revoked token is refused with 401 from its next request; the device secret still works', async () => {
    const { token, id } = await newToken(A);
    expect((await request('POST', readingsOf(A), { body: reading(), authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
    const revoked = await request('POST', `/api/v1/devices/${A}/tokens/${id}/revoke`, { authorization: admin() });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id, state: 'revoked' });

    const r = reading();
    const refused = await request('POST', readingsOf(A), { body: r, authorization: `Bearer ${token}` });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/device token is not accepted/);
    expect(await stored(A, r.id)).toBe(0);

    const bySecret = await request('POST', readingsOf(A), { body: r, authorization: basicAuth(A, secrets[A]) });
    expect(bySecret.status).toBe(200);
    expect(await stored(A, r.id)).toBe(1);
  });

  it('an expired token, an unknown one and an API token are refused with 401', async () => {
    const { token, id } = await newToken(A, { expires: '1h' });
    await t.query("UPDATE device_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [id]);
    const expired = await request('POST', readingsOf(A), { body: reading(), authorization: `Bearer ${token}` });
    expect(expired.status).toBe(401);
    const list = await request('GET', `/api/v1/devices/${A}/tokens`, { authorization: admin() });
    expect(list.body.items.find((item: { id: string }) => item.id === id).state).toBe('expired');

    const unknown = await request('POST', readingsOf(A), {
      body: reading(),
      authorization: `Bearer vdt_${'x'.repeat(43)}`,
    });
    expect(unknown.status).toBe(401);
    const apiToken = await request('POST', readingsOf(A), { body: reading(), authorization: admin() });
    expect(apiToken.status).toBe(401);
  });

  it("a disabled device's tokens are refused with 403, and work again once it is enabled", async () => {
    const { token } = await newToken(B);
    await disableDevice(t.db, B);
    const r = reading();
    const refused = await request('POST', readingsOf(B), { body: r, authorization: `Bearer ${token}` });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/disabled/);
    await enableDevice(t.db, B);
    const ok = await request('POST', readingsOf(B), { body: r, authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(await stored(B, r.id)).toBe(1);
  });

  it('a device token is not an MQTT password: CONNACK 4 (the protocol keeps the device secret)', async () => {
    const { token } = await newToken(A);
    const client = mqtt.connect(t.mqttUrl, {
      clientId: A,
      username: A,
      password: token,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    const code = await new Promise<number | undefined>((resolve) => {
      client.once('connect', () => resolve(0));
      client.once('error', (err: Error & { code?: number }) => resolve(err.code));
    });
    client.end(true);
    expect(code).toBe(4);
  });
});

describe('device certificates over HTTPS (VITALINK_DEVICE_CERTS=optional)', () => {
  it('a verified certificate alone authenticates its device (CN = device id)', async () => {
    const r = reading();
    const res = await request('POST', readingsOf(A), { body: r, cert: certs[A] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results[0]).toMatchObject({ id: r.id, outcome: 'stored' });
    expect(await stored(A, r.id)).toBe(1);
  });

  it("is refused with 403 on another device's path, and beside another device's credentials", async () => {
    const r = reading();
    const elsewhere = await request('POST', readingsOf(B), { body: r, cert: certs[A] });
    expect(elsewhere.status).toBe(403);
    const mixed = await request('POST', readingsOf(B), {
      body: r,
      cert: certs[A],
      authorization: basicAuth(B, secrets[B]),
    });
    expect(mixed.status).toBe(403);
    expect(mixed.body.error.message).toMatch(/certificate is that of device cred-dev-a/);
    // An Authorization header that is no credential at all is not made up for by the certificate.
    const garbled = await request('POST', readingsOf(A), { body: r, cert: certs[A], authorization: 'Token abc' });
    expect(garbled.status).toBe(401);
    expect(await stored(B, r.id)).toBe(0);
  });

  it('a revoked certificate (in the CRL) is refused with 401, even with the right secret', async () => {
    const r = reading();
    const alone = await request('POST', readingsOf(REVOKED), { body: r, cert: certs[REVOKED] });
    expect(alone.status).toBe(401);
    expect(alone.body.error.message).toContain('CERT_REVOKED');
    const withSecret = await request('POST', readingsOf(REVOKED), {
      body: r,
      cert: certs[REVOKED],
      authorization: basicAuth(REVOKED, secrets[REVOKED]),
    });
    expect(withSecret.status).toBe(401);
    expect(await stored(REVOKED, r.id)).toBe(0);
    // Without the certificate, its secret is the credential as ever (optional mode).
    const bySecret = await request('POST', readingsOf(REVOKED), {
      body: r,
      authorization: basicAuth(REVOKED, secrets[REVOKED]),
    });
    expect(bySecret.status).toBe(200);
  });

  it('a certificate of another CA, or naming no provisioned device, is refused with 401', async () => {
    const byForeign = await request('POST', readingsOf(A), { body: reading(), cert: foreign });
    expect(byForeign.status).toBe(401);
    expect(byForeign.body.error.message).toMatch(/client certificate is not accepted \(\w+/);
    const byUnknown = await request('POST', readingsOf('no-such-device'), { body: reading(), cert: unknownCn });
    expect(byUnknown.status).toBe(401);
  });

  it("a disabled device's certificate is refused with 403", async () => {
    await disableDevice(t.db, STRANGER);
    const stranger = pki.deviceCert('stranger', STRANGER);
    const res = await request('POST', readingsOf(STRANGER), { body: reading(), cert: stranger });
    expect(res.status).toBe(403);
    await enableDevice(t.db, STRANGER);
    const again = await request('POST', readingsOf(STRANGER), { body: reading(), cert: stranger });
    expect(again.status).toBe(200);
  });

  it('clients without a certificate are served as before: the API, and a device with its secret', async () => {
    const health = await request('GET', '/healthz');
    expect(health.status).toBe(200);
    const patients = await request('GET', '/api/v1/patients', { authorization: admin() });
    expect(patients.status).toBe(200);
    const bySecret = await request('POST', readingsOf(B), { body: reading(), authorization: basicAuth(B, secrets[B]) });
    expect(bySecret.status).toBe(200);
  });
});
