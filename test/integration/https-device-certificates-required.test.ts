import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { basicAuth, httpsRequest } from '../helpers/https-device.ts';
import { type Pair, ScratchPki } from '../helpers/pki.ts';

/**
 * README, "Over HTTPS", "Device certificates over HTTPS", with
 * VITALINK_DEVICE_CERTS=required and HTTPS_PORT as the only TLS listener: device
 * requests on HTTPS_PORT need a verified certificate (the secret or a token alone
 * is a 401), other clients are served without one, and a certificate revoked in
 * the CRL while the service runs is refused from its next connection. Real TLS
 * connections (one per request), certificates and CRLs made by openssl.
 */

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls');
const SERVER_CA = readFileSync(path.join(TLS_DIR, 'cert.pem'));

const pki = new ScratchPki();
afterAll(() => pki.remove());

const DEVICE = 'req-dev-1';
const LATER = 'req-dev-2';
const secrets: Record<string, string> = {};
const certs: Record<string, Pair> = {};
const crlFile = pki.file('devices.crl.pem');

const t = useTestService({
  adminToken: true,
  env: () => {
    const ca = pki.deviceCa();
    for (const id of [DEVICE, LATER]) certs[id] = pki.deviceCert(id, id);
    pki.writeCrl(crlFile);
    return {
      HTTPS_PORT: '0',
      TLS_CERT_FILE: path.join(TLS_DIR, 'cert.pem'),
      TLS_KEY_FILE: path.join(TLS_DIR, 'key.pem'),
      VITALINK_DEVICE_CERTS: 'required',
      VITALINK_DEVICE_CA_FILE: ca,
      VITALINK_DEVICE_CRL_FILE: crlFile,
      VITALINK_TLS_RELOAD_INTERVAL_MS: '100',
    };
  },
  beforeStart: async (fixture) => {
    await fixture.addPatient('p-req-1');
    for (const id of [DEVICE, LATER]) secrets[id] = await fixture.provisionDevice(id, 'p-req-1');
  },
});

const request = (
  method: 'GET' | 'POST',
  urlPath: string,
  options: { body?: unknown; authorization?: string; cert?: Pair } = {},
) => httpsRequest(t.ports.https!, SERVER_CA, method, urlPath, options);

let sequence = 0;
const reading = () => heartRate(`q-${++sequence}`, 70, Date.now() - 60_000);
const readingsOf = (deviceId: string) => `/api/v1/devices/${deviceId}/readings`;

describe('VITALINK_DEVICE_CERTS=required on HTTPS_PORT', () => {
  it('refuses a device request without a certificate (401), even with the right secret or a device token', async () => {
    const none = await request('POST', readingsOf(DEVICE), { body: reading() });
    expect(none.status).toBe(401);
    expect(none.body.error.message).toContain('VITALINK_DEVICE_CERTS=required');
    const bySecret = await request('POST', readingsOf(DEVICE), {
      body: reading(),
      authorization: basicAuth(DEVICE, secrets[DEVICE]),
    });
    expect(bySecret.status).toBe(401);
    const created = await request('POST', `/api/v1/devices/${DEVICE}/tokens`, {
      body: {},
      authorization: `Bearer ${t.adminToken}`,
    });
    expect(created.status).toBe(201);
    const byToken = await request('POST', readingsOf(DEVICE), {
      body: reading(),
      authorization: `Bearer ${created.body.token}`,
    });
    expect(byToken.status).toBe(401);
    // The certificate, with or without its own device's token: stored.
    const withCert = await request('POST', readingsOf(DEVICE), { body: reading(), cert: certs[DEVICE] });
    expect(withCert.status).toBe(200);
    const both = await request('POST', readingsOf(DEVICE), {
      body: reading(),
      cert: certs[DEVICE],
      authorization: `Bearer ${created.body.token}`,
    });
    expect(both.status).toBe(200);
    expect(both.body.results[0].outcome).toBe('stored');
  });

  it('serves clients without a certificate elsewhere: health, the API', async () => {
    expect((await request('GET', '/healthz')).status).toBe(200);
    expect((await request('GET', '/api/v1/patients', { authorization: `Bearer ${t.adminToken}` })).status).toBe(200);
  });

  it('refuses a certificate revoked in the CRL while the service runs, from its next connection', async () => {
    const before = await request('POST', readingsOf(LATER), { body: reading(), cert: certs[LATER] });
    expect(before.status).toBe(200);
    pki.revoke(certs[LATER].cert);
    pki.writeCrl(crlFile);
    const refused = await waitFor(async () => {
      const res = await request('POST', readingsOf(LATER), { body: reading(), cert: certs[LATER] });
      return res.status === 401 ? res : undefined;
    }, 'the revoked certificate refused after the CRL reload');
    expect(refused.body.error.message).toContain('CERT_REVOKED');
    // The other device's certificate still verifies under the new CRL.
    const other = await request('POST', readingsOf(DEVICE), { body: reading(), cert: certs[DEVICE] });
    expect(other.status).toBe(200);
  });
});
