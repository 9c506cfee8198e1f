/**
 * README, "Security", "Rotating the key": device secrets and API tokens are stored
 * under a key from outside the database; the key is rotated without re-issuing
 * credentials. The real service (restarted with each configuration), real MQTT
 * clients and real HTTP requests.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeviceToken } from '../../src/actions/device-tokens.ts';
import { keysStatus, resolveKeyRing } from '../../src/actions/secret-keys.ts';
import { readSecretKeys } from '../../src/config.ts';
import { DATABASE_KEY_ID, keyIdOf } from '../../src/domain/secret-keys.ts';
import { useTestDatabase } from '../fixture.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const t = useTestDatabase();

const A = randomBytes(32).toString('base64');
const B = randomBytes(32).toString('hex');
const idA = keyIdOf(Buffer.from(A, 'base64'));
const idB = keyIdOf(Buffer.from(B, 'hex'));

let running: TestApp | undefined;
let logs: Record<string, unknown>[] = [];

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(env: Record<string, string>): Promise<TestApp> {
  await running?.stop();
  logs = [];
  running = await startTestApp(t.database, env, logs);
  return running;
}

/**
 * CONNECT with a device's credentials: the CONNACK's return code (0: accepted;
 * -1: the connection closed without one, e.g. taken over by another CONNECT of
 * the same client id before its CONNACK).
 */
function connack(deviceId: string, secret: string): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${running!.ports.mqtt}`, {
      clientId: deviceId,
      username: deviceId,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    const done = (code: number) => {
      client.removeAllListeners();
      client.on('error', () => {});
      client.end(true, () => resolve(code));
    };
    client.once('connect', () => done(0));
    client.once('error', (error) => done((error as { code?: number }).code ?? -1));
    client.once('close', () => done(-1));
  });
}

async function apiStatus(token: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${running!.ports.http}/api/v1/tokens`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

async function deviceRow(id: string): Promise<{ key: string; xmin: string; hash: Buffer }> {
  const { rows } = await t.query(
    `SELECT secret_key_id AS key, xmin::text, secret_hash AS hash FROM devices WHERE id = $1`,
    [id],
  );
  return rows[0];
}

async function tokenKey(id: string): Promise<string> {
  const { rows } = await t.query(`SELECT secret_key_id FROM api_tokens WHERE id = $1`, [id]);
  return rows[0].secret_key_id;
}

/** A device token's HTTPS readings request (README, "Device tokens"): its status. */
async function deviceTokenStatus(deviceId: string, token: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${running!.ports.http}/api/v1/devices/${deviceId}/readings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: `t-${Date.now()}`, type: 'heart_rate', at: Date.now(), value: 70, unit: '/min' }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function deviceTokenKey(id: string): Promise<string> {
  const { rows } = await t.query(`SELECT secret_key_id FROM device_tokens WHERE id = $1`, [id]);
  return rows[0].secret_key_id;
}

describe('rotating the secret key', () => {
  it('moves credentials to the new key on use, once, and refuses those left under a removed key', async () => {
    const onlyA = { VITALINK_SECRET_KEY: A };
    t.useSecretKeysOf(onlyA);
    const used = await t.provisionDevice('kr-used');
    const idle = await t.provisionDevice('kr-idle');
    const usedToken = await t.createToken('admin');
    const idleToken = await t.createToken('admin');
    expect((await deviceRow('kr-used')).key).toBe(idA);
    expect(await tokenKey(usedToken.id)).toBe(idA);

    // Under A alone: as before any rotation.
    await start(onlyA);
    expect(await connack('kr-used', used)).toBe(0);
    expect(await apiStatus(usedToken.token)).toBe(200);

    // B current, A previous: still accepted, and now stored under B.
    const rotating = { VITALINK_SECRET_KEY: B, VITALINK_SECRET_KEY_PREVIOUS: A };
    await start(rotating);
    expect(await connack('kr-used', used)).toBe(0);
    const moved = await deviceRow('kr-used');
    expect(moved.key).toBe(idB);
    expect(logs.some((l) => l.msg === 'device secret re-hashed under the current key' && l.toKeyId === idB)).toBe(true);
    // Once per credential: the next CONNECT finds it under B and writes nothing (same row version).
    expect(await connack('kr-used', used)).toBe(0);
    expect((await deviceRow('kr-used')).xmin).toBe(moved.xmin);
    expect(await apiStatus(usedToken.token)).toBe(200);
    expect(await tokenKey(usedToken.id)).toBe(idB);
    expect(await apiStatus(usedToken.token)).toBe(200);
    // A wrong secret is still a wrong secret under either key.
    expect(await connack('kr-used', 'not-the-secret')).toBe(4);

    // What the operator reads before removing A.
    const status = await keysStatus(t.db, readSecretKeys(rotating).keys);
    expect(status.currentKeyId).toBe(idB);
    const byId = new Map(status.keys.map((k) => [k.keyId, k]));
    expect(byId.get(idB)).toMatchObject({ state: 'current', devices: 1, tokens: 1 });
    expect(byId.get(idA)).toMatchObject({ state: 'previous', devices: 1, devicesNeverSeen: 1, tokens: 1 });
    expect(byId.get(DATABASE_KEY_ID)).toMatchObject({ state: 'previous', devices: 0, tokens: 0 });
    expect(status.waiting).toEqual({ deviceIds: ['kr-idle'], tokenIds: [idleToken.id] });

    // A removed: what moved still works; what stayed under A is refused as a wrong secret (CONNACK 4) and the log says why.
    await start({ VITALINK_SECRET_KEY: B });
    const startWarning = logs.find(
      (l) =>
        typeof l.msg === 'string' && l.msg.startsWith('credentials stored under secret keys that are not configured'),
    );
    expect(startWarning).toMatchObject({ keyIds: [idA], devices: 1, tokens: 1 });
    expect(await connack('kr-used', used)).toBe(0);
    expect(await connack('kr-idle', idle)).toBe(4);
    const refusal = logs.find((l) => l.msg === 'connection refused' && l.clientId === 'kr-idle');
    expect(refusal).toMatchObject({ reason: 'secret_key_unavailable', keyIds: [idA] });
    expect(await apiStatus(usedToken.token)).toBe(200);
    expect(await apiStatus(idleToken.token)).toBe(401);
    // No secret, token or key in any log line.
    const text = JSON.stringify(logs);
    for (const secret of [used, idle, usedToken.token, idleToken.token, A, B]) expect(text).not.toContain(secret);
  }, 60_000);

  it('re-hashes a credential once under a storm of CONNECTs and requests', async () => {
    t.useSecretKeysOf({ VITALINK_SECRET_KEY: A });
    const secret = await t.provisionDevice('kr-storm');
    const token = await t.createToken('admin');
    await start({ VITALINK_SECRET_KEY: B, VITALINK_SECRET_KEY_PREVIOUS: A });
    // Concurrent CONNECTs of one client id take each other's session over: some may lose it before their CONNACK.
    const codes = await Promise.all(Array.from({ length: 20 }, () => connack('kr-storm', secret)));
    expect(codes.filter((c) => c !== 0 && c !== -1)).toEqual([]);
    expect(codes).toContain(0);
    const statuses = await Promise.all(Array.from({ length: 20 }, () => apiStatus(token.token)));
    expect(statuses).toEqual(Array(20).fill(200));
    expect((await deviceRow('kr-storm')).key).toBe(idB);
    expect(await tokenKey(token.id)).toBe(idB);
    const rehashes = logs.filter((l) => typeof l.msg === 'string' && l.msg.endsWith('re-hashed under the current key'));
    expect(rehashes.map((l) => l.msg).sort()).toEqual([
      'api token re-hashed under the current key',
      'device secret re-hashed under the current key',
    ]);
  }, 60_000);

  it('keeps the database key working when a key is configured for the first time, and moves what uses it', async () => {
    t.useSecretKeysOf({});
    const legacy = await t.provisionDevice('kr-legacy');
    const legacyToken = await t.createToken('admin');
    expect((await deviceRow('kr-legacy')).key).toBe(DATABASE_KEY_ID);
    await start({});
    expect(logs.some((l) => l.level === 'warn' && l.setting === 'VITALINK_SECRET_KEY')).toBe(true);
    expect(await connack('kr-legacy', legacy)).toBe(0);

    await start({ VITALINK_SECRET_KEY: B });
    expect(logs.some((l) => l.setting === 'VITALINK_SECRET_KEY')).toBe(false);
    expect(await connack('kr-legacy', legacy)).toBe(0);
    expect((await deviceRow('kr-legacy')).key).toBe(idB);
    expect(await apiStatus(legacyToken.token)).toBe(200);
    expect(await tokenKey(legacyToken.id)).toBe(idB);
  }, 60_000);
  it('moves device tokens to the new key on use, counts them in keys status, refuses those left under a removed key', async () => {
    const onlyA = { VITALINK_SECRET_KEY: A };
    t.useSecretKeysOf(onlyA);
    await t.provisionDevice('kr-tok');
    const ringA = await resolveKeyRing(t.db, readSecretKeys(onlyA).keys);
    const used = await createDeviceToken(t.db, ringA, { deviceId: 'kr-tok' });
    const idle = await createDeviceToken(t.db, ringA, { deviceId: 'kr-tok' });
    expect(await deviceTokenKey(used.id)).toBe(idA);

    const rotating = { VITALINK_SECRET_KEY: B, VITALINK_SECRET_KEY_PREVIOUS: A };
    await start(rotating);
    expect(await deviceTokenStatus('kr-tok', used.token)).toBe(200);
    expect(await deviceTokenKey(used.id)).toBe(idB);
    expect(logs.some((l) => l.msg === 'device token re-hashed under the current key' && l.toKeyId === idB)).toBe(true);
    expect(await deviceTokenStatus('kr-tok', used.token)).toBe(200);
    const byId = new Map((await keysStatus(t.db, readSecretKeys(rotating).keys)).keys.map((k) => [k.keyId, k]));
    expect(byId.get(idB)).toMatchObject({ deviceTokens: 1 });
    expect(byId.get(idA)).toMatchObject({ deviceTokens: 1 });

    await start({ VITALINK_SECRET_KEY: B });
    const startWarning = logs.find(
      (l) =>
        typeof l.msg === 'string' && l.msg.startsWith('credentials stored under secret keys that are not configured'),
    );
    expect(startWarning).toMatchObject({ keyIds: [idA], deviceTokens: 1 });
    expect(await deviceTokenStatus('kr-tok', used.token)).toBe(200);
    expect(await deviceTokenStatus('kr-tok', idle.token)).toBe(401);
    const text = JSON.stringify(logs);
    for (const secret of [used.token, idle.token]) expect(text).not.toContain(secret);
  }, 60_000);
});
