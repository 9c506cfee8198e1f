/**
 * README, "Revoking a device or a token": a disabled device's live session is
 * closed and nothing it publishes is stored or acknowledged, on every instance; a
 * re-keyed device's old secret stops working (or after its grace period); a
 * revoked or expired token is refused on its next request, on every instance.
 * Real service, real MQTT clients, real HTTP; a second instance of the service
 * on the same database for the "every instance" cases.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_REFUSED } from '../../src/http/auth.ts';
import { useTestService } from '../fixture.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

const t = useTestService({ adminToken: true });

/** A second instance of the service on the same database. */
let second: TestApp;

beforeAll(async () => {
  // Its periodic re-check is out of the way: its sessions close within the tests' bounds only if told by NOTIFY.
  second = await startTestApp(t.database, {
    VITALINK_ADMIN_TOKEN: t.adminToken,
    VITALINK_SESSION_RECHECK_MS: '600000',
  });
});

afterAll(async () => {
  await second?.stop();
});

const admin = () => ({ token: t.adminToken });
const secondUrl = () => ({
  mqtt: `mqtt://127.0.0.1:${second.ports.mqtt}`,
  http: `http://127.0.0.1:${second.ports.http}`,
});

/**
 * Resolves when the client's connection closes. Call it before what closes the
 * connection: the service may close it before the API call that caused it answers.
 */
function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    else client.once('close', () => resolve());
  });
}

/** Races a promise against a bound; resolves with 'timeout' when the bound passes first. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);
}

/** PUBACKs the client receives, by message id. */
function pubacks(client: MqttClient): number[] {
  const seen: number[] = [];
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) seen.push(packet.messageId);
  });
  return seen;
}

async function storedReadings(deviceId: string): Promise<string[]> {
  const { rows } = await t.query('SELECT reading_id FROM readings WHERE device_id = $1 ORDER BY reading_id', [
    deviceId,
  ]);
  return rows.map((r) => r.reading_id);
}

async function refusedCode(url: string, deviceId: string, secret: string): Promise<number | undefined> {
  try {
    const client = await t.connectDevice(deviceId, secret, { reconnectPeriod: 0 }, url);
    await client.endAsync();
  } catch (error) {
    return (error as { code?: number }).code;
  }
  return undefined;
}

async function httpGet(base: string, path: string, token: string) {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
}

describe('disabling a device', () => {
  it('closes its live session within a second or two and refuses its next CONNECT (5)', async () => {
    const secret = await t.provisionDevice('rv-dis-1');
    const client = await t.connectDevice('rv-dis-1', secret, { reconnectPeriod: 0 });
    await t.publish(client, 'rv-dis-1', [heartRate('before-1')]);
    expect(await storedReadings('rv-dis-1')).toEqual(['before-1']);

    const gone = closed(client);
    const res = await t.api.post('/api/v1/devices/rv-dis-1/disable', {}, admin());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'rv-dis-1', enabled: false });
    expect(await within(gone, 2_000)).not.toBe('timeout');
    expect(await refusedCode(t.mqttUrl, 'rv-dis-1', secret)).toBe(5);
  });

  it('does not store or acknowledge a publish that arrives after the disable committed, even before its session is closed', async () => {
    const secret = await t.provisionDevice('rv-dis-2');
    const client = await t.connectDevice('rv-dis-2', secret, { reconnectPeriod: 0 });
    const acks = pubacks(client);
    await t.publish(client, 'rv-dis-2', [heartRate('before-2')]);
    expect(acks).toHaveLength(1);
    // Disabled behind the service's back (no notification): only the write path can refuse it.
    await t.query('UPDATE devices SET enabled = false WHERE id = $1', ['rv-dis-2']);
    const gone = closed(client);
    const publish = t.publish(client, 'rv-dis-2', [heartRate('after-2')]).then(
      () => 'acknowledged',
      () => 'failed',
    );
    expect(await within(gone, 5_000)).not.toBe('timeout');
    expect(await within(publish, 200)).not.toBe('acknowledged');
    expect(acks).toHaveLength(1);
    expect(await storedReadings('rv-dis-2')).toEqual(['before-2']);
    const { rows } = await t.query('SELECT count(*)::int AS n FROM rejections WHERE device_id = $1', ['rv-dis-2']);
    expect(rows[0].n).toBe(0);
  });

  it('does not record the rejections of a disabled device either', async () => {
    const secret = await t.provisionDevice('rv-dis-3');
    const client = await t.connectDevice('rv-dis-3', secret, { reconnectPeriod: 0 });
    const acks = pubacks(client);
    await t.query('UPDATE devices SET enabled = false WHERE id = $1', ['rv-dis-3']);
    const gone = closed(client);
    void t.publish(client, 'rv-dis-3', 'not json').catch(() => {});
    expect(await within(gone, 5_000)).not.toBe('timeout');
    expect(acks).toHaveLength(0);
    const { rows } = await t.query('SELECT count(*)::int AS n FROM rejections WHERE device_id = $1', ['rv-dis-3']);
    expect(rows[0].n).toBe(0);
  });

  it('on one instance closes the session the device holds on another instance of the same database', async () => {
    const secret = await t.provisionDevice('rv-dis-4');
    const client = await t.connectDevice('rv-dis-4', secret, { reconnectPeriod: 0 }, secondUrl().mqtt);
    await t.publish(client, 'rv-dis-4', [heartRate('before-4')]);
    const onSecond = await httpGet(secondUrl().http, '/api/v1/devices/rv-dis-4', t.adminToken);
    expect(onSecond.body.connected).toBe(true);
    const onFirst = await t.api.get('/api/v1/devices/rv-dis-4', admin());
    expect(onFirst.body.connected).toBe(false);

    const gone = closed(client);
    expect((await t.api.post('/api/v1/devices/rv-dis-4/disable', {}, admin())).status).toBe(200);
    expect(await within(gone, 2_000)).not.toBe('timeout');
    expect(await refusedCode(secondUrl().mqtt, 'rv-dis-4', secret)).toBe(5);

    expect((await t.api.post('/api/v1/devices/rv-dis-4/enable', {}, admin())).status).toBe(200);
    const again = await t.connectDevice('rv-dis-4', secret, { reconnectPeriod: 0 }, secondUrl().mqtt);
    await t.publish(again, 'rv-dis-4', [heartRate('after-4')]);
    expect(await storedReadings('rv-dis-4')).toEqual(['after-4', 'before-4']);
    await again.endAsync();
  });
});

describe('a missed notification', () => {
  it('is made up for when the listening connection comes back: the instance re-checks its live sessions', async () => {
    const secret = await t.provisionDevice('rv-miss-1');
    const client = await t.connectDevice('rv-miss-1', secret, { reconnectPeriod: 0 }, secondUrl().mqtt);
    const gone = closed(client);
    // Every instance's listening connection is cut, and the device is disabled with no notification at all.
    const { rows } = await t.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE datname = current_database() AND application_name LIKE 'vitalink:%:events'`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    await t.query('UPDATE devices SET enabled = false WHERE id = $1', ['rv-miss-1']);
    // The second instance's periodic re-check is 10 minutes away: only its reconnection can close the session.
    expect(await within(gone, 5_000)).not.toBe('timeout');
  });
});

describe('rotating a device secret', () => {
  it('refuses the old secret (4) at once, accepts the new one, and closes the live session', async () => {
    const old = await t.provisionDevice('rv-rot-1');
    const client = await t.connectDevice('rv-rot-1', old, { reconnectPeriod: 0 }, secondUrl().mqtt);
    const gone = closed(client);
    const res = await t.api.post('/api/v1/devices/rv-rot-1/rotate-secret', {}, admin());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'rv-rot-1', previousSecretValidUntil: null });
    const fresh: string = res.body.secret;
    expect(fresh).not.toBe(old);
    expect(await within(gone, 2_000)).not.toBe('timeout');
    expect(await refusedCode(t.mqttUrl, 'rv-rot-1', old)).toBe(4);
    const again = await t.connectDevice('rv-rot-1', fresh, { reconnectPeriod: 0 });
    await t.publish(again, 'rv-rot-1', [heartRate('new-1')]);
    expect(await storedReadings('rv-rot-1')).toEqual(['new-1']);
    await again.endAsync();
  });

  it('keeps the old secret valid during the grace period, then refuses it and closes its session', async () => {
    const old = await t.provisionDevice('rv-rot-2');
    const res = await t.api.post('/api/v1/devices/rv-rot-2/rotate-secret', { graceSeconds: 2 }, admin());
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.previousSecretValidUntil)).toBeGreaterThan(Date.now());
    const onOld = await t.connectDevice('rv-rot-2', old, { reconnectPeriod: 0 });
    const gone = closed(onOld);
    await t.publish(onOld, 'rv-rot-2', [heartRate('old-2')]);
    const show = await t.api.get('/api/v1/devices/rv-rot-2', admin());
    expect(show.body.previousSecretValidUntil).toBe(res.body.previousSecretValidUntil);
    // After the grace period: the periodic re-check (every 10 s) closes the session, CONNECT refuses it.
    expect(await within(gone, 15_000)).not.toBe('timeout');
    expect(await refusedCode(t.mqttUrl, 'rv-rot-2', old)).toBe(4);
    const onNew = await t.connectDevice('rv-rot-2', res.body.secret, { reconnectPeriod: 0 });
    await onNew.endAsync();
  }, 30_000);

  it('refuses a grace period over 7 days (422) and names an unknown device (404)', async () => {
    await t.provisionDevice('rv-rot-3');
    const long = await t.api.post('/api/v1/devices/rv-rot-3/rotate-secret', { graceSeconds: 604_801 }, admin());
    expect(long.status).toBe(422);
    const unknown = await t.api.post('/api/v1/devices/rv-nobody/rotate-secret', {}, admin());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('vitalink devices list');
  });
});

describe('device list and show', () => {
  it('gives each device its state, filters by enabled and patient, and pages by id', async () => {
    await t.addPatient('rv-list-p');
    const secretA = await t.provisionDevice('rv-list-a', 'rv-list-p');
    await t.provisionDevice('rv-list-b', 'rv-list-p');
    await t.provisionDevice('rv-list-c', 'rv-list-p');
    await t.api.post('/api/v1/devices/rv-list-c/disable', {}, admin());
    const client = await t.connectDevice('rv-list-a', secretA, { reconnectPeriod: 0 });
    await t.publish(client, 'rv-list-a', [heartRate('l-1')]);
    await t.publish(client, 'rv-list-a', [{ ...heartRate('l-2'), value: 9999 }]);

    const page = await t.api.get('/api/v1/devices?patient=rv-list-p&limit=2', admin());
    expect(page.status).toBe(200);
    expect(page.body.items.map((d: any) => d.id)).toEqual(['rv-list-a', 'rv-list-b']);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await t.api.get(`/api/v1/devices?patient=rv-list-p&limit=2&cursor=${page.body.nextCursor}`, admin());
    expect(next.body).toMatchObject({ items: [{ id: 'rv-list-c', enabled: false }], nextCursor: null });

    const a = page.body.items[0];
    expect(a).toMatchObject({ id: 'rv-list-a', enabled: true, patientId: 'rv-list-p', connected: true });
    expect(a.lastRejection).toMatchObject({ reason: 'out_of_range' });
    // Last seen and last reading are written by the broker every 10 s.
    const shown = await waitFor(
      async () => {
        const res = await t.api.get('/api/v1/devices/rv-list-a', admin());
        return res.body.lastReadingAt && res.body.lastSeenAt ? res.body : undefined;
      },
      'the device activity flush',
      15_000,
    );
    expect(Date.parse(shown.lastReadingAt)).toBeLessThanOrEqual(Date.now());

    const disabled = await t.api.get('/api/v1/devices?enabled=false&patient=rv-list-p', admin());
    expect(disabled.body.items.map((d: any) => d.id)).toEqual(['rv-list-c']);
    await client.endAsync();
  }, 30_000);

  it('is for admins only, and names what to do for an unknown device', async () => {
    const operator = await t.createToken('operator');
    expect((await t.api.get('/api/v1/devices', { token: operator.token })).status).toBe(403);
    expect((await t.api.post('/api/v1/devices/rv-list-a/disable', {}, { token: operator.token })).status).toBe(403);
    for (const path of ['/api/v1/devices/rv-none/disable', '/api/v1/devices/rv-none/enable']) {
      const res = await t.api.post(path, {}, admin());
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('vitalink devices list');
    }
    expect((await t.api.get('/api/v1/devices/rv-none', admin())).status).toBe(404);
  });
});

describe('API tokens', () => {
  it('refuses a revoked token on its next request, also when revoked through another instance', async () => {
    const clinician = await t.createToken('operator');
    expect((await httpGet(secondUrl().http, '/api/v1/me', clinician.token)).status).toBe(200);
    const revoked = await t.api.post(`/api/v1/tokens/${clinician.id}/revoke`, {}, admin());
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: clinician.id, state: 'revoked' });
    const refused = await httpGet(secondUrl().http, '/api/v1/me', clinician.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe(TOKEN_REFUSED);
    expect((await t.api.get('/api/v1/me', { token: clinician.token })).status).toBe(401);
  });

  it('refuses an expired token with the same answer as an unknown one', async () => {
    const created = await t.api.post('/api/v1/tokens', { role: 'operator', expires: '1h' }, admin());
    expect(created.status).toBe(201);
    expect(Date.parse(created.body.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    const token: string = created.body.token;
    expect((await t.api.get('/api/v1/me', { token })).status).toBe(200);
    await t.query(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.body.id]);
    const expired = await httpGet(secondUrl().http, '/api/v1/me', token);
    const unknown = await t.api.get('/api/v1/me', { token: `vlk_${'x'.repeat(43)}` });
    expect(expired.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(expired.body).toEqual(unknown.body);
    const list = await t.api.get('/api/v1/tokens', admin());
    expect(list.body.items.find((i: any) => i.id === created.body.id)).toMatchObject({ state: 'expired' });
  });

  it('lists tokens a page at a time, by id, every token once', async () => {
    for (let i = 0; i < 3; i++) await t.api.post('/api/v1/tokens', { role: 'operator', label: `page-${i}` }, admin());
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.api.get(`/api/v1/tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin());
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i: any) => i.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    const { rows } = await t.query(`SELECT id::text AS id FROM api_tokens ORDER BY id`);
    expect(seen).toEqual(rows.map((r) => r.id));
    expect(pages).toBe(Math.ceil(rows.length / 2));
    expect((await t.api.get('/api/v1/tokens?cursor=bm90LWFuLWlk', admin())).status).toBe(400);
    expect((await t.api.get('/api/v1/tokens?limit=1001', admin())).status).toBe(422);
  });

  it('gives new tokens the default expiry of their role, never only when asked, and records the last use', async () => {
    const plain = await t.api.post('/api/v1/tokens', { role: 'admin' }, admin());
    expect(Math.round((Date.parse(plain.body.expiresAt) - Date.now()) / 86_400_000)).toBe(30);
    const forever = await t.api.post('/api/v1/tokens', { role: 'operator', expires: 'never' }, admin());
    expect(forever.body.expiresAt).toBeNull();
    const bad = await t.api.post('/api/v1/tokens', { role: 'operator', expires: 'soon' }, admin());
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain('90d');

    expect((await t.api.get('/api/v1/me', { token: forever.body.token })).status).toBe(200);
    const used = await waitFor(async () => {
      const list = await t.api.get('/api/v1/tokens', admin());
      return list.body.items.find((i: any) => i.id === forever.body.id && i.lastUsedAt);
    }, 'the last use to be recorded');
    expect(used).toMatchObject({ role: 'operator', state: 'active', expiresAt: null });
    for (const item of (await t.api.get('/api/v1/tokens', admin())).body.items) {
      expect(Object.keys(item).sort()).toEqual(
        [
          'createdAt',
          'expiresAt',
          'id',
          'label',
          'lastUsedAt',
          'patientIds',
          'practitionerId',
          'revokedAt',
          'role',
          'state',
        ].sort(),
      );
    }
  });

  it('names what to do for an unknown token id', async () => {
    for (const id of ['999999', 'abc']) {
      const res = await t.api.post(`/api/v1/tokens/${id}/revoke`, {}, admin());
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('vitalink tokens list');
    }
  });
});
