import { describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/actions/tokens.ts';
import { describeRes, expectError } from '../helpers/api-expectations.ts';
import { ADMIN_TOKEN, useApiTest } from '../helpers/api-test.ts';

/**
 * Authentication and roles on every route of the API: 401 without a valid token,
 * 403 for the wrong role, nothing written by a refused request. Against a real
 * PostgreSQL and a real listening server, with `fetch` as a client would.
 */

// Every route is asked without a valid token, all from 127.0.0.1: more 401s than the per-address
// limit allows in a minute (20; the limit itself is tested in api-security.test.ts).
const { t, who, call, get } = useApiTest({ VITALINK_HTTP_AUTH_FAILURES_PER_MIN: '0' });

type Role = 'admin' | 'operator' | 'clinician';

/** Every route of src/http/routes, with a request that is valid but for the caller, and the roles it refuses. */
const ROUTES: { method: string; path: string; body?: unknown; refuses: Role[] }[] = [
  { method: 'POST', path: '/api/v1/patients', body: { id: 'p-never' }, refuses: ['operator', 'clinician'] },
  { method: 'GET', path: '/api/v1/patients', refuses: ['operator'] },
  { method: 'GET', path: '/api/v1/patients/p-own-1', refuses: ['operator'] },
  { method: 'GET', path: '/api/v1/patients/p-own-1/indicators', refuses: ['admin', 'operator'] },
  { method: 'GET', path: '/api/v1/patients/p-own-1/thresholds', refuses: ['admin', 'operator'] },
  { method: 'PUT', path: '/api/v1/patients/p-own-1/thresholds', body: { fever: 37.7 }, refuses: ['admin', 'operator'] },
  { method: 'POST', path: '/api/v1/devices', body: { id: 'dev-never' }, refuses: ['operator', 'clinician'] },
  { method: 'GET', path: '/api/v1/devices/dev-never', refuses: ['operator', 'clinician'] },
  {
    method: 'POST',
    path: '/api/v1/devices/dev-never/assignments',
    body: { patientId: 'p-own-1' },
    refuses: ['operator', 'clinician'],
  },
  { method: 'GET', path: '/api/v1/alerts', refuses: ['admin', 'operator'] },
  { method: 'POST', path: '/api/v1/alerts/1/acknowledge', refuses: ['admin', 'operator'] },
  { method: 'GET', path: '/api/v1/rejections', refuses: ['clinician'] },
];

async function nothingWrittenByRefusedRequests(): Promise<void> {
  const { rows } = await t.query(
    `SELECT (SELECT count(*) FROM patients WHERE id = 'p-never')
          + (SELECT count(*) FROM devices WHERE id = 'dev-never')
          + (SELECT count(*) FROM alert_thresholds WHERE patient_id = 'p-own-1' AND rule = 'fever') AS n`,
  );
  expect(Number(rows[0].n)).toBe(0);
}

describe('authentication', () => {
  it('answers 401 on every route without a token, with an unknown or revoked token, or another scheme', async () => {
    const revoked = await createApiToken(t.db, await t.keys(), { role: 'admin' });
    await t.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [revoked.id]);
    const credentials: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: 'Bearer vlk_this-token-was-never-issued-by-this-service' },
      { authorization: `Bearer ${revoked.token}` },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      { authorization: `Bearer` },
      { authorization: who.admin.token },
    ];
    for (const route of ROUTES) {
      for (const headers of credentials) {
        const res = await call(route.method, route.path, { headers, json: route.body });
        expectError(res, 401, 'unauthorized');
      }
    }
    await nothingWrittenByRefusedRequests();
  });

  it('answers 403 to a valid token of the wrong role, writing nothing', async () => {
    const tokens: Record<Role, string> = {
      admin: who.admin.token,
      operator: who.operator.token,
      clinician: who.clinician.token,
    };
    let checked = 0;
    for (const route of ROUTES) {
      for (const role of route.refuses) {
        const res = await call(route.method, route.path, { token: tokens[role], json: route.body });
        expectError(res, 403, 'forbidden');
        checked++;
      }
    }
    expect(checked).toBe(21);
    await nothingWrittenByRefusedRequests();
  });

  it('accepts VITALINK_ADMIN_TOKEN as an admin token (bootstrap)', async () => {
    const created = await call('POST', '/api/v1/patients', { token: ADMIN_TOKEN, json: { id: 'p-bootstrap' } });
    expect(created.status, describeRes(created)).toBe(201);
    expect(created.body.id).toBe('p-bootstrap');
    const read = await get('/api/v1/patients/p-bootstrap', ADMIN_TOKEN);
    expect(read.status).toBe(200);
    // The read also gives the patient's identity (France, "Patient identity (INS)"): none recorded.
    expect(read.body).toEqual({ ...created.body, identity: null });
    const device = await call('POST', '/api/v1/devices', { token: ADMIN_TOKEN, json: { id: 'dev-bootstrap' } });
    expect(device.status, describeRes(device)).toBe(201);
    // An admin, so not a clinician: clinician routes refuse it like any admin token.
    expectError(await get('/api/v1/alerts', ADMIN_TOKEN), 403, 'forbidden');
    // The same token with a different case or an extra character is unknown.
    expectError(await get('/api/v1/patients', ADMIN_TOKEN.toUpperCase()), 401, 'unauthorized');
  });

  it('answers an unknown path under /api/v1 with a 404 in the error shape', async () => {
    expectError(await get('/api/v1/no-such-thing', who.admin.token), 404, 'not_found');
  });
});
