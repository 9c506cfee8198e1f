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

  it('writes nothing for admin, operator and bootstrap requests, for refused requests, nor for /metrics', async () => {
    const mark = await auditMark(t);
    const requests: [string, string, string, unknown?][] = [
      ['GET', '/api/v1/patients', who.admin.token],
      ['GET', '/api/v1/patients/p-own-1', who.admin.token],
      ['GET', '/api/v1/patients', ADMIN_TOKEN],
      ['GET', '/api/v1/patients/p-own-2', ADMIN_TOKEN],
      ['POST', '/api/v1/patients', who.admin.token, { id: 'p-audit-free' }],
      ['GET', '/api/v1/devices/al-dev-1', who.admin.token],
      ['GET', '/api/v1/rejections', who.operator.token],
      ['GET', '/api/v1/rejections', who.admin.token],
      ['GET', '/api/v1/patients/p-own-1/indicators', who.admin.token],
      ['GET', '/api/v1/patients/p-own-1', who.operator.token],
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
