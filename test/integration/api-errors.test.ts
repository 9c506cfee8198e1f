import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../fixture.ts';
import { describeRes, expectError } from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';

/**
 * Invalid input named in `issues`, and requests that must never be a 500 or get
 * past authentication. Against a real PostgreSQL and a real listening server, with
 * `fetch` as a client would.
 */

const { t, who, call, get } = useApiTest();

describe('invalid input', () => {
  it('names the offending field in `issues` for every 422, business rules included', async () => {
    const cases: [string, ApiResponse, string][] = [
      [
        'invalid threshold',
        await call('PUT', '/api/v1/patients/p-own-1/thresholds', {
          token: who.clinician.token,
          json: { spo2_low: -1 },
        }),
        'body.spo2_low',
      ],
      [
        'unknown threshold rule',
        await call('PUT', '/api/v1/patients/p-own-1/thresholds', { token: who.clinician.token, json: { nonsense: 1 } }),
        'body.nonsense',
      ],
      [
        'unknown time zone',
        await call('POST', '/api/v1/patients', {
          token: who.admin.token,
          json: { id: 'p-tz2', timeZone: 'Mars/Olympus' },
        }),
        'body.timeZone',
      ],
      [
        'assignment time that is not a time',
        await call('POST', '/api/v1/devices/ox-api-1/assignments', {
          token: who.admin.token,
          json: { patientId: 'p-own-1', from: 'yesterday' },
        }),
        'body.from',
      ],
      [
        'assignment ending before it starts',
        await call('POST', '/api/v1/devices/ox-api-1/assignments', {
          token: who.admin.token,
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
      token: who.admin.token,
      json: { id: 'p-nul', displayName: 'a\u0000b' },
    });
    expect.soft(patient.status, `POST /patients displayName with NUL: ${describeRes(patient)}`).toBe(422);
    const device = await call('POST', '/api/v1/devices', {
      token: who.admin.token,
      json: { id: 'dev-nul', model: 'a\u0000b' },
    });
    expect.soft(device.status, `POST /devices model with NUL: ${describeRes(device)}`).toBe(422);
  });

  it('answers a patients cursor it never issued with a 400, never a 500', async () => {
    // "AA" is base64url for a single NUL byte.
    for (const cursor of ['AA', 'AGFi']) {
      const res = await get(`/api/v1/patients?cursor=${cursor}`, who.admin.token);
      expect.soft(res.status, `GET /api/v1/patients?cursor=${cursor}: ${describeRes(res)}`).toBe(400);
    }
  });

  it('PUT thresholds is all or nothing even when the database refuses one of the rules', async () => {
    // The database refuses any fever threshold of p-own-1: the spo2_low sent with it must not stay either.
    await t.query(`
      CREATE FUNCTION refuse_fever() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.patient_id = 'p-own-1' AND NEW.rule = 'fever' THEN RAISE EXCEPTION 'refused for the test'; END IF;
        RETURN NEW;
      END $$`);
    await t.query(`CREATE TRIGGER refuse_fever BEFORE INSERT OR UPDATE ON alert_thresholds
      FOR EACH ROW EXECUTE FUNCTION refuse_fever()`);
    try {
      const res = await call('PUT', '/api/v1/patients/p-own-1/thresholds', {
        token: who.clinician.token,
        json: { spo2_low: 85, fever: 37.5 },
      });
      expectError(res, 500, 'internal');
      expect(res.body.error.message).not.toContain('refused for the test');
      const { rows } = await t.query(`SELECT rule FROM alert_thresholds WHERE patient_id = 'p-own-1'`);
      expect(rows, 'thresholds saved by a PUT that failed').toEqual([]);
    } finally {
      await t.query(`DROP TRIGGER refuse_fever ON alert_thresholds`);
      await t.query(`DROP FUNCTION refuse_fever()`);
    }
  });
});
