import { beforeAll, describe, expect, it } from 'vitest';
import { auditMark, auditSince, describeRes } from '../helpers/api-expectations.ts';
import { ADMIN_TOKEN, useApiTest } from '../helpers/api-test.ts';

/**
 * The audit log of clinician access to patient data over the API. Against a real
 * PostgreSQL and a real listening server, with `fetch` as a client would.
 */

const { t, who, call } = useApiTest();

beforeAll(async () => {
  // A device for the admin read below to find.
  await t.provisionDevice('al-dev-1', 'p-own-1');
});

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
      const mark = await auditMark(t);
      const res = await call(method, path, { token: who.clinician.token, json });
      expect(res.status, `${method} ${path}: ${describeRes(res)}`).toBe(200);
      const rows = await auditSince(t, mark);
      expect(rows, `${method} ${path}`).toEqual(
        expected.map((e) => ({ tokenId: who.clinician.id, role: 'clinician', ...e })),
      );
    }
    const { rows } = await t.query(`SELECT at FROM audit_log ORDER BY id DESC LIMIT 1`);
    expect(Date.now() - (rows[0].at as Date).getTime()).toBeLessThan(60_000);
  });

  it('records admin and bootstrap reads of identifying data with their role and principal', async () => {
    const reads: [string, string, string, { action: string; patientId: string }][] = [
      [
        '/api/v1/patients/p-own-1',
        who.admin.token,
        `token:${who.admin.id}`,
        { action: 'patients.read', patientId: 'p-own-1' },
      ],
      ['/api/v1/patients/p-own-2', ADMIN_TOKEN, 'admin-token', { action: 'patients.read', patientId: 'p-own-2' }],
      [
        '/api/v1/devices/al-dev-1',
        who.admin.token,
        `token:${who.admin.id}`,
        { action: 'devices.read', patientId: 'p-own-1' },
      ],
    ];
    for (const [path, token, principal, expected] of reads) {
      const mark = await auditMark(t);
      const res = await call('GET', path, { token });
      expect(res.status, `${path}: ${describeRes(res)}`).toBe(200);
      const rows = await auditRowsSince(mark);
      expect(rows, path).toEqual([
        {
          ...expected,
          role: 'admin',
          principal,
          outcome: 'allowed',
          requestId: res.headers.get('x-request-id'),
          sourceAddress: expect.stringMatching(/127\.0\.0\.1$/),
        },
      ]);
    }
    // A list names every patient it shows: one row each.
    const mark = await auditMark(t);
    const list = await call('GET', '/api/v1/patients?limit=100', { token: ADMIN_TOKEN });
    expect(list.status).toBe(200);
    const rows = await auditRowsSince(mark);
    expect(rows.map((r) => r.patientId).sort()).toEqual(list.body.items.map((p: { id: string }) => p.id).sort());
    expect(new Set(rows.map((r) => `${r.action} ${r.principal} ${r.role}`))).toEqual(
      new Set(['patients.list admin-token admin']),
    );
  });

  it('records a clinician asking for a patient not on their token as denied, and answers exactly as for a missing patient', async () => {
    const mark = await auditMark(t);
    const other = await call('GET', '/api/v1/patients/p-other', { token: who.clinician.token });
    const missing = await call('GET', '/api/v1/patients/p-nobody-at-all', { token: who.clinician.token });
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    // Same body but for the id it names, same headers but for the request id.
    expect(JSON.stringify(other.body).replace('p-other', 'ID')).toBe(
      JSON.stringify(missing.body).replace('p-nobody-at-all', 'ID'),
    );
    const headers = (r: typeof other) => {
      const kept: [string, string][] = [];
      r.headers.forEach((value, key) => {
        if (!['x-request-id', 'date', 'content-length'].includes(key)) kept.push([key, value]);
      });
      return kept;
    };
    expect(headers(other)).toEqual(headers(missing));
    // What the same 404 looked like before any audit: an AppError not_found body.
    expect(other.body).toEqual({ error: { code: 'not_found', message: 'patient p-other does not exist' } });
    const rows = await auditRowsSince(mark);
    expect(rows).toEqual([
      {
        patientId: 'p-other',
        action: 'GET /api/v1/patients/:id',
        role: 'clinician',
        principal: `token:${who.clinician.id}`,
        outcome: 'denied',
        requestId: other.headers.get('x-request-id'),
        sourceAddress: expect.stringMatching(/127\.0\.0\.1$/),
      },
      {
        patientId: 'p-nobody-at-all',
        action: 'GET /api/v1/patients/:id',
        role: 'clinician',
        principal: `token:${who.clinician.id}`,
        outcome: 'denied',
        requestId: missing.headers.get('x-request-id'),
        sourceAddress: expect.stringMatching(/127\.0\.0\.1$/),
      },
    ]);
    expect(other.headers.get('x-request-id')).not.toBe(missing.headers.get('x-request-id'));
  });

  it('records an admin asking for a patient that does not exist as not_found', async () => {
    const mark = await auditMark(t);
    const res = await call('GET', '/api/v1/patients/p-never', { token: who.admin.token });
    expect(res.status).toBe(404);
    expect(await auditRowsSince(mark)).toEqual([
      expect.objectContaining({ patientId: 'p-never', role: 'admin', outcome: 'not_found' }),
    ]);
  });

  it('writes nothing for operators, for writes that are not reads, for refused requests, nor for /metrics', async () => {
    const mark = await auditMark(t);
    const requests: [string, string, string, unknown?][] = [
      ['POST', '/api/v1/patients', who.admin.token, { id: 'p-audit-free' }],
      ['GET', '/api/v1/rejections', who.operator.token],
      ['GET', '/api/v1/rejections', who.admin.token],
      ['GET', '/api/v1/patients/p-own-1/indicators', who.admin.token],
      ['GET', '/api/v1/patients/p-own-1', who.operator.token],
      ['GET', '/api/v1/patients/p-own-1', 'vlk_unknown_token_000000000'],
    ];
    for (const [method, path, token, json] of requests) {
      const res = await call(method, path, { token, json });
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
    for (const headers of [undefined, { authorization: `Bearer ${who.clinician.token}` }]) {
      const metrics = await fetch(`${t.httpUrl}/metrics`, { headers });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
    }
    expect(await auditSince(t, mark)).toEqual([]);
  });
});

async function auditRowsSince(mark: number) {
  const { rows } = await t.query(
    `SELECT patient_id AS "patientId", action, role, principal, outcome, request_id AS "requestId",
            source_address AS "sourceAddress"
     FROM audit_log WHERE id > $1 ORDER BY id`,
    [mark],
  );
  return rows;
}
