import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { type TestApp, startTestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { connectDevice, heartRate, type Reading, waitFor } from '../helpers/device.ts';
import { provisionDevice } from '../helpers/provision.ts';

/**
 * The clinician/operator HTTP API (interfaces.md, "HTTP"), against a real
 * PostgreSQL and a real listening server, with `fetch` as a client would.
 */

const ADMIN_TOKEN = 'bootstrap-admin-token-for-the-api-tests';
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const HOUR = 3_600_000;

let database: TestDatabase;
let service: TestApp;
const clients: MqttClient[] = [];

interface Token {
  token: string;
  id: string;
}
let admin: Token;
let operator: Token;
/** Clinician of p-own-1 and p-own-2. */
let clinician: Token;
/** Clinician of p-other only. */
let otherClinician: Token;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startTestApp(database, {
    VITALINK_ADMIN_TOKEN: ADMIN_TOKEN,
    VITALINK_AGGREGATION_INTERVAL_MS: '100',
  });
  for (const id of ['p-own-1', 'p-own-2', 'p-other']) await addPatient(database.db, { id });
  admin = await createApiToken(database.db, { role: 'admin' });
  operator = await createApiToken(database.db, { role: 'operator' });
  clinician = await createApiToken(database.db, { role: 'clinician', patientIds: ['p-own-1', 'p-own-2'] });
  otherClinician = await createApiToken(database.db, { role: 'clinician', patientIds: ['p-other'] });
});

afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  await service?.stop();
  await database?.drop();
});

// ---------------------------------------------------------------- helpers

interface Res {
  status: number;
  body: any;
  contentType: string | null;
}

async function call(
  method: string,
  path: string,
  opts: { token?: string | null; json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.raw !== undefined) {
    headers['content-type'] = 'application/json';
    body = opts.raw;
  }
  const res = await fetch(`http://127.0.0.1:${service.ports.http}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text, which fails any shape assertion
  }
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') };
}

const get = (path: string, token: string | null) => call('GET', path, { token });

function describeRes(res: Res): string {
  return `HTTP ${res.status} ${JSON.stringify(res.body)}`;
}

function expectKeys(value: unknown, keys: string[]): void {
  expect(value).toBeTypeOf('object');
  expect(Object.keys(value as object).sort()).toEqual([...keys].sort());
}

function expectTime(value: unknown): void {
  expect(value).toMatch(RFC3339_UTC);
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

/** `{"error": {"code", "message"}}` (and `issues` on a 422), JSON, with the status. */
function expectError(res: Res, status: number, code: string): void {
  expect(res.status, describeRes(res)).toBe(status);
  expect(res.contentType).toMatch(/^application\/json/);
  expectKeys(res.body, ['error']);
  const keys = Object.keys(res.body.error).filter((k) => k !== 'issues');
  expect(keys.sort()).toEqual(['code', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toBeTypeOf('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

/** A 422 whose `issues` name each of `paths`. */
function expectInvalid(res: Res, paths: string[]): void {
  expectError(res, 422, 'invalid_input');
  expect(res.body.error.issues, `issues in ${describeRes(res)}`).toBeInstanceOf(Array);
  for (const issue of res.body.error.issues) {
    expectKeys(issue, ['path', 'message']);
    expect(issue.message).toBeTypeOf('string');
  }
  const got = res.body.error.issues.map((i: { path: string }) => i.path);
  for (const p of paths) expect(got, describeRes(res)).toContain(p);
}

/**
 * The clinician rule: a 404 for another clinician's patient that is
 * indistinguishable from the 404 for a patient (or alert) that does not exist.
 */
function expectSameNotFound(forOther: Res, otherId: string, forMissing: Res, missingId: string): void {
  expectError(forOther, 404, 'not_found');
  expectError(forMissing, 404, 'not_found');
  const scrub = (r: Res, id: string) => ({
    ...r.body,
    error: { ...r.body.error, message: r.body.error.message.split(id).join('<id>') },
  });
  expect(scrub(forOther, otherId)).toEqual(scrub(forMissing, missingId));
}

function expectPatient(p: any): void {
  expectKeys(p, ['id', 'displayName', 'timeZone', 'createdAt', 'summary']);
  expect(p.id).toBeTypeOf('string');
  expect(p.timeZone).toBeTypeOf('string');
  expectTime(p.createdAt);
  if (p.summary === null) return; // admin tokens: no clinical data
  expectKeys(p.summary, ['openAlerts', 'worstAlert', 'lastReadingAt', 'adherenceDays']);
  expect(p.summary.openAlerts).toBeTypeOf('number');
  if (p.summary.lastReadingAt !== null) expectTime(p.summary.lastReadingAt);
}

function expectAlert(a: any): void {
  expectKeys(a, [
    'id',
    'patientId',
    'rule',
    'severity',
    'status',
    'openedAt',
    'acknowledgedAt',
    'resolvedAt',
    'threshold',
    'readingIds',
  ]);
  expect(a.id).toMatch(/^\d+$/);
  expect(['open', 'acknowledged', 'resolved']).toContain(a.status);
  expectTime(a.openedAt);
  if (a.acknowledgedAt !== null) expectTime(a.acknowledgedAt);
  if (a.resolvedAt !== null) expectTime(a.resolvedAt);
  expect(a.readingIds).toBeInstanceOf(Array);
}

function expectAssignment(a: any): void {
  expectKeys(a, ['id', 'deviceId', 'patientId', 'from', 'to']);
  expect(a.id).toBeTypeOf('string');
  expectTime(a.from);
  if (a.to !== null) expectTime(a.to);
}

/**
 * Follows nextCursor from `path` (which has a limit) to the end; `between(i)`
 * runs after page i, before the next request. Returns the pages.
 */
async function walkPages(
  path: string,
  token: string,
  limit: number,
  between?: (page: number) => Promise<void>,
): Promise<any[][]> {
  const pages: any[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await get(cursor === null ? path : `${path}${sep}cursor=${encodeURIComponent(cursor)}`, token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['items', 'nextCursor']);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    pages.push(res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return pages;
    expect(cursor).toBeTypeOf('string');
    expect(res.body.items).toHaveLength(limit);
    if (between) await between(i);
  }
  throw new Error(`pagination of ${path} did not end`);
}

async function auditMark(): Promise<number> {
  const { rows } = await database.query(`SELECT coalesce(max(id), 0)::int AS id FROM audit_log`);
  return rows[0].id;
}

async function auditSince(mark: number) {
  const { rows } = await database.query(
    `SELECT token_id::text AS "tokenId", role, patient_id AS "patientId", action
     FROM audit_log WHERE id > $1 ORDER BY id`,
    [mark],
  );
  return rows;
}

async function settled(): Promise<void> {
  await waitFor(async () => {
    const { rows } = await database.query(
      `SELECT (SELECT count(*) FROM aggregation_dirty) + (SELECT count(*) FROM indicators_dirty) AS n`,
    );
    return Number(rows[0].n) === 0;
  }, 'the aggregation job');
}

async function connected(deviceId: string, secret: string): Promise<MqttClient> {
  const client = await connectDevice(`mqtt://127.0.0.1:${service.ports.mqtt}`, deviceId, secret);
  clients.push(client);
  return client;
}

async function publish(client: MqttClient, deviceId: string, payload: string | Reading[]): Promise<void> {
  const text = typeof payload === 'string' ? payload : JSON.stringify({ readings: payload });
  await client.publishAsync(`v1/devices/${deviceId}/readings`, text, { qos: 1 });
}

// ---------------------------------------------------------------- routes and roles

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
  const { rows } = await database.query(
    `SELECT (SELECT count(*) FROM patients WHERE id = 'p-never')
          + (SELECT count(*) FROM devices WHERE id = 'dev-never')
          + (SELECT count(*) FROM alert_thresholds WHERE patient_id = 'p-own-1' AND rule = 'fever') AS n`,
  );
  expect(Number(rows[0].n)).toBe(0);
}

describe('authentication', () => {
  it('answers 401 on every route without a token, with an unknown or revoked token, or another scheme', async () => {
    const revoked = await createApiToken(database.db, { role: 'admin' });
    await database.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, [revoked.id]);
    const credentials: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: 'Bearer vlk_this-token-was-never-issued-by-this-service' },
      { authorization: `Bearer ${revoked.token}` },
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      { authorization: `Bearer` },
      { authorization: admin.token },
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
    const tokens: Record<Role, string> = { admin: admin.token, operator: operator.token, clinician: clinician.token };
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
    expect(read.body).toEqual(created.body);
    const device = await call('POST', '/api/v1/devices', { token: ADMIN_TOKEN, json: { id: 'dev-bootstrap' } });
    expect(device.status, describeRes(device)).toBe(201);
    // An admin, so not a clinician: clinician routes refuse it like any admin token.
    expectError(await get('/api/v1/alerts', ADMIN_TOKEN), 403, 'forbidden');
    // The same token with a different case or an extra character is unknown.
    expectError(await get('/api/v1/patients', ADMIN_TOKEN.toUpperCase()), 401, 'unauthorized');
  });

  it('answers an unknown path under /api/v1 with a 404 in the error shape', async () => {
    expectError(await get('/api/v1/no-such-thing', admin.token), 404, 'not_found');
  });
});

// ---------------------------------------------------------------- patients

describe('patients', () => {
  it('POST /patients creates a patient and returns exactly its shape', async () => {
    const before = Date.now();
    const res = await call('POST', '/api/v1/patients', {
      token: admin.token,
      json: { id: 'p-new-1', timeZone: 'America/New_York', displayName: 'Ada Lovelace' },
    });
    expect(res.status, describeRes(res)).toBe(201);
    expect(res.contentType).toMatch(/^application\/json/);
    expectPatient(res.body);
    expect(res.body).toMatchObject({ id: 'p-new-1', timeZone: 'America/New_York', displayName: 'Ada Lovelace' });
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Date.parse(res.body.createdAt)).toBeLessThanOrEqual(Date.now() + 5_000);
    const { rows } = await database.query(`SELECT display_name, time_zone FROM patients WHERE id = 'p-new-1'`);
    expect(rows).toEqual([{ display_name: 'Ada Lovelace', time_zone: 'America/New_York' }]);

    const defaults = await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'p-new-2' } });
    expect(defaults.status, describeRes(defaults)).toBe(201);
    expectPatient(defaults.body);
    expect(defaults.body).toMatchObject({ id: 'p-new-2', displayName: null, timeZone: 'Europe/Paris' });
  });

  it('POST /patients refuses a duplicate (409), invalid input (422) and malformed JSON (400)', async () => {
    const dup = await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'p-own-1' } });
    expectError(dup, 409, 'conflict');

    expectInvalid(await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'bad id!' } }), ['body.id']);
    expectInvalid(await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'x'.repeat(65) } }), [
      'body.id',
    ]);
    expectInvalid(await call('POST', '/api/v1/patients', { token: admin.token, json: {} }), ['body.id']);
    expectInvalid(
      await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'p-x', displayName: 42 } }),
      ['body.displayName'],
    );
    expectError(
      await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'p-tz', timeZone: 'Mars/Olympus' } }),
      422,
      'invalid_input',
    );
    expectError(
      await call('POST', '/api/v1/patients', { token: admin.token, raw: '{"id": "p-broken"' }),
      400,
      'bad_request',
    );
    const { rows } = await database.query(`SELECT id FROM patients WHERE id IN ('bad id!', 'p-x', 'p-tz', 'p-broken')`);
    expect(rows).toEqual([]);
  });

  it('GET /patients/{id}: admin reads any, a clinician only their own; others are a 404 like a missing one', async () => {
    const asAdmin = await get('/api/v1/patients/p-other', admin.token);
    expect(asAdmin.status, describeRes(asAdmin)).toBe(200);
    expectPatient(asAdmin.body);
    expect(asAdmin.body).toMatchObject({ id: 'p-other', displayName: null, timeZone: 'Europe/Paris' });

    const own = await get('/api/v1/patients/p-own-1', clinician.token);
    expect(own.status, describeRes(own)).toBe(200);
    expectPatient(own.body);
    expect(own.body.id).toBe('p-own-1');

    expectSameNotFound(
      await get('/api/v1/patients/p-other', clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody', clinician.token),
      'p-nobody',
    );
    expectError(await get('/api/v1/patients/p-nobody', admin.token), 404, 'not_found');
    expectInvalid(await get('/api/v1/patients/bad*id', admin.token), ['params.id']);
  });

  it('GET /patients: admin sees all, a clinician only theirs', async () => {
    const asClinician = await get('/api/v1/patients', clinician.token);
    expect(asClinician.status, describeRes(asClinician)).toBe(200);
    expectKeys(asClinician.body, ['items', 'nextCursor']);
    expect(asClinician.body.items.map((p: { id: string }) => p.id)).toEqual(['p-own-1', 'p-own-2']);
    asClinician.body.items.forEach(expectPatient);
    expect(asClinician.body.nextCursor).toBeNull();

    const asAdmin = await get('/api/v1/patients?limit=500', admin.token);
    expect(asAdmin.status).toBe(200);
    const { rows } = await database.query(`SELECT id FROM patients ORDER BY id`);
    expect(asAdmin.body.items.map((p: { id: string }) => p.id).sort()).toEqual(rows.map((r) => r.id).sort());

    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=1.5']) {
      expectInvalid(await get(`/api/v1/patients?${q}`, admin.token), ['querystring.limit']);
    }
  });

  it('GET /patients pages with limit=2: each patient once, none skipped while new ones arrive, null at the end', async () => {
    for (let i = 0; i < 5; i++) await addPatient(database.db, { id: `p-page-${i}` });
    const { rows } = await database.query(`SELECT id FROM patients`);
    const existing = rows.map((r) => r.id as string);
    let added = 0;
    const pages = await walkPages('/api/v1/patients?limit=2', admin.token, 2, async (page) => {
      if (page > 2) return;
      // One that sorts before every cursor and one after: neither may disturb the others.
      await addPatient(database.db, { id: `0-early-${page}` });
      await addPatient(database.db, { id: `zz-late-${page}` });
      added += 2;
    });
    expect(added).toBe(6);
    const seen = pages.flat().map((p) => p.id as string);
    pages.flat().forEach(expectPatient);
    expect(new Set(seen).size, `repeated: ${seen}`).toBe(seen.length);
    for (const id of existing) expect(seen, `${id} was skipped`).toContain(id);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(existing.length / 2));

    // A clinician pages over their own patients only.
    const theirs = await walkPages('/api/v1/patients?limit=1', clinician.token, 1);
    expect(theirs.flat().map((p) => p.id)).toEqual(['p-own-1', 'p-own-2']);
  });
});

// ---------------------------------------------------------------- devices

describe('devices', () => {
  it('POST /devices returns {id, secret} once, and the secret authenticates an MQTT connection', async () => {
    const res = await call('POST', '/api/v1/devices', {
      token: admin.token,
      json: { id: 'ox-api-1', model: 'Oxi 3000' },
    });
    expect(res.status, describeRes(res)).toBe(201);
    expectKeys(res.body, ['id', 'secret']);
    expect(res.body.id).toBe('ox-api-1');
    expect(res.body.secret).toBeTypeOf('string');
    expect(res.body.secret.length).toBeGreaterThanOrEqual(16);
    const { rows } = await database.query(`SELECT model, enabled, secret_hash FROM devices WHERE id = 'ox-api-1'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: 'Oxi 3000', enabled: true });
    expect((rows[0].secret_hash as Buffer).toString('utf8')).not.toContain(res.body.secret);

    const client = await connected('ox-api-1', res.body.secret);
    expect(client.connected).toBe(true);
    await expect(
      connectDevice(`mqtt://127.0.0.1:${service.ports.mqtt}`, 'ox-api-1', `${res.body.secret}x`),
    ).rejects.toThrow();
    const other = await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'ox-api-2' } });
    expect(other.body.secret).not.toBe(res.body.secret);
  });

  it('POST /devices with patientId assigns it from now; its readings are accepted', async () => {
    const before = Date.now();
    const res = await call('POST', '/api/v1/devices', {
      token: admin.token,
      json: { id: 'hr-api-1', patientId: 'p-own-2' },
    });
    expect(res.status, describeRes(res)).toBe(201);
    const device = await get('/api/v1/devices/hr-api-1', admin.token);
    expect(device.status, describeRes(device)).toBe(200);
    expect(device.body.assignments).toHaveLength(1);
    expect(device.body.assignments[0]).toMatchObject({ deviceId: 'hr-api-1', patientId: 'p-own-2', to: null });
    expect(Date.parse(device.body.assignments[0].from)).toBeGreaterThanOrEqual(before - 5_000);

    const client = await connected('hr-api-1', res.body.secret);
    await publish(client, 'hr-api-1', [heartRate('h1', 70, Date.now())]);
    const { rows } = await database.query(
      `SELECT patient_id, value FROM readings WHERE device_id = 'hr-api-1' AND reading_id = 'h1'`,
    );
    expect(rows).toEqual([{ patient_id: 'p-own-2', value: 70 }]);
  });

  it('POST /devices refuses a duplicate (409), an unknown patient (404), invalid input (422), malformed JSON (400)', async () => {
    expectError(
      await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'ox-api-1' } }),
      409,
      'conflict',
    );
    expectError(
      await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'dev-orphan', patientId: 'p-nobody' } }),
      404,
      'not_found',
    );
    expectError(await get('/api/v1/devices/dev-orphan', admin.token), 404, 'not_found');
    expectInvalid(await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'no/slash' } }), ['body.id']);
    expectInvalid(
      await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'dev-m', model: 'm'.repeat(201) } }),
      ['body.model'],
    );
    expectInvalid(
      await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'dev-p', patientId: 'a b' } }),
      ['body.patientId'],
    );
    expectError(await call('POST', '/api/v1/devices', { token: admin.token, raw: "{'id': 1}" }), 400, 'bad_request');
    const { rows } = await database.query(`SELECT id FROM devices WHERE id IN ('dev-orphan', 'dev-m', 'dev-p')`);
    expect(rows).toEqual([]);
  });

  it('GET /devices/{id} returns exactly the device and its assignments; 404 unknown; 422 bad id', async () => {
    const res = await get('/api/v1/devices/ox-api-1', admin.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['id', 'model', 'enabled', 'createdAt', 'assignments']);
    expect(res.body).toMatchObject({ id: 'ox-api-1', model: 'Oxi 3000', enabled: true, assignments: [] });
    expectTime(res.body.createdAt);
    const bare = await get('/api/v1/devices/ox-api-2', admin.token);
    expect(bare.body.model).toBeNull();
    expectError(await get('/api/v1/devices/dev-nobody', admin.token), 404, 'not_found');
    expectInvalid(await get(`/api/v1/devices/${'d'.repeat(65)}`, admin.token), ['params.id']);
  });

  it('POST /devices/{id}/assignments records intervals, ends an open one, and refuses overlaps (409)', async () => {
    await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'asg-1' } });
    const assign = (body: unknown) =>
      call('POST', '/api/v1/devices/asg-1/assignments', { token: admin.token, json: body });

    const first = await assign({ patientId: 'p-own-1', from: '2026-01-01T00:00:00Z', to: '2026-01-10T01:00:00+01:00' });
    expect(first.status, describeRes(first)).toBe(201);
    expectKeys(first.body, ['assignment', 'ended']);
    expectAssignment(first.body.assignment);
    expect(first.body).toEqual({
      assignment: {
        id: first.body.assignment.id,
        deviceId: 'asg-1',
        patientId: 'p-own-1',
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-10T00:00:00.000Z',
      },
      ended: null,
    });

    // Overlaps the first: refused, nothing recorded.
    expectError(
      await assign({ patientId: 'p-own-2', from: '2026-01-05T00:00:00Z', to: '2026-01-20T00:00:00Z' }),
      409,
      'conflict',
    );

    // Starts where the first ends: fine, open-ended.
    const second = await assign({ patientId: 'p-own-2', from: '2026-01-10T00:00:00Z' });
    expect(second.status, describeRes(second)).toBe(201);
    expect(second.body.assignment).toMatchObject({ patientId: 'p-own-2', from: '2026-01-10T00:00:00.000Z', to: null });
    expect(second.body.ended).toBeNull();

    // Inside a closed interval: refused even though an open one is later.
    expectError(
      await assign({ patientId: 'p-other', from: '2026-01-09T00:00:00Z', to: '2026-01-09T12:00:00Z' }),
      409,
      'conflict',
    );

    // Later, in epoch milliseconds: the open-ended one is ended where the new one starts.
    const third = await assign({ patientId: 'p-other', from: Date.UTC(2026, 1, 1) });
    expect(third.status, describeRes(third)).toBe(201);
    expectAssignment(third.body.assignment);
    expectAssignment(third.body.ended);
    expect(third.body.ended).toEqual({ ...second.body.assignment, to: '2026-02-01T00:00:00.000Z' });
    expect(third.body.assignment).toMatchObject({ patientId: 'p-other', from: '2026-02-01T00:00:00.000Z', to: null });

    const device = await get('/api/v1/devices/asg-1', admin.token);
    expect(device.status).toBe(200);
    device.body.assignments.forEach(expectAssignment);
    expect(device.body.assignments).toEqual([first.body.assignment, third.body.ended, third.body.assignment]);
  });

  it('POST /devices/{id}/assignments: 404 unknown device or patient, 422 invalid input, 400 malformed JSON', async () => {
    await call('POST', '/api/v1/devices', { token: admin.token, json: { id: 'asg-2' } });
    const assign = (id: string, body: unknown) =>
      call('POST', `/api/v1/devices/${id}/assignments`, { token: admin.token, json: body });
    expectError(await assign('dev-nobody', { patientId: 'p-own-1' }), 404, 'not_found');
    expectError(await assign('asg-2', { patientId: 'p-nobody' }), 404, 'not_found');
    expectInvalid(await assign('asg-2', {}), ['body.patientId']);
    expectInvalid(await assign('asg-2', { patientId: 'no spaces' }), ['body.patientId']);
    expectInvalid(await assign('asg-2', { patientId: 'p-own-1', from: true }), ['body.from']);
    expectInvalid(await assign('bad*id', { patientId: 'p-own-1' }), ['params.id']);
    expectError(
      await assign('asg-2', { patientId: 'p-own-1', from: '2026-03-01T00:00:00Z', to: '2026-02-01T00:00:00Z' }),
      422,
      'invalid_input',
    );
    expectError(await assign('asg-2', { patientId: 'p-own-1', from: 'yesterday' }), 422, 'invalid_input');
    expectError(
      await assign('asg-2', { patientId: 'p-own-1', from: '2026-03-01T00:00:00' }), // no offset
      422,
      'invalid_input',
    );
    expectError(
      await call('POST', '/api/v1/devices/asg-2/assignments', { token: admin.token, raw: '{"patientId":' }),
      400,
      'bad_request',
    );
    const { rows } = await database.query(`SELECT id FROM device_assignments WHERE device_id = 'asg-2'`);
    expect(rows).toEqual([]);
  });
});

// ---------------------------------------------------------------- indicators

describe('indicators', () => {
  beforeAll(async () => {
    const created = await call('POST', '/api/v1/devices', {
      token: admin.token,
      json: { id: 'hr-ind-1', patientId: 'p-own-1' },
    });
    expect(created.status, describeRes(created)).toBe(201);
    const client = await connected('hr-ind-1', created.body.secret);
    const at = Date.now();
    await publish(client, 'hr-ind-1', [heartRate('i1', 70, at), heartRate('i2', 80, at), heartRate('i3', 90, at)]);
    await settled();
    await waitFor(async () => {
      const { rows } = await database.query(
        `SELECT 1 FROM patient_indicators WHERE patient_id = 'p-own-1' AND key = 'hr_mean' AND n = 3`,
      );
      return rows.length > 0;
    }, 'the heart rate indicators');
  });

  it("returns the patient's indicators with window, n and sufficient, exactly as stored", async () => {
    const res = await get('/api/v1/patients/p-own-1/indicators', clinician.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['patientId', 'indicators']);
    expect(res.body.patientId).toBe('p-own-1');
    for (const i of res.body.indicators) {
      expectKeys(i, ['key', 'value', 'unit', 'from', 'to', 'n', 'sufficient', 'computedAt']);
      expectTime(i.from);
      expectTime(i.to);
      expectTime(i.computedAt);
      expect(Number.isInteger(i.n)).toBe(true);
      expect(i.sufficient).toBeTypeOf('boolean');
    }
    const byKey = Object.fromEntries(res.body.indicators.map((i: { key: string }) => [i.key, i]));
    expect(byKey.hr_mean).toMatchObject({ value: 80, unit: '/min', n: 3, sufficient: true });
    expect(byKey.hr_min).toMatchObject({ value: 70, n: 3 });
    expect(byKey.hr_max).toMatchObject({ value: 90, n: 3 });
    expect(Date.parse(byKey.hr_mean.to) - Date.parse(byKey.hr_mean.from)).toBe(24 * HOUR);

    const { rows } = await database.query(
      `SELECT key, value, unit, from_at, to_at, n, sufficient, computed_at FROM patient_indicators
       WHERE patient_id = 'p-own-1' ORDER BY key`,
    );
    expect(res.body.indicators).toEqual(
      rows.map((r) => ({
        key: r.key,
        value: r.value,
        unit: r.unit,
        from: (r.from_at as Date).toISOString(),
        to: (r.to_at as Date).toISOString(),
        n: r.n,
        sufficient: r.sufficient,
        computedAt: (r.computed_at as Date).toISOString(),
      })),
    );
  });

  it('is empty for a patient without readings, 404 for another or a missing patient, 422 for a bad id', async () => {
    await addPatient(database.db, { id: 'p-empty' });
    const own = await createApiToken(database.db, { role: 'clinician', patientIds: ['p-empty'] });
    const empty = await get('/api/v1/patients/p-empty/indicators', own.token);
    expect(empty.status, describeRes(empty)).toBe(200);
    expect(empty.body).toEqual({ patientId: 'p-empty', indicators: [] });
    expectSameNotFound(
      await get('/api/v1/patients/p-other/indicators', clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody/indicators', clinician.token),
      'p-nobody',
    );
    expectInvalid(await get('/api/v1/patients/bad*id/indicators', clinician.token), ['params.id']);
  });
});

// ---------------------------------------------------------------- thresholds

describe('thresholds', () => {
  const RULES = [
    'spo2_low',
    'weight_gain',
    'bp_high',
    'fever',
    'hypoglycemia',
    'hyperglycemia',
    'tachycardia',
    'bradycardia',
    'no_data',
  ];

  async function overrides(patientId: string) {
    const { rows } = await database.query(
      `SELECT rule, threshold FROM alert_thresholds WHERE patient_id = $1 ORDER BY rule`,
      [patientId],
    );
    return Object.fromEntries(rows.map((r) => [r.rule, r.threshold]));
  }

  function expectThresholds(body: any): Record<string, any> {
    expectKeys(body, ['thresholds']);
    for (const t of body.thresholds) expectKeys(t, ['rule', 'threshold', 'default', 'overridden', 'unit']);
    expect(body.thresholds.map((t: { rule: string }) => t.rule).sort()).toEqual([...RULES].sort());
    return Object.fromEntries(body.thresholds.map((t: { rule: string }) => [t.rule, t]));
  }

  it('GET returns every rule with its default', async () => {
    const res = await get('/api/v1/patients/p-own-2/thresholds', clinician.token);
    expect(res.status, describeRes(res)).toBe(200);
    const byRule = expectThresholds(res.body);
    expect(byRule.spo2_low).toEqual({ rule: 'spo2_low', threshold: 92, default: 92, overridden: false, unit: '%' });
    expect(byRule.bp_high).toEqual({
      rule: 'bp_high',
      threshold: { systolic: 180, diastolic: 110 },
      default: { systolic: 180, diastolic: 110 },
      overridden: false,
      unit: 'mm[Hg]',
    });
    expect(byRule.no_data).toMatchObject({ threshold: 48, unit: 'h' });
  });

  it('PUT sets overrides, null restores the default, and GET reads them back', async () => {
    const res = await call('PUT', '/api/v1/patients/p-own-2/thresholds', {
      token: clinician.token,
      json: { spo2_low: 88, bp_high: { systolic: 170, diastolic: 100 } },
    });
    expect(res.status, describeRes(res)).toBe(200);
    const byRule = expectThresholds(res.body);
    expect(byRule.spo2_low).toEqual({ rule: 'spo2_low', threshold: 88, default: 92, overridden: true, unit: '%' });
    expect(byRule.bp_high).toMatchObject({ threshold: { systolic: 170, diastolic: 100 }, overridden: true });
    expect(byRule.fever).toMatchObject({ threshold: 38, overridden: false });
    expect(await overrides('p-own-2')).toEqual({ spo2_low: 88, bp_high: { systolic: 170, diastolic: 100 } });

    const read = await get('/api/v1/patients/p-own-2/thresholds', clinician.token);
    expect(read.body).toEqual(res.body);

    const restored = await call('PUT', '/api/v1/patients/p-own-2/thresholds', {
      token: clinician.token,
      json: { spo2_low: null },
    });
    expect(restored.status, describeRes(restored)).toBe(200);
    expect(expectThresholds(restored.body).spo2_low).toMatchObject({ threshold: 92, overridden: false });
    expect(await overrides('p-own-2')).toEqual({ bp_high: { systolic: 170, diastolic: 100 } });
  });

  it('PUT is all or nothing: one invalid rule is a 422 and nothing is saved', async () => {
    const before = await overrides('p-own-2');
    const put = (json: unknown) => call('PUT', '/api/v1/patients/p-own-2/thresholds', { token: clinician.token, json });
    expectError(await put({ fever: 37.5, spo2_low: -5 }), 422, 'invalid_input');
    expectError(await put({ fever: 37.5, spo2_low: 0 }), 422, 'invalid_input');
    expectError(await put({ fever: 37.5, nonsense: 1 }), 422, 'invalid_input');
    expectError(await put({ fever: 37.5, bp_high: 170 }), 422, 'invalid_input');
    expectError(await put({ fever: 37.5, spo2_low: { systolic: 1, diastolic: 1 } }), 422, 'invalid_input');
    expectInvalid(await put({ fever: 37.5, bp_high: { systolic: 170 } }), ['body.bp_high']);
    expectInvalid(await put({ fever: 'hot' }), ['body.fever']);
    expectInvalid(await put([88]), ['body']);
    expectError(await put({}), 422, 'invalid_input');
    expectError(
      await call('PUT', '/api/v1/patients/p-own-2/thresholds', { token: clinician.token, raw: '{"fever": 37.5,' }),
      400,
      'bad_request',
    );
    expect(await overrides('p-own-2')).toEqual(before);
    const read = await get('/api/v1/patients/p-own-2/thresholds', clinician.token);
    expect(expectThresholds(read.body).fever).toMatchObject({ threshold: 38, overridden: false });
  });

  it("another clinician's patient is a 404 like a missing one, for GET and PUT, and nothing is saved", async () => {
    expectSameNotFound(
      await get('/api/v1/patients/p-other/thresholds', clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody/thresholds', clinician.token),
      'p-nobody',
    );
    expectSameNotFound(
      await call('PUT', '/api/v1/patients/p-other/thresholds', { token: clinician.token, json: { fever: 37 } }),
      'p-other',
      await call('PUT', '/api/v1/patients/p-nobody/thresholds', { token: clinician.token, json: { fever: 37 } }),
      'p-nobody',
    );
    expect(await overrides('p-other')).toEqual({});
    expectInvalid(await get('/api/v1/patients/bad*id/thresholds', clinician.token), ['params.id']);
  });
});

// ---------------------------------------------------------------- alerts

describe('alerts', () => {
  const spo2 = (id: string, value: number, at: number): Reading => ({ id, type: 'spo2', at, value, unit: '%' });
  const temp = (id: string, value: number, at: number): Reading => ({
    id,
    type: 'body_temperature',
    at,
    value,
    unit: 'Cel',
  });
  const bp = (id: string, systolic: number, diastolic: number, at: number): Reading => ({
    id,
    type: 'blood_pressure',
    at,
    systolic,
    diastolic,
    unit: 'mm[Hg]',
  });
  const glucose = (id: string, value: number, at: number): Reading => ({
    id,
    type: 'blood_glucose',
    at,
    value,
    unit: 'mg/dL',
  });
  const devices: Record<string, MqttClient> = {};

  async function alertRows(patientIds: string[]) {
    const { rows } = await database.query(
      `SELECT id::text, patient_id, rule, status, acknowledged_by FROM alerts WHERE patient_id = ANY($1) ORDER BY id`,
      [patientIds],
    );
    return rows;
  }

  async function raise(deviceId: string, readings: Reading[], patientId: string, expected: number): Promise<void> {
    await publish(devices[deviceId], deviceId, readings);
    await settled();
    await waitFor(async () => (await alertRows([patientId])).length >= expected, `${expected} alerts of ${patientId}`);
  }

  beforeAll(async () => {
    for (const [deviceId, patientId] of [
      ['al-dev-1', 'p-own-1'],
      ['al-dev-2', 'p-own-2'],
      ['al-dev-3', 'p-other'],
    ]) {
      devices[deviceId] = await connected(deviceId, await provisionDevice(database.db, deviceId, patientId));
    }
    const t = Date.now() - 10 * 60_000;
    await raise(
      'al-dev-1',
      [spo2('a1', 88, t), temp('a2', 39.2, t), bp('a3', 190, 115, t), glucose('a4', 40, t)],
      'p-own-1',
      4,
    );
    await raise('al-dev-2', [spo2('b1', 80, t), temp('b2', 39.5, t)], 'p-own-2', 2);
    await raise('al-dev-3', [spo2('c1', 80, t), temp('c2', 39.5, t)], 'p-other', 2);
  });

  it("lists the clinician's alerts only, newest first, exactly as stored", async () => {
    const res = await get('/api/v1/alerts', clinician.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['items', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    res.body.items.forEach(expectAlert);
    const rows = await alertRows(['p-own-1', 'p-own-2']);
    expect(res.body.items.map((a: { id: string }) => a.id)).toEqual(rows.map((r) => r.id).reverse());
    expect(new Set(res.body.items.map((a: { patientId: string }) => a.patientId))).toEqual(
      new Set(['p-own-1', 'p-own-2']),
    );
    const fever = res.body.items.find((a: any) => a.patientId === 'p-own-1' && a.rule === 'fever');
    expect(fever).toMatchObject({
      status: 'open',
      acknowledgedAt: null,
      resolvedAt: null,
      threshold: 38,
      readingIds: ['al-dev-1/a2'],
    });
    const high = res.body.items.find((a: any) => a.rule === 'bp_high');
    expect(high).toMatchObject({ patientId: 'p-own-1', threshold: { systolic: 180, diastolic: 110 } });

    const { rows: opened } = await database.query(`SELECT opened_at FROM alerts WHERE id = $1`, [fever.id]);
    expect(fever.openedAt).toBe((opened[0].opened_at as Date).toISOString());
  });

  it('filters by status and patient; another patient is a 404 like a missing one; 422 for bad filters', async () => {
    const mine = await get('/api/v1/alerts?patient=p-own-2', clinician.token);
    expect(mine.status, describeRes(mine)).toBe(200);
    expect(mine.body.items.map((a: any) => a.patientId)).toEqual(['p-own-2', 'p-own-2']);
    const open = await get('/api/v1/alerts?status=open&patient=p-own-1', clinician.token);
    expect(open.body.items).toHaveLength(4);
    const resolved = await get('/api/v1/alerts?status=resolved', clinician.token);
    expect(resolved.body).toEqual({ items: [], nextCursor: null });

    expectSameNotFound(
      await get('/api/v1/alerts?patient=p-other', clinician.token),
      'p-other',
      await get('/api/v1/alerts?patient=p-nobody', clinician.token),
      'p-nobody',
    );
    // The other clinician sees theirs and nothing of ours.
    const theirs = await get('/api/v1/alerts', otherClinician.token);
    expect(theirs.body.items.map((a: any) => a.patientId)).toEqual(['p-other', 'p-other']);

    expectInvalid(await get('/api/v1/alerts?status=closed', clinician.token), ['querystring.status']);
    expectInvalid(await get('/api/v1/alerts?patient=a%20b', clinician.token), ['querystring.patient']);
    expectInvalid(await get('/api/v1/alerts?limit=0', clinician.token), ['querystring.limit']);
    expectError(await get('/api/v1/alerts?cursor=not-a-cursor', clinician.token), 400, 'bad_request');
  });

  it('pages with limit=2: every alert once, none skipped while new ones open, null at the end', async () => {
    const existing = (await alertRows(['p-own-1', 'p-own-2'])).map((r) => r.id as string);
    expect(existing).toHaveLength(6);
    let n = 0;
    const pages = await walkPages('/api/v1/alerts?limit=2', clinician.token, 2, async (page) => {
      if (page > 1) return;
      const t = Date.now() - 5 * 60_000;
      n++;
      const readings = page === 0 ? [bp(`nb${n}`, 200, 120, t)] : [glucose(`ng${n}`, 30, t)];
      await raise('al-dev-2', readings, 'p-own-2', 2 + n);
    });
    expect(n).toBe(2);
    const seen = pages.flat().map((a) => a.id as string);
    pages.flat().forEach(expectAlert);
    expect(new Set(seen).size, `repeated: ${seen}`).toBe(seen.length);
    for (const id of existing) expect(seen, `alert ${id} was skipped`).toContain(id);
    expect(seen).toEqual([...seen].sort((a, b) => Number(b) - Number(a)));
    expect(pages.length).toBeGreaterThanOrEqual(3);
  });

  it('acknowledges an open alert once (409 the second time), and audits it', async () => {
    const [fever] = (await alertRows(['p-own-1'])).filter((r) => r.rule === 'fever');
    const mark = await auditMark();
    const before = Date.now();
    const res = await call('POST', `/api/v1/alerts/${fever.id}/acknowledge`, { token: clinician.token });
    expect(res.status, describeRes(res)).toBe(200);
    expectAlert(res.body);
    expect(res.body).toMatchObject({ id: fever.id, patientId: 'p-own-1', rule: 'fever', status: 'acknowledged' });
    expect(Date.parse(res.body.acknowledgedAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(res.body.resolvedAt).toBeNull();
    const [row] = (await alertRows(['p-own-1'])).filter((r) => r.id === fever.id);
    expect(row).toMatchObject({ status: 'acknowledged', acknowledged_by: `token:${clinician.id}` });
    expect(await auditSince(mark)).toEqual([
      { tokenId: clinician.id, role: 'clinician', patientId: 'p-own-1', action: 'alerts.acknowledge' },
    ]);

    const again = await call('POST', `/api/v1/alerts/${fever.id}/acknowledge`, { token: clinician.token });
    expectError(again, 409, 'conflict');

    const listed = await get('/api/v1/alerts?status=acknowledged', clinician.token);
    expect(listed.body.items).toEqual([res.body]);
  });

  it('resolves an alert whose condition already cleared when it is acknowledged', async () => {
    await publish(devices['al-dev-1'], 'al-dev-1', [spo2('a5', 98, Date.now() - 60_000)]);
    await settled();
    const [low] = (await alertRows(['p-own-1'])).filter((r) => r.rule === 'spo2_low');
    await waitFor(async () => {
      const { rows } = await database.query(`SELECT condition_cleared_at FROM alerts WHERE id = $1`, [low.id]);
      return rows[0].condition_cleared_at !== null;
    }, 'the spo2 condition to clear');
    const res = await call('POST', `/api/v1/alerts/${low.id}/acknowledge`, { token: clinician.token });
    expect(res.status, describeRes(res)).toBe(200);
    expectAlert(res.body);
    expect(res.body).toMatchObject({ id: low.id, status: 'resolved' });
    expectTime(res.body.acknowledgedAt);
    expectTime(res.body.resolvedAt);
    expectError(
      await call('POST', `/api/v1/alerts/${low.id}/acknowledge`, { token: clinician.token }),
      409,
      'conflict',
    );
  });

  it("acknowledging another clinician's alert is a 404 like a missing one, and changes nothing", async () => {
    const [theirs] = await alertRows(['p-other']);
    expectSameNotFound(
      await call('POST', `/api/v1/alerts/${theirs.id}/acknowledge`, { token: clinician.token }),
      theirs.id,
      await call('POST', '/api/v1/alerts/999999999999/acknowledge', { token: clinician.token }),
      '999999999999',
    );
    const [after] = await alertRows(['p-other']);
    expect(after).toMatchObject({ id: theirs.id, status: 'open', acknowledged_by: null });
    expectInvalid(await call('POST', '/api/v1/alerts/abc/acknowledge', { token: clinician.token }), ['params.id']);
    expectInvalid(await call('POST', `/api/v1/alerts/${'9'.repeat(19)}/acknowledge`, { token: clinician.token }), [
      'params.id',
    ]);
    expectError(
      await call('POST', `/api/v1/alerts/${theirs.id}/acknowledge`, { token: clinician.token, raw: '{' }),
      400,
      'bad_request',
    );
  });

  it('audits alert lists per patient read', async () => {
    const mark = await auditMark();
    expect((await get('/api/v1/alerts?patient=p-own-2', clinician.token)).status).toBe(200);
    expect(await auditSince(mark)).toEqual([
      { tokenId: clinician.id, role: 'clinician', patientId: 'p-own-2', action: 'alerts.list' },
    ]);
    const mark2 = await auditMark();
    expect((await get('/api/v1/alerts', clinician.token)).status).toBe(200);
    const rows = await auditSince(mark2);
    expect(rows.map((r) => r.patientId).sort()).toEqual(['p-own-1', 'p-own-2']);
    for (const r of rows) expect(r).toMatchObject({ tokenId: clinician.id, role: 'clinician', action: 'alerts.list' });
  });
});

// ---------------------------------------------------------------- rejections

describe('rejections', () => {
  let unassigned: MqttClient;

  async function rejectionRows() {
    const { rows } = await database.query(
      `SELECT device_id, reading_id, reason, detail, received_at FROM rejections ORDER BY id DESC`,
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      readingId: r.reading_id,
      reason: r.reason,
      detail: r.detail,
      receivedAt: (r.received_at as Date).toISOString(),
    }));
  }

  async function rejectionsCount(): Promise<number> {
    const { rows } = await database.query(`SELECT count(*)::int AS n FROM rejections`);
    return rows[0].n;
  }

  beforeAll(async () => {
    unassigned = await connected('rej-dev-1', await provisionDevice(database.db, 'rej-dev-1', null));
    const assigned = await connected('rej-dev-2', await provisionDevice(database.db, 'rej-dev-2', 'p-rej'));
    const start = await rejectionsCount();
    const t = Date.now() - 60_000;
    await publish(unassigned, 'rej-dev-1', [heartRate('u1', 70, t), heartRate('u2', 71, t), heartRate('u3', 72, t)]);
    await publish(unassigned, 'rej-dev-1', 'this is not json');
    await publish(assigned, 'rej-dev-2', [{ id: 'r1', type: 'spo2', at: t, value: 20, unit: '%' }]);
    await waitFor(async () => (await rejectionsCount()) >= start + 5, 'the rejections');
  });

  it('lists rejected readings newest first, exactly as stored', async () => {
    const res = await get('/api/v1/rejections', operator.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['items', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    for (const r of res.body.items) {
      expectKeys(r, ['deviceId', 'readingId', 'reason', 'detail', 'receivedAt']);
      expectTime(r.receivedAt);
    }
    expect(res.body.items).toEqual(await rejectionRows());
    const reasons = res.body.items.map((r: any) => `${r.deviceId}:${r.readingId}:${r.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'rej-dev-1:u1:unassigned',
        'rej-dev-1:u2:unassigned',
        'rej-dev-1:u3:unassigned',
        'rej-dev-1:null:invalid_json',
        'rej-dev-2:r1:out_of_range',
      ]),
    );
  });

  it('filters by device and reason; 422 for bad filters; 400 for a bad cursor', async () => {
    const byDevice = await get('/api/v1/rejections?device=rej-dev-2', operator.token);
    expect(byDevice.status, describeRes(byDevice)).toBe(200);
    expect(byDevice.body.items.map((r: any) => [r.deviceId, r.readingId, r.reason])).toEqual([
      ['rej-dev-2', 'r1', 'out_of_range'],
    ]);
    const byReason = await get('/api/v1/rejections?reason=invalid_json', operator.token);
    expect(byReason.body.items.map((r: any) => [r.deviceId, r.readingId])).toEqual([['rej-dev-1', null]]);
    const both = await get('/api/v1/rejections?device=rej-dev-1&reason=unassigned', operator.token);
    expect(both.body.items.map((r: any) => r.readingId).sort()).toEqual(['u1', 'u2', 'u3']);
    const none = await get('/api/v1/rejections?device=nobody-here', operator.token);
    expect(none.body).toEqual({ items: [], nextCursor: null });

    expectInvalid(await get('/api/v1/rejections?reason=bogus', operator.token), ['querystring.reason']);
    expectInvalid(await get('/api/v1/rejections?device=a%20b', operator.token), ['querystring.device']);
    expectInvalid(await get('/api/v1/rejections?limit=0', operator.token), ['querystring.limit']);
    expectInvalid(await get('/api/v1/rejections?limit=1001', operator.token), ['querystring.limit']);
    expectError(await get('/api/v1/rejections?cursor=%2F%2F%2F', operator.token), 400, 'bad_request');
  });

  it('pages with limit=2: every rejection once, none skipped while new ones arrive, null at the end', async () => {
    const key = (r: any) => JSON.stringify([r.deviceId, r.readingId, r.reason, r.detail, r.receivedAt]);
    const existing = (await rejectionRows()).map(key);
    expect(existing.length).toBeGreaterThanOrEqual(5);
    expect(new Set(existing).size).toBe(existing.length);
    let n = 0;
    const pages = await walkPages('/api/v1/rejections?limit=2', operator.token, 2, async (page) => {
      if (page > 1) return;
      const count = await rejectionsCount();
      n++;
      await publish(unassigned, 'rej-dev-1', [heartRate(`late-${n}`, 70, Date.now() - 1_000)]);
      await waitFor(async () => (await rejectionsCount()) > count, 'a new rejection');
    });
    expect(n).toBe(2);
    const seen = pages.flat().map(key);
    expect(new Set(seen).size, 'a rejection was repeated').toBe(seen.length);
    for (const k of existing) expect(seen, `skipped ${k}`).toContain(k);
    expect(pages.length).toBeGreaterThanOrEqual(3);
  });
});

// ---------------------------------------------------------------- audit

describe('audit', () => {
  it('writes one row per patient for each clinician read and write of patient data', async () => {
    const cases: [string, string, unknown, { patientId: string; action: string }[]][] = [
      [
        'GET',
        '/api/v1/patients',
        undefined,
        [
          { patientId: 'p-own-1', action: 'patients.list' },
          { patientId: 'p-own-2', action: 'patients.list' },
        ],
      ],
      ['GET', '/api/v1/patients/p-own-1', undefined, [{ patientId: 'p-own-1', action: 'patients.read' }]],
      ['GET', '/api/v1/patients/p-own-1/indicators', undefined, [{ patientId: 'p-own-1', action: 'indicators.read' }]],
      ['GET', '/api/v1/patients/p-own-2/thresholds', undefined, [{ patientId: 'p-own-2', action: 'thresholds.read' }]],
      [
        'PUT',
        '/api/v1/patients/p-own-2/thresholds',
        { no_data: 24 },
        [{ patientId: 'p-own-2', action: 'thresholds.write' }],
      ],
    ];
    for (const [method, path, json, expected] of cases) {
      const mark = await auditMark();
      const res = await call(method, path, { token: clinician.token, json });
      expect(res.status, `${method} ${path}: ${describeRes(res)}`).toBe(200);
      const rows = await auditSince(mark);
      expect(rows, `${method} ${path}`).toEqual(
        expected.map((e) => ({ tokenId: clinician.id, role: 'clinician', ...e })),
      );
    }
    const { rows } = await database.query(`SELECT at FROM audit_log ORDER BY id DESC LIMIT 1`);
    expect(Date.now() - (rows[0].at as Date).getTime()).toBeLessThan(60_000);
  });

  it('writes nothing for admin, operator and bootstrap requests, for refused requests, nor for /metrics', async () => {
    const mark = await auditMark();
    const requests: [string, string, string, unknown?][] = [
      ['GET', '/api/v1/patients', admin.token],
      ['GET', '/api/v1/patients/p-own-1', admin.token],
      ['GET', '/api/v1/patients', ADMIN_TOKEN],
      ['GET', '/api/v1/patients/p-own-2', ADMIN_TOKEN],
      ['POST', '/api/v1/patients', admin.token, { id: 'p-audit-free' }],
      ['GET', '/api/v1/devices/al-dev-1', admin.token],
      ['GET', '/api/v1/rejections', operator.token],
      ['GET', '/api/v1/rejections', admin.token],
      ['GET', '/api/v1/patients/p-own-1/indicators', admin.token],
      ['GET', '/api/v1/patients/p-own-1', operator.token],
    ];
    for (const [method, path, token, json] of requests) {
      const res = await call(method, path, { token, json });
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
    for (const headers of [undefined, { authorization: `Bearer ${clinician.token}` }]) {
      const metrics = await fetch(`http://127.0.0.1:${service.ports.http}/metrics`, { headers });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
    }
    expect(await auditSince(mark)).toEqual([]);
  });
});

// ---------------------------------------------------------------- 422 issues

describe('invalid input', () => {
  it('names the offending field in `issues` for every 422, business rules included', async () => {
    const cases: [string, Res, string][] = [
      [
        'invalid threshold',
        await call('PUT', '/api/v1/patients/p-own-1/thresholds', { token: clinician.token, json: { spo2_low: -1 } }),
        'body.spo2_low',
      ],
      [
        'unknown threshold rule',
        await call('PUT', '/api/v1/patients/p-own-1/thresholds', { token: clinician.token, json: { nonsense: 1 } }),
        'body.nonsense',
      ],
      [
        'unknown time zone',
        await call('POST', '/api/v1/patients', { token: admin.token, json: { id: 'p-tz2', timeZone: 'Mars/Olympus' } }),
        'body.timeZone',
      ],
      [
        'assignment time that is not a time',
        await call('POST', '/api/v1/devices/ox-api-1/assignments', {
          token: admin.token,
          json: { patientId: 'p-own-1', from: 'yesterday' },
        }),
        'body.from',
      ],
      [
        'assignment ending before it starts',
        await call('POST', '/api/v1/devices/ox-api-1/assignments', {
          token: admin.token,
          json: { patientId: 'p-own-1', from: '2026-03-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
        }),
        'body.to',
      ],
    ];
    for (const [what, res, path] of cases) {
      expect.soft(res.status, what).toBe(422);
      expect.soft(res.body?.error?.code, what).toBe('invalid_input');
      expect
        .soft(
          (res.body?.error?.issues ?? []).map((i: { path: string }) => i.path),
          `${what}: ${describeRes(res)}`,
        )
        .toContain(path);
    }
  });
});

// ---------------------------------------------------------------- robustness

describe('robustness', () => {
  it('authenticates before it validates: a caller without a valid token learns nothing but 401', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/api/v1/patients', {}],
      ['GET', '/api/v1/patients/bad*id', undefined],
      ['PUT', '/api/v1/patients/p-own-1/thresholds', { fever: 'hot' }],
      ['POST', '/api/v1/devices', { id: 'no/slash' }],
      ['GET', '/api/v1/alerts?status=closed', undefined],
      ['POST', '/api/v1/alerts/abc/acknowledge', undefined],
      ['GET', '/api/v1/rejections?limit=0', undefined],
    ];
    for (const [method, path, json] of cases) {
      const res = await call(method, path, { json });
      expect.soft(res.status, `${method} ${path} without a token: ${describeRes(res)}`).toBe(401);
    }
  });

  it('refuses text that PostgreSQL cannot store (NUL) with a 422, never a 500', async () => {
    const patient = await call('POST', '/api/v1/patients', {
      token: admin.token,
      json: { id: 'p-nul', displayName: 'a\u0000b' },
    });
    expect.soft(patient.status, `POST /patients displayName with NUL: ${describeRes(patient)}`).toBe(422);
    const device = await call('POST', '/api/v1/devices', {
      token: admin.token,
      json: { id: 'dev-nul', model: 'a\u0000b' },
    });
    expect.soft(device.status, `POST /devices model with NUL: ${describeRes(device)}`).toBe(422);
  });

  it('answers a patients cursor it never issued with a 400, never a 500', async () => {
    // "AA" is base64url for a single NUL byte.
    for (const cursor of ['AA', 'AGFi']) {
      const res = await get(`/api/v1/patients?cursor=${cursor}`, admin.token);
      expect.soft(res.status, `GET /api/v1/patients?cursor=${cursor}: ${describeRes(res)}`).toBe(400);
    }
  });

  it('PUT thresholds is all or nothing even when the database refuses one of the rules', async () => {
    // The database refuses any fever threshold of p-own-1: the spo2_low sent with it must not stay either.
    await database.query(`
      CREATE FUNCTION refuse_fever() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.patient_id = 'p-own-1' AND NEW.rule = 'fever' THEN RAISE EXCEPTION 'refused for the test'; END IF;
        RETURN NEW;
      END $$`);
    await database.query(`CREATE TRIGGER refuse_fever BEFORE INSERT OR UPDATE ON alert_thresholds
      FOR EACH ROW EXECUTE FUNCTION refuse_fever()`);
    try {
      const res = await call('PUT', '/api/v1/patients/p-own-1/thresholds', {
        token: clinician.token,
        json: { spo2_low: 85, fever: 37.5 },
      });
      expectError(res, 500, 'internal');
      expect(res.body.error.message).not.toContain('refused for the test');
      const { rows } = await database.query(`SELECT rule FROM alert_thresholds WHERE patient_id = 'p-own-1'`);
      expect(rows, 'thresholds saved by a PUT that failed').toEqual([]);
    } finally {
      await database.query(`DROP TRIGGER refuse_fever ON alert_thresholds`);
      await database.query(`DROP FUNCTION refuse_fever()`);
    }
  });
});
