import { beforeAll, describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { describeRes, expectInvalid, expectKeys, expectSameNotFound, expectTime } from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

/**
 * A patient's indicators over the API, as the aggregation job stored them. Against
 * a real PostgreSQL and a real listening server, with `fetch` as a client would.
 */

const HOUR = 3_600_000;

const { t, who, call, get } = useApiTest();

describe('indicators', () => {
  beforeAll(async () => {
    const created = await call('POST', '/api/v1/devices', {
      token: who.admin.token,
      json: { id: 'hr-ind-1', patientId: 'p-own-1' },
    });
    expect(created.status, describeRes(created)).toBe(201);
    const client = await t.connectDevice('hr-ind-1', created.body.secret);
    const at = Date.now();
    await t.publish(client, 'hr-ind-1', [heartRate('i1', 70, at), heartRate('i2', 80, at), heartRate('i3', 90, at)]);
    await t.settled();
    await waitFor(async () => {
      const { rows } = await t.query(
        `SELECT 1 FROM patient_indicators WHERE patient_id = 'p-own-1' AND key = 'hr_mean' AND n = 3`,
      );
      return rows.length > 0;
    }, 'the heart rate indicators');
  });

  it("returns the patient's indicators with window, n and sufficient, exactly as stored", async () => {
    const res = await get('/api/v1/patients/p-own-1/indicators', who.clinician.token);
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

    const { rows } = await t.query(
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
    await addPatient(t.db, { id: 'p-empty' });
    const own = await createApiToken(t.db, await t.keys(), { role: 'clinician', patientIds: ['p-empty'] });
    const empty = await get('/api/v1/patients/p-empty/indicators', own.token);
    expect(empty.status, describeRes(empty)).toBe(200);
    expect(empty.body).toEqual({ patientId: 'p-empty', indicators: [] });
    expectSameNotFound(
      await get('/api/v1/patients/p-other/indicators', who.clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody/indicators', who.clinician.token),
      'p-nobody',
    );
    expectInvalid(await get('/api/v1/patients/bad*id/indicators', who.clinician.token), ['params.id']);
  });
});
