import { describe, expect, it } from 'vitest';
import {
  describeRes,
  expectAssignment,
  expectError,
  expectInvalid,
  expectKeys,
  expectTime,
} from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { heartRate } from '../helpers/device.ts';

/**
 * Devices over the API: creation with a secret that authenticates over MQTT,
 * reads, assignments. Against a real PostgreSQL and a real listening server, with
 * `fetch` as a client would.
 */

const { t, who, call, get } = useApiTest();

describe('devices', () => {
  it('POST /devices returns {id, secret} once, and the secret authenticates an MQTT connection', async () => {
    const res = await call('POST', '/api/v1/devices', {
      token: who.admin.token,
      json: { id: 'ox-api-1', model: 'Oxi 3000' },
    });
    expect(res.status, describeRes(res)).toBe(201);
    expectKeys(res.body, ['id', 'secret']);
    expect(res.body.id).toBe('ox-api-1');
    expect(res.body.secret).toBeTypeOf('string');
    expect(res.body.secret.length).toBeGreaterThanOrEqual(16);
    const { rows } = await t.query(`SELECT model, enabled, secret_hash FROM devices WHERE id = 'ox-api-1'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: 'Oxi 3000', enabled: true });
    expect((rows[0].secret_hash as Buffer).toString('utf8')).not.toContain(res.body.secret);

    const client = await t.connectDevice('ox-api-1', res.body.secret);
    expect(client.connected).toBe(true);
    await expect(t.connectDevice('ox-api-1', `${res.body.secret}x`)).rejects.toThrow();
    const other = await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'ox-api-2' } });
    expect(other.body.secret).not.toBe(res.body.secret);
  });

  it('POST /devices with patientId assigns it from now; its readings are accepted', async () => {
    const before = Date.now();
    const res = await call('POST', '/api/v1/devices', {
      token: who.admin.token,
      json: { id: 'hr-api-1', patientId: 'p-own-2' },
    });
    expect(res.status, describeRes(res)).toBe(201);
    const device = await get('/api/v1/devices/hr-api-1', who.admin.token);
    expect(device.status, describeRes(device)).toBe(200);
    expect(device.body.assignments).toHaveLength(1);
    expect(device.body.assignments[0]).toMatchObject({ deviceId: 'hr-api-1', patientId: 'p-own-2', to: null });
    expect(Date.parse(device.body.assignments[0].from)).toBeGreaterThanOrEqual(before - 5_000);

    const client = await t.connectDevice('hr-api-1', res.body.secret);
    await t.publish(client, 'hr-api-1', [heartRate('h1', 70, Date.now())]);
    const { rows } = await t.query(
      `SELECT patient_id, value FROM readings WHERE device_id = 'hr-api-1' AND reading_id = 'h1'`,
    );
    expect(rows).toEqual([{ patient_id: 'p-own-2', value: 70 }]);
  });

  it('POST /devices refuses a duplicate (409), an unknown patient (404), invalid input (422), malformed JSON (400)', async () => {
    expectError(
      await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'ox-api-1' } }),
      409,
      'conflict',
    );
    expectError(
      await call('POST', '/api/v1/devices', {
        token: who.admin.token,
        json: { id: 'dev-orphan', patientId: 'p-nobody' },
      }),
      404,
      'not_found',
    );
    expectError(await get('/api/v1/devices/dev-orphan', who.admin.token), 404, 'not_found');
    expectInvalid(await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'no/slash' } }), [
      'body.id',
    ]);
    expectInvalid(
      await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'dev-m', model: 'm'.repeat(201) } }),
      ['body.model'],
    );
    expectInvalid(
      await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'dev-p', patientId: 'a b' } }),
      ['body.patientId'],
    );
    expectError(
      await call('POST', '/api/v1/devices', { token: who.admin.token, raw: "{'id': 1}" }),
      400,
      'bad_request',
    );
    const { rows } = await t.query(`SELECT id FROM devices WHERE id IN ('dev-orphan', 'dev-m', 'dev-p')`);
    expect(rows).toEqual([]);
  });

  it('GET /devices/{id} returns exactly the device, its state and its assignments; 404 unknown; 422 bad id', async () => {
    const res = await get('/api/v1/devices/ox-api-1', who.admin.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, [
      'id',
      'model',
      'enabled',
      'disabledAt',
      'patientId',
      'connected',
      'lastSeenAt',
      'lastTransport',
      'lastReadingAt',
      'lastRejection',
      'secretRotatedAt',
      'previousSecretValidUntil',
      'createdAt',
      'assignments',
    ]);
    expect(res.body).toMatchObject({ id: 'ox-api-1', model: 'Oxi 3000', enabled: true, assignments: [] });
    expectTime(res.body.createdAt);
    const bare = await get('/api/v1/devices/ox-api-2', who.admin.token);
    expect(bare.body.model).toBeNull();
    expectError(await get('/api/v1/devices/dev-nobody', who.admin.token), 404, 'not_found');
    expectInvalid(await get(`/api/v1/devices/${'d'.repeat(65)}`, who.admin.token), ['params.id']);
  });

  it('POST /devices/{id}/assignments records intervals, ends an open one, and refuses overlaps (409)', async () => {
    await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'asg-1' } });
    const assign = (body: unknown) =>
      call('POST', '/api/v1/devices/asg-1/assignments', { token: who.admin.token, json: body });

    const first = await assign({ patientId: 'p-own-1', from: '2026-01-01T00:00:00Z', to: '2026-01-10T01:00:00+01:00' });
    expect(first.status, describeRes(first)).toBe(201);
    expectKeys(first.body, ['assignment', 'ended', 'merged']);
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
      merged: [],
    });

    // The same patient, ending where the first begins: one assignment, extended backwards.
    const earlier = await assign({ patientId: 'p-own-1', from: '2025-12-20T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    expect(earlier.status, describeRes(earlier)).toBe(201);
    expect(earlier.body).toEqual({
      assignment: { ...first.body.assignment, from: '2025-12-20T00:00:00.000Z' },
      ended: null,
      merged: [first.body.assignment],
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

    const device = await get('/api/v1/devices/asg-1', who.admin.token);
    expect(device.status).toBe(200);
    device.body.assignments.forEach(expectAssignment);
    expect(device.body.assignments).toEqual([earlier.body.assignment, third.body.ended, third.body.assignment]);
  });

  it('POST /devices/{id}/assignments: 404 unknown device or patient, 422 invalid input, 400 malformed JSON', async () => {
    await call('POST', '/api/v1/devices', { token: who.admin.token, json: { id: 'asg-2' } });
    const assign = (id: string, body: unknown) =>
      call('POST', `/api/v1/devices/${id}/assignments`, { token: who.admin.token, json: body });
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
      await call('POST', '/api/v1/devices/asg-2/assignments', { token: who.admin.token, raw: '{"patientId":' }),
      400,
      'bad_request',
    );
    const { rows } = await t.query(`SELECT id FROM device_assignments WHERE device_id = 'asg-2'`);
    expect(rows).toEqual([]);
  });
});
