/**
 * README, "Security", "Rotating the key", as an operator runs it: an installation
 * from before VITALINK_SECRET_KEY, a key file configured for the commands and for
 * `serve`, its permissions checked, `keys status`, and `keys forget-database-key`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/domain/secret-keys.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { connectDevice } from '../helpers/device.ts';
import { runCli, type ServiceProcess, startService } from '../helpers/service.ts';

let database: TestDatabase;
let dir: string;
let keyFile: string;
const key = randomBytes(32);
const keyText = key.toString('base64');
const keyId = keyIdOf(key);

beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalink-key-cli-'));
  keyFile = path.join(dir, 'secret.key');
  fs.writeFileSync(keyFile, `${keyText}\n`, { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);
});

afterAll(async () => {
  await database?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const base = () => ({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
const withKey = () => ({ ...base(), VITALINK_SECRET_KEY_FILE: keyFile });

async function json(args: string[], env: Record<string, string>): Promise<any> {
  const result = await runCli([...args, '--json'], env);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.code, args.join(' ')).toBe(0);
  return JSON.parse(result.stdout);
}

describe('the secret key from a file, for the commands and for serve', () => {
  it('upgrades an installation from the database key to a key file, then forgets the database key', async () => {
    // Before any key is configured: the database's key, as before.
    const legacy = await json(['devices', 'add', '--id', 'ek-legacy'], base());

    // A key file others may read is refused, with the fix, and the key is not shown.
    const open = await runCli(['devices', 'add', '--id', 'ek-refused'], withKey());
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('VITALINK_SECRET_KEY_FILE');
    expect(open.stderr).toContain(`chmod 600 ${keyFile}`);
    expect(open.stderr).not.toContain(keyText);
    fs.chmodSync(keyFile, 0o600);

    const added = await json(['devices', 'add', '--id', 'ek-new'], withKey());
    const { token } = await json(['tokens', 'create', '--role', 'admin'], withKey());
    const { rows } = await database.query(`SELECT id, secret_key_id FROM devices ORDER BY id`);
    expect(rows).toEqual([
      { id: 'ek-legacy', secret_key_id: 'database' },
      { id: 'ek-new', secret_key_id: keyId },
    ]);

    const before = await json(['keys', 'status'], withKey());
    expect(before.currentKeyId).toBe(keyId);
    expect(before.keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ keyId, state: 'current', devices: 1, tokens: 1 }),
        expect.objectContaining({ keyId: 'database', state: 'previous', devices: 1, devicesNeverSeen: 1 }),
      ]),
    );
    expect(before.waiting).toEqual({ deviceIds: ['ek-legacy'], tokenIds: [] });
    const text = await runCli(['keys', 'status'], withKey());
    expect(text.stdout).toContain(`key ${keyId} (current, from VITALINK_SECRET_KEY_FILE)`);
    expect(text.stdout).toContain('ek-legacy');

    // Not while a device is still under the database key.
    const early = await runCli(['keys', 'forget-database-key'], withKey());
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('1 device secrets and 0 API or device tokens are still under the database key');

    // serve with the same file: both devices connect, the legacy one moves to the key; the token works.
    const service: ServiceProcess = await startService({ ...withKey(), LOG_LEVEL: 'info' });
    try {
      for (const [id, secret] of [
        ['ek-new', added.secret],
        ['ek-legacy', legacy.secret],
      ]) {
        const client = await connectDevice(`mqtt://127.0.0.1:${service.ports.mqtt}`, id, secret, {
          reconnectPeriod: 0,
        });
        await client.endAsync();
      }
      const res = await fetch(`http://127.0.0.1:${service.ports.http}/api/v1/tokens`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } finally {
      await service.stop();
    }
    const logs = JSON.stringify(service.logs);
    for (const secret of [keyText, legacy.secret, added.secret, token]) expect(logs).not.toContain(secret);

    const after = await json(['keys', 'status'], withKey());
    expect(after.waiting).toEqual({ deviceIds: [], tokenIds: [] });
    expect(await json(['keys', 'forget-database-key'], withKey())).toEqual({
      forgotten: true,
      stranded: { devices: 0, tokens: 0 },
    });
    const { rows: stored } = await database.query(`SELECT secret_key FROM installation`);
    expect(stored[0].secret_key).toBeNull();

    // From now on the key must be configured: a command without it says so.
    const without = await runCli(['devices', 'add', '--id', 'ek-late'], base());
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('set VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE');
  }, 120_000);

  it('refuses to forget the database key while it is the only key', async () => {
    const other = await createTestDatabase();
    try {
      const result = await runCli(['keys', 'forget-database-key'], { DATABASE_URL: other.url, LOG_LEVEL: 'warn' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the database key is the only key: set VITALINK_SECRET_KEY');
      const { rows } = await other.query(`SELECT secret_key IS NOT NULL AS kept FROM installation`);
      expect(rows[0].kept).toBe(true);
    } finally {
      await other.drop();
    }
  }, 60_000);
});
