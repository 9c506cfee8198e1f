import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';

/** GET /openapi.json and /docs (interfaces.md, "Outside /api/v1"). */

const ROUTES_DIR = fileURLToPath(new URL('../../src/http/routes/', import.meta.url));

/** Every route of src/http/routes, as the OpenAPI document must name it. */
const API_ROUTES = [
  'GET /api/v1/alerts',
  'POST /api/v1/alerts/{id}/acknowledge',
  'GET /api/v1/alerts/{id}/history',
  'GET /api/v1/patients/{id}/reviews',
  'POST /api/v1/patients/{id}/reviews',
  'GET /api/v1/reports/activity',
  'POST /api/v1/devices',
  'GET /api/v1/devices',
  'GET /api/v1/devices/{id}',
  'POST /api/v1/devices/{id}/assignments',
  'POST /api/v1/devices/{id}/disable',
  'POST /api/v1/devices/{id}/enable',
  'POST /api/v1/devices/{id}/rotate-secret',
  'POST /api/v1/devices/{id}/readings',
  'POST /api/v1/devices/{id}/tokens',
  'GET /api/v1/devices/{id}/tokens',
  'POST /api/v1/devices/{id}/tokens/{tokenId}/revoke',
  'POST /api/v1/entries',
  'GET /api/v1/entries.json',
  'GET /api/v1/entries/sgv.json',
  'GET /api/v1/tokens',
  'POST /api/v1/tokens',
  'POST /api/v1/tokens/{id}/revoke',
  'GET /api/v1/me',
  'GET /api/v1/patients',
  'POST /api/v1/patients',
  'GET /api/v1/patients/{id}',
  'GET /api/v1/patients/{id}/indicators',
  'PUT /api/v1/patients/{id}/identity',
  'GET /api/v1/patients/{id}/readings',
  'GET /api/v1/patients/{id}/readings.csv',
  'GET /api/v1/patients/{id}/series',
  'GET /api/v1/patients/{id}/glucose-report',
  'GET /api/v1/patients/{id}/glucose-report.pdf',
  'GET /api/v1/patients/{id}/thresholds',
  'PUT /api/v1/patients/{id}/thresholds',
  'GET /api/v1/rejections',
  'GET /api/v1/ops/ingestion',
  'GET /api/v1/ops/storage',
  'GET /api/v1/ops/devices',
  'GET /api/v1/practitioners',
  'POST /api/v1/practitioners',
  'GET /api/v1/practitioners/{id}',
  'GET /api/v1/teams',
  'POST /api/v1/teams',
  'GET /api/v1/teams/{id}',
  'PUT /api/v1/teams/{id}/hours',
  'POST /api/v1/teams/{id}/members',
  'DELETE /api/v1/teams/{id}/members/{practitionerId}',
  'GET /api/v1/enrolments',
  'POST /api/v1/enrolments',
  'GET /api/v1/enrolments/{id}',
  'POST /api/v1/enrolments/{id}/end',
  'GET /api/v1/worklist',
  'GET /api/v1/notification-channels',
  'POST /api/v1/notification-channels',
  'DELETE /api/v1/notification-channels/{id}',
  'GET /api/v1/notifications/dead-letters',
  'POST /api/v1/notifications/replay',
  'GET /api/v1/patients/{id}/mes-bundles',
  'GET /api/v1/patients/{id}/mes-pushes',
  'POST /api/v1/mes-pushes/replay',
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

const t = useTestService();

const url = (p: string) => `${t.httpUrl}${p}`;

async function openapi(): Promise<any> {
  const res = await fetch(url('/openapi.json'));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return res.json();
}

/** "METHOD /path" of every operation of the document under /api/v1. */
function operations(doc: any): string[] {
  const found: string[] = [];
  for (const [p, item] of Object.entries<Record<string, unknown>>(doc.paths ?? {})) {
    if (!p.startsWith('/api/v1/')) continue;
    for (const method of Object.keys(item)) {
      if (METHODS.includes(method)) found.push(`${method.toUpperCase()} ${p}`);
    }
  }
  return found.sort();
}

describe('OpenAPI', () => {
  it('GET /openapi.json is a valid OpenAPI 3 document', async () => {
    const doc = await openapi();
    expect(doc.openapi).toMatch(/^3\./);
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toMatch(/^3\./);
  });

  it('the validator does refuse an invalid document', async () => {
    // So that the test above could fail: the same document with an operation lacking `responses`.
    const doc = await openapi();
    const first = Object.values<any>(doc.paths)[0];
    const method = Object.keys(first).find((m) => METHODS.includes(m))!;
    delete first[method].responses;
    expect((await new Validator().validate(doc)).valid).toBe(false);
  });

  it('lists exactly the /api/v1 routes of src/http/routes', async () => {
    expect(operations(await openapi())).toEqual([...API_ROUTES].sort());
  });

  it('the list above is the one in src/http/routes', () => {
    // A route added to src/http/routes must be added to API_ROUTES (and so checked in the document).
    const declared: string[] = [];
    for (const file of readdirSync(ROUTES_DIR).filter((f) => f.endsWith('.routes.ts'))) {
      const source = readFileSync(path.join(ROUTES_DIR, file), 'utf8');
      for (const m of source.matchAll(/\bapp\.(get|post|put|patch|delete)\(\s*'([^']+)'/g)) {
        // The sign-in routes live outside /api/v1 (test/integration/oidc-api.test.ts checks them in the document).
        if (m[2].startsWith('/auth/')) continue;
        declared.push(`${m[1].toUpperCase()} /api/v1${m[2].replace(/:([A-Za-z_]+)/g, '{$1}')}`);
      }
    }
    expect(declared.sort()).toEqual([...API_ROUTES].sort());
  });

  it('describes each operation with its parameters, responses and the bearer scheme', async () => {
    const doc = await openapi();
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const op of API_ROUTES) {
      const [method, p] = op.split(' ');
      const operation = doc.paths[p][method.toLowerCase()];
      const codes = Object.keys(operation.responses);
      expect(
        codes.some((c) => c === '200' || c === '201'),
        `${op} has a success response`,
      ).toBe(true);
      expect(codes, `${op} documents 401`).toContain('401');
      if (p.includes('{id}')) {
        expect(
          operation.parameters?.some((x: any) => x.in === 'path' && x.name === 'id' && x.required === true),
          `${op} documents its id`,
        ).toBe(true);
      }
    }
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });
});

describe('/docs', () => {
  it('answers 200 with HTML', async () => {
    const res = await fetch(url('/docs'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<html/i);
    expect(html.toLowerCase()).toContain('swagger');
  });
});
