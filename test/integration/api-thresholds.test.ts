import { describe, expect, it } from 'vitest';
import {
  describeRes,
  expectError,
  expectInvalid,
  expectKeys,
  expectSameNotFound,
} from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';

/**
 * A patient's alert thresholds over the API: defaults, overrides, all or nothing.
 * Against a real PostgreSQL and a real listening server, with `fetch` as a client
 * would.
 */

const { t, who, call, get } = useApiTest();

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
    const { rows } = await t.query(`SELECT rule, threshold FROM alert_thresholds WHERE patient_id = $1 ORDER BY rule`, [
      patientId,
    ]);
    return Object.fromEntries(rows.map((r) => [r.rule, r.threshold]));
  }

  function expectThresholds(body: any): Record<string, any> {
    expectKeys(body, ['thresholds']);
    for (const t of body.thresholds) expectKeys(t, ['rule', 'threshold', 'default', 'overridden', 'unit']);
    expect(body.thresholds.map((t: { rule: string }) => t.rule).sort()).toEqual([...RULES].sort());
    return Object.fromEntries(body.thresholds.map((t: { rule: string }) => [t.rule, t]));
  }

  it('GET returns every rule with its default', async () => {
    const res = await get('/api/v1/patients/p-own-2/thresholds', who.clinician.token);
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
      token: who.clinician.token,
      json: { spo2_low: 88, bp_high: { systolic: 170, diastolic: 100 } },
    });
    expect(res.status, describeRes(res)).toBe(200);
    const byRule = expectThresholds(res.body);
    expect(byRule.spo2_low).toEqual({ rule: 'spo2_low', threshold: 88, default: 92, overridden: true, unit: '%' });
    expect(byRule.bp_high).toMatchObject({ threshold: { systolic: 170, diastolic: 100 }, overridden: true });
    expect(byRule.fever).toMatchObject({ threshold: 38, overridden: false });
    expect(await overrides('p-own-2')).toEqual({ spo2_low: 88, bp_high: { systolic: 170, diastolic: 100 } });

    const read = await get('/api/v1/patients/p-own-2/thresholds', who.clinician.token);
    expect(read.body).toEqual(res.body);

    const restored = await call('PUT', '/api/v1/patients/p-own-2/thresholds', {
      token: who.clinician.token,
      json: { spo2_low: null },
    });
    expect(restored.status, describeRes(restored)).toBe(200);
    expect(expectThresholds(restored.body).spo2_low).toMatchObject({ threshold: 92, overridden: false });
    expect(await overrides('p-own-2')).toEqual({ bp_high: { systolic: 170, diastolic: 100 } });
  });

  it('PUT is all or nothing: one invalid rule is a 422 and nothing is saved', async () => {
    const before = await overrides('p-own-2');
    const put = (json: unknown) =>
      call('PUT', '/api/v1/patients/p-own-2/thresholds', { token: who.clinician.token, json });
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
      await call('PUT', '/api/v1/patients/p-own-2/thresholds', { token: who.clinician.token, raw: '{"fever": 37.5,' }),
      400,
      'bad_request',
    );
    expect(await overrides('p-own-2')).toEqual(before);
    const read = await get('/api/v1/patients/p-own-2/thresholds', who.clinician.token);
    expect(expectThresholds(read.body).fever).toMatchObject({ threshold: 38, overridden: false });
  });

  it("another clinician's patient is a 404 like a missing one, for GET and PUT, and nothing is saved", async () => {
    expectSameNotFound(
      await get('/api/v1/patients/p-other/thresholds', who.clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody/thresholds', who.clinician.token),
      'p-nobody',
    );
    expectSameNotFound(
      await call('PUT', '/api/v1/patients/p-other/thresholds', { token: who.clinician.token, json: { fever: 37 } }),
      'p-other',
      await call('PUT', '/api/v1/patients/p-nobody/thresholds', { token: who.clinician.token, json: { fever: 37 } }),
      'p-nobody',
    );
    expect(await overrides('p-other')).toEqual({});
    expectInvalid(await get('/api/v1/patients/bad*id/thresholds', who.clinician.token), ['params.id']);
  });
});
