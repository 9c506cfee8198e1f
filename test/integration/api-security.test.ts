import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { RESERVED_IDS } from '../../src/domain/ids.ts';
import { DATA_CSP, DOCS_CSP } from '../../src/http/security-headers.ts';
import { useTestService } from '../fixture.ts';
import { startTestApp } from '../helpers/app.ts';
import type { Reading } from '../helpers/device.ts';

/**
 * Issue #13, the HTTP API safe to expose (README, "Security"): links never built
 * from the Host header, security headers on every response, strict request
 * bodies, reserved ids refused, and the rate limits (small ones, set through the
 * configuration). Real service, real HTTP requests (node:http, so that the Host
 * header and the source address can be chosen: every address of 127.0.0.0/8 is
 * this machine, so a test takes its own to count on its own).
 */

const LIMITS = { perToken: 40, authFailures: 10, notFound: 10 };
const t = useTestService({
  adminToken: true,
  env: {
    VITALINK_HTTP_RATE_LIMIT_PER_MIN: String(LIMITS.perToken),
    VITALINK_HTTP_AUTH_FAILURES_PER_MIN: String(LIMITS.authFailures),
    VITALINK_HTTP_NOT_FOUND_PER_MIN: String(LIMITS.notFound),
  },
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

function request(
  method: string,
  path: string,
  options: { token?: string; json?: unknown; headers?: Record<string, string>; from?: string; port?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: options.port ?? t.ports.http,
        method,
        path,
        headers,
        localAddress: options.from ?? '127.0.0.1',
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const HOUR = 3_600_000;

/** A patient with three readings, a clinician of theirs: a FHIR search with _count=1 has a next link. */
async function patientWithReadings(patientId: string, deviceId: string): Promise<string> {
  const secret = await t.provisionDevice(deviceId, patientId);
  const clinician = (await t.createToken('clinician', [patientId])).token;
  const device = await t.connectDevice(deviceId, secret);
  const t0 = Date.now() - 5 * HOUR;
  const readings: Reading[] = [0, 1, 2].map((i) => ({
    id: `hr-${i}`,
    type: 'heart_rate',
    at: t0 + i * HOUR,
    value: 70 + i,
    unit: '/min',
  }));
  await device.publishAsync(`v1/devices/${deviceId}/readings`, JSON.stringify({ readings }), { qos: 1 });
  await device.endAsync();
  return clinician;
}

/** Every link of a searchset Bundle: self, next, each entry's fullUrl. */
function bundleLinks(bundle: any): string[] {
  return [
    ...bundle.link.map((l: { url: string }) => l.url),
    ...bundle.entry.map((e: { fullUrl: string }) => e.fullUrl),
  ];
}

describe('links (VITALINK_PUBLIC_URL)', () => {
  it('never reflects the Host header: unset, links are built on the listener address', async () => {
    const clinician = await patientWithReadings('p-links-1', 'links-cuff-1');
    const res = await request('GET', '/fhir/Observation?patient=Patient/p-links-1&_count=1', {
      token: clinician,
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    expect(res.status).toBe(200);
    const links = bundleLinks(res.body);
    expect(res.body.link.map((l: { relation: string }) => l.relation)).toEqual(['self', 'next']);
    expect(links.length).toBe(3);
    for (const link of links) expect(link.startsWith(`http://127.0.0.1:${t.ports.http}/fhir/`), link).toBe(true);
    expect(res.text).not.toContain('evil.example');
    expect(JSON.stringify(res.headers)).not.toContain('evil.example');

    // The next link works as given.
    const next = new URL(res.body.link[1].url);
    const page2 = await request('GET', `${next.pathname}${next.search}`, { token: clinician });
    expect(page2.status).toBe(200);
    expect(page2.body.entry).toHaveLength(1);
  });

  it('uses VITALINK_PUBLIC_URL, path included, for every link when set', async () => {
    const clinician = await patientWithReadings('p-links-2', 'links-cuff-2');
    const other = await startTestApp(t.database, { VITALINK_PUBLIC_URL: 'https://vitalink.example.org/base/' });
    try {
      const res = await request('GET', '/fhir/Observation?patient=Patient/p-links-2&_count=1', {
        token: clinician,
        port: other.ports.http,
        headers: { host: 'evil.example' },
      });
      expect(res.status).toBe(200);
      const links = bundleLinks(res.body);
      expect(links.length).toBe(3);
      for (const link of links) {
        expect(link.startsWith('https://vitalink.example.org/base/fhir/Observation'), link).toBe(true);
      }
      expect(res.text).not.toContain('evil.example');
    } finally {
      await other.stop();
    }
  });
});

describe('security headers', () => {
  function expectDataHeaders(res: Answer, what: string) {
    expect.soft(res.headers['cache-control'], what).toBe('no-store');
    expect.soft(res.headers['x-content-type-options'], what).toBe('nosniff');
    expect.soft(res.headers['referrer-policy'], what).toBe('no-referrer');
    expect.soft(res.headers['content-security-policy'], what).toBe(DATA_CSP);
  }

  it('no-store, nosniff, no-referrer and a CSP on API and FHIR data and on every kind of error', async () => {
    const admin = (await t.createToken('admin')).token;
    await t.addPatient('p-headers');
    const clinician = (await t.createToken('clinician', ['p-headers'])).token;
    const cases: [string, Answer, number][] = [
      ['api data', await request('GET', '/api/v1/me', { token: admin }), 200],
      ['api list', await request('GET', '/api/v1/patients', { token: admin }), 200],
      ['api 401', await request('GET', '/api/v1/patients', { from: '127.0.0.9' }), 401],
      ['api 403', await request('GET', '/api/v1/tokens', { token: clinician }), 403],
      ['api 404 resource', await request('GET', '/api/v1/patients/p-none', { token: admin }), 404],
      ['api 404 route', await request('GET', '/api/v1/nothing-here', { token: admin }), 404],
      ['api 422', await request('POST', '/api/v1/patients', { token: admin, json: {} }), 422],
      ['api 400', await request('GET', '/api/v1/patients?cursor=%%%', { token: admin }), 400],
      ['fhir 200', await request('GET', '/fhir/Observation?patient=p-headers', { token: clinician }), 200],
      ['fhir 404', await request('GET', '/fhir/Observation?patient=p-none', { token: clinician }), 404],
      ['fhir 404 route', await request('GET', '/fhir/Nothing', { token: clinician }), 404],
      ['fhir 401', await request('GET', '/fhir/Observation?patient=p-x', { from: '127.0.0.9' }), 401],
      ['openapi', await request('GET', '/openapi.json'), 200],
      ['healthz', await request('GET', '/healthz'), 200],
    ];
    for (const [what, res, status] of cases) {
      expect.soft(res.status, what).toBe(status);
      expectDataHeaders(res, what);
    }
  });

  it('/docs: its own CSP (no inline script or style), no framing, nosniff, no-referrer', async () => {
    for (const path of ['/docs/', '/docs/static/swagger-ui-bundle.js', '/docs/json']) {
      const res = await request('GET', path);
      expect.soft(res.status, path).toBe(200);
      expect.soft(res.headers['content-security-policy'], path).toBe(DOCS_CSP);
      expect.soft(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect.soft(res.headers['referrer-policy'], path).toBe('no-referrer');
    }
    const page = await request('GET', '/docs/');
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(DOCS_CSP).toContain("frame-ancestors 'none'");
    expect(DOCS_CSP).not.toContain('unsafe-inline');
  });

  it('the dashboard keeps its own CSP and caching, with nosniff, no-referrer and no framing', async () => {
    const res = await request('GET', '/');
    // 200 when the dashboard is built (npm ci builds it), 503 otherwise: the headers hold either way.
    expect([200, 503]).toContain(res.status);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    if (res.status === 200) {
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['content-security-policy']).not.toBe(DATA_CSP);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });
});

describe('strict request bodies', () => {
  it('answers 422 naming each unknown key, in every JSON body, and changes nothing', async () => {
    const admin = (await t.createToken('admin')).token;
    await t.addPatient('p-strict');
    await t.provisionDevice('strict-cuff', null);
    const cases: [string, string, unknown, string[]][] = [
      ['POST', '/api/v1/patients', { id: 'p-strict-2', role: 'admin', isAdmin: true }, ['body.isAdmin', 'body.role']],
      ['POST', '/api/v1/devices', { id: 'strict-cuff-2', owner: 'x' }, ['body.owner']],
      ['POST', '/api/v1/tokens', { role: 'clinician', patientIds: [], scope: 'all' }, ['body.scope']],
      ['POST', '/api/v1/devices/strict-cuff/assignments', { patientId: 'p-strict', until: 1 }, ['body.until']],
      ['POST', '/api/v1/devices/strict-cuff/rotate-secret', { graceSeconds: 0, grace: 60 }, ['body.grace']],
    ];
    for (const [method, path, json, keys] of cases) {
      const res = await request(method, path, { token: admin, json });
      expect.soft(res.status, path).toBe(422);
      expect.soft(res.body?.error?.code, path).toBe('invalid_input');
      const paths = (res.body?.error?.issues ?? []).map((i: { path: string }) => i.path).sort();
      expect.soft(paths, path).toEqual(keys);
      for (const key of keys) expect.soft(res.body?.error?.message, path).toContain(key.replace('body.', ''));
    }
    expect((await request('GET', '/api/v1/patients/p-strict-2', { token: admin })).status).toBe(404);
    expect((await request('GET', '/api/v1/devices/strict-cuff-2', { token: admin })).status).toBe(404);
    const device = await request('GET', '/api/v1/devices/strict-cuff', { token: admin });
    expect(device.body.secretRotatedAt).toBeNull();
    expect(device.body.assignments).toEqual([]);
  });

  it('shows additionalProperties: false in the OpenAPI document, and the 429 of every API operation', async () => {
    const doc = (await request('GET', '/openapi.json')).body;
    const schema = doc.paths['/api/v1/patients'].post.requestBody.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    const operations = Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [`${method} ${path}`, op.responses] as const),
      );
    expect(operations.length).toBeGreaterThan(10);
    for (const [what, responses] of operations) expect.soft(Object.keys(responses), what).toContain('429');
  });
});

describe('reserved ids', () => {
  it('refuses __proto__, constructor, prototype, . and .. as patient and device ids, wherever an id is taken', async () => {
    const admin = (await t.createToken('admin')).token;
    await t.addPatient('p-reserved');
    expect([...RESERVED_IDS].sort()).toEqual(['.', '..', '__proto__', 'constructor', 'prototype']);
    for (const id of RESERVED_IDS) {
      const attempts: [string, string, unknown][] = [
        ['POST', '/api/v1/patients', { id }],
        ['POST', '/api/v1/devices', { id }],
        ['POST', '/api/v1/devices', { id: `d-reserved-${RESERVED_IDS.size}`, patientId: id }],
        ['POST', '/api/v1/tokens', { role: 'clinician', patientIds: ['p-reserved', id] }],
      ];
      for (const [method, path, json] of attempts) {
        const res = await request(method, path, { token: admin, json });
        const what = `${path} ${JSON.stringify(json)}`;
        expect.soft(res.status, what).toBe(422);
        expect.soft(res.body?.error?.message, what).toContain('reserved');
      }
      // Where an id is in the path and the URL can carry it.
      if (!id.startsWith('.')) {
        const res = await request('GET', `/api/v1/patients/${id}`, { token: admin });
        expect.soft(res.status, `GET /api/v1/patients/${id}`).toBe(422);
      }
      // The command line (patients add, devices add) goes through the same action.
      await expect(addPatient(t.db, { id })).rejects.toThrow(/reserved/);
    }
    const stored = await t.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM patients WHERE id = ANY($1)) + (SELECT count(*) FROM devices WHERE id = ANY($1)) AS n`,
      [[...RESERVED_IDS]],
    );
    expect(Number(stored.rows[0].n)).toBe(0);
  });
});

describe('rate limits', () => {
  async function metric(name: string): Promise<number> {
    const text = (await request('GET', '/metrics')).text;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : Number.NaN;
  }

  it('429 with Retry-After once one token is over its limit, while another token is unaffected', async () => {
    await t.addPatient('p-limits');
    const a = (await t.createToken('clinician', ['p-limits'])).token;
    const b = (await t.createToken('clinician', ['p-limits'])).token;
    const before = await metric('vitalink_http_rate_limited_total{limit="principal"}');
    const statuses: number[] = [];
    for (let i = 0; i < LIMITS.perToken + 5; i++)
      statuses.push((await request('GET', '/api/v1/me', { token: a })).status);
    expect(statuses.slice(0, LIMITS.perToken).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(LIMITS.perToken)).toEqual([429, 429, 429, 429, 429]);

    const refused = await request('GET', '/api/v1/me', { token: a });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.body.error.message).toMatch(/too many requests with this API token/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['cache-control']).toBe('no-store');

    // FHIR: the same count, answered as an OperationOutcome.
    const fhir = await request('GET', '/fhir/Observation?patient=p-x', { token: a });
    expect(fhir.status).toBe(429);
    expect(fhir.headers['retry-after']).toBeDefined();
    expect(fhir.body.resourceType).toBe('OperationOutcome');
    expect(fhir.body.issue[0].code).toBe('throttled');

    expect((await request('GET', '/api/v1/me', { token: b })).status).toBe(200);
    expect(await metric('vitalink_http_rate_limited_total{limit="principal"}')).toBe(before + 7);
  });

  it('limits failed authentications per address: beyond, 429 before any token is looked at; other addresses unaffected', async () => {
    const from = '127.0.0.2';
    const good = (await t.createToken('admin')).token;
    const failuresBefore = await metric('vitalink_http_auth_failures_total');
    const statuses = new Map<number, number>();
    const FLOOD = 200;
    // Ten guesses at a time: the ones in flight count too, so concurrency does not buy more than the limit.
    let sent = 0;
    const guesser = async () => {
      while (sent < FLOOD) {
        const i = sent++;
        const path = i % 2 === 0 ? '/api/v1/patients' : '/fhir/Observation?patient=p-x';
        const res = await request('GET', path, { token: `vl_guess_${i}`, from });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    };
    await Promise.all(Array.from({ length: 10 }, guesser));
    expect(Object.fromEntries(statuses)).toEqual({ 401: LIMITS.authFailures, 429: FLOOD - LIMITS.authFailures });
    expect(await metric('vitalink_http_auth_failures_total')).toBe(failuresBefore + LIMITS.authFailures);

    // The address is refused whatever token it sends until the minute ends (a guess answered 429 tells nothing)...
    const blocked = await request('GET', '/api/v1/me', { token: good, from });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toMatchObject({ code: 'rate_limited' });
    expect(blocked.body.error.message).toMatch(/missing or refused API token from this address/);
    // ...while another address, and the probes of the blocked one, are served.
    expect((await request('GET', '/api/v1/me', { token: good, from: '127.0.0.1' })).status).toBe(200);
    expect((await request('GET', '/healthz', { from })).status).toBe(200);
    expect((await request('GET', '/readyz', { from })).status).toBe(200);
    expect((await request('GET', '/metrics', { from })).status).toBe(200);
  });

  it('limits requests for routes that do not exist per address; the probes are never limited', async () => {
    const from = '127.0.0.3';
    const before = await metric('vitalink_http_rate_limited_total{limit="not_found"}');
    const statuses: number[] = [];
    for (let i = 0; i < LIMITS.notFound + 10; i++) {
      statuses.push((await request('GET', i % 2 ? `/guess-${i}` : `/api/v1/guess-${i}`, { from })).status);
    }
    expect(statuses.filter((s) => s === 404)).toHaveLength(LIMITS.notFound);
    expect(statuses.slice(LIMITS.notFound).every((s) => s === 429)).toBe(true);
    const refused = await request('GET', '/wp-admin', { from });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 3 * LIMITS.notFound; i++) {
      expect((await request('GET', i % 2 ? '/healthz' : '/readyz', { from })).status).toBe(200);
    }
    expect((await request('GET', '/guess', { from: '127.0.0.4' })).status).toBe(404);
    expect(await metric('vitalink_http_rate_limited_total{limit="not_found"}')).toBe(before + 11);
  });
});
