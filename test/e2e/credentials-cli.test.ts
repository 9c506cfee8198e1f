/**
 * `vitalink devices list|show|disable|enable|rotate-secret` and `vitalink tokens
 * create --expires|list|revoke` as a user runs them (README, "Security"): the
 * real command, its --json output, and errors that say what to do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { connectDevice } from '../helpers/device.ts';
import { provisionDevice } from '../helpers/provision.ts';
import { runCli } from '../helpers/service.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await provisionDevice(database.db, 'cc-dev-1', 'cc-p-1');
  await provisionDevice(database.db, 'cc-dev-2', 'cc-p-2');
});

afterAll(async () => {
  await database?.drop();
});

function vitalink(args: string[]) {
  return runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
}

async function json(args: string[]): Promise<any> {
  const result = await vitalink([...args, '--json']);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.code, args.join(' ')).toBe(0);
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(result.stdout);
}

const STATE_KEYS = [
  'connected',
  'createdAt',
  'disabledAt',
  'enabled',
  'id',
  'lastReadingAt',
  'lastRejection',
  'lastSeenAt',
  'lastTransport',
  'model',
  'patientId',
  'previousSecretValidUntil',
  'secretRotatedAt',
];

describe('vitalink devices list|show|disable|enable|rotate-secret', () => {
  it('lists and shows devices with their state, disables and enables one', async () => {
    const list = await json(['devices', 'list']);
    expect(list.items.map((d: any) => d.id)).toEqual(['cc-dev-1', 'cc-dev-2']);
    expect(list.next).toBeNull();
    for (const item of list.items) expect(Object.keys(item).sort()).toEqual(STATE_KEYS);
    expect(list.items[0]).toMatchObject({ id: 'cc-dev-1', enabled: true, patientId: 'cc-p-1', connected: null });

    const page = await json(['devices', 'list', '--limit', '1']);
    expect(page).toMatchObject({ items: [{ id: 'cc-dev-1' }], next: 'cc-dev-1' });
    const rest = await json(['devices', 'list', '--limit', '1', '--after', page.next]);
    expect(rest).toMatchObject({ items: [{ id: 'cc-dev-2' }], next: null });

    const disabled = await json(['devices', 'disable', '--id', 'cc-dev-2']);
    expect(disabled).toMatchObject({ id: 'cc-dev-2', enabled: false });
    expect(Date.parse(disabled.disabledAt)).toBeGreaterThan(0);
    const onlyDisabled = await json(['devices', 'list', '--enabled', 'false']);
    expect(onlyDisabled.items.map((d: any) => d.id)).toEqual(['cc-dev-2']);
    const ofPatient = await json(['devices', 'list', '--patient', 'cc-p-1']);
    expect(ofPatient.items.map((d: any) => d.id)).toEqual(['cc-dev-1']);

    const enabled = await json(['devices', 'enable', '--id', 'cc-dev-2']);
    expect(enabled).toMatchObject({ id: 'cc-dev-2', enabled: true, disabledAt: null });

    const text = await vitalink(['devices', 'show', '--id', 'cc-dev-1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('device cc-dev-1');
    expect(text.stdout).toContain('patient now:     cc-p-1');
  }, 60_000);

  it('rotates a secret, printing it once, with or without a grace period', async () => {
    const { rows: before } = await database.query(`SELECT secret_hash FROM devices WHERE id = 'cc-dev-1'`);
    const rotated = await json(['devices', 'rotate-secret', '--id', 'cc-dev-1']);
    expect(Object.keys(rotated).sort()).toEqual(['id', 'previousSecretValidUntil', 'secret']);
    expect(rotated.previousSecretValidUntil).toBeNull();
    const { rows: after } = await database.query(
      `SELECT secret_hash, previous_secret_hash FROM devices WHERE id = 'cc-dev-1'`,
    );
    expect(after[0].secret_hash.equals(before[0].secret_hash)).toBe(false);
    expect(after[0].previous_secret_hash).toBeNull();

    const graced = await json(['devices', 'rotate-secret', '--id', 'cc-dev-1', '--grace', '60']);
    const until = Date.parse(graced.previousSecretValidUntil) - Date.now();
    expect(until).toBeGreaterThan(50_000);
    expect(until).toBeLessThanOrEqual(61_000);
    const shown = await json(['devices', 'show', '--id', 'cc-dev-1']);
    expect(shown.previousSecretValidUntil).toBe(graced.previousSecretValidUntil);
  }, 60_000);

  it('says what to do about an unknown device or a bad option', async () => {
    const [show, disable, rotate, badEnabled, badGrace] = await Promise.all([
      vitalink(['devices', 'show', '--id', 'cc-nobody']),
      vitalink(['devices', 'disable', '--id', 'cc-nobody']),
      vitalink(['devices', 'rotate-secret', '--id', 'cc-nobody']),
      vitalink(['devices', 'list', '--enabled', 'maybe']),
      vitalink(['devices', 'rotate-secret', '--id', 'cc-dev-1', '--grace', '604801']),
    ]);
    for (const result of [show, disable, rotate]) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('device cc-nobody does not exist');
      expect(result.stderr).toContain('vitalink devices list');
    }
    expect(badEnabled.code).toBe(2);
    expect(badEnabled.stderr).toContain('--enabled takes true or false');
    expect(badGrace.code).toBe(2);
    expect(badGrace.stderr).toContain('7 days');
  }, 60_000);
});

describe('while `vitalink serve` runs', () => {
  it('devices disable closes the live session, tokens revoke refuses the next request', async () => {
    const service = await startTestApp(database);
    try {
      const secret = await provisionDevice(database.db, 'cc-live', 'cc-p-live');
      const client = await connectDevice(`mqtt://127.0.0.1:${service.ports.mqtt}`, 'cc-live', secret, {
        reconnectPeriod: 0,
      });
      const gone = new Promise<'closed'>((resolve) => client.once('close', () => resolve('closed')));
      await json(['devices', 'disable', '--id', 'cc-live']);
      const bound = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2_000).unref());
      expect(await Promise.race([gone, bound])).toBe('closed');
      await client.endAsync(true);

      const created = await vitalink(['tokens', 'create', '--role', 'operator', '--name', 'live-2', '--json']);
      const { token } = JSON.parse(created.stdout);
      const me = () =>
        fetch(`http://127.0.0.1:${service.ports.http}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect((await me()).status).toBe(200);
      const id = (await json(['tokens', 'list'])).items.find((t: any) => t.label === 'live-2').id;
      await json(['tokens', 'revoke', '--id', id]);
      expect((await me()).status).toBe(401);
    } finally {
      await service.stop();
    }
  }, 60_000);
});

describe('vitalink tokens create --expires|list|revoke', () => {
  it('creates tokens with an expiry, lists them without their text, and revokes one', async () => {
    const created = await json(['tokens', 'create', '--role', 'operator', '--expires', '1h', '--name', 'ops']);
    expect(Object.keys(created).sort()).toEqual(['role', 'token']);
    const text = await vitalink(['tokens', 'create', '--role', 'operator', '--expires', '2027-01-01', '--name', 'txt']);
    expect(text.stdout).toMatch(/^operator token \d+ created; it expires at 2027-01-01T00:00:00.000Z\.$/m);
    expect(text.stdout).toMatch(/^`vitalink tokens revoke --id \d+` revokes it\.$/m);

    const list = await json(['tokens', 'list']);
    const hour = list.items.find((t: any) => t.label === 'ops');
    const left = Date.parse(hour.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(55 * 60_000);
    expect(left).toBeLessThanOrEqual(3_600_000);
    expect(hour).toMatchObject({ role: 'operator', label: 'ops', state: 'active', lastUsedAt: null });
    expect(JSON.stringify(list)).not.toContain(created.token);
    await json(['tokens', 'create', '--role', 'admin', '--expires', 'never', '--name', 'forever']);
    await json(['tokens', 'create', '--role', 'admin', '--name', 'by-default']);
    const all = (await json(['tokens', 'list'])).items;
    expect(all.find((t: any) => t.label === 'forever').expiresAt).toBeNull();
    const byDefault = all.find((t: any) => t.label === 'by-default');
    expect(Math.round((Date.parse(byDefault.expiresAt) - Date.now()) / 86_400_000)).toBe(30);

    const revoked = await json(['tokens', 'revoke', '--id', hour.id]);
    expect(revoked).toMatchObject({ id: hour.id, state: 'revoked' });
    const again = await json(['tokens', 'list']);
    expect(again.items.find((t: any) => t.id === hour.id).state).toBe('revoked');

    // A page at a time: the text says how to ask for the next one.
    const first = await json(['tokens', 'list', '--limit', '2']);
    expect(first.items).toHaveLength(2);
    expect(first.next).toBe(first.items[1].id);
    const paged = await vitalink(['tokens', 'list', '--limit', '2']);
    expect(paged.stdout).toContain(`more: vitalink tokens list --after ${first.next}`);
    const rest = await json(['tokens', 'list', '--after', first.next]);
    expect([...first.items, ...rest.items].map((t: any) => t.id)).toEqual(again.items.map((t: any) => t.id));
    expect(rest.next).toBeNull();
  }, 60_000);

  it('says what to do about an unknown token or an expiry it cannot read', async () => {
    const [unknown, unreadable, past] = await Promise.all([
      vitalink(['tokens', 'revoke', '--id', '424242']),
      vitalink(['tokens', 'create', '--role', 'admin', '--expires', 'someday']),
      vitalink(['tokens', 'create', '--role', 'admin', '--expires', '2020-01-01']),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('token 424242 does not exist');
    expect(unknown.stderr).toContain('vitalink tokens list');
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain('90d');
    expect(unreadable.stderr).toContain('never');
    expect(past.code).toBe(2);
    expect(past.stderr).toContain('not in the future');
  }, 60_000);
});

describe('vitalink devices token create|list|revoke', () => {
  it('creates a device token printed once, lists it without its text, revokes it', async () => {
    const created = await json(['devices', 'token', 'create', '--id', 'cc-dev-2', '--name', 'companion app']);
    expect(Object.keys(created).sort()).toEqual(['deviceId', 'expiresAt', 'id', 'token']);
    expect(created.token).toMatch(/^vdt_[A-Za-z0-9_-]{43}$/);
    expect(created.deviceId).toBe('cc-dev-2');
    // One year by default.
    const year = Date.parse(created.expiresAt) - Date.now();
    expect(year).toBeGreaterThan(364 * 86_400_000);
    expect(year).toBeLessThanOrEqual(365 * 86_400_000);

    const never = await json(['devices', 'token', 'create', '--id', 'cc-dev-2', '--expires', 'never']);
    expect(never.expiresAt).toBeNull();

    const list = await vitalink(['devices', 'token', 'list', '--id', 'cc-dev-2', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain(created.token);
    const items = JSON.parse(list.stdout).items;
    expect(items.map((t: any) => [t.id, t.state, t.label])).toEqual([
      [created.id, 'active', 'companion app'],
      [never.id, 'active', null],
    ]);

    const text = await vitalink(['devices', 'token', 'create', '--id', 'cc-dev-2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^token: vdt_\S+$/m);
    expect(text.stdout).toContain('shown only once');

    const revoked = await json(['devices', 'token', 'revoke', '--id', 'cc-dev-2', '--token', created.id]);
    expect(revoked).toMatchObject({ id: created.id, deviceId: 'cc-dev-2', state: 'revoked' });
    const after = await json(['devices', 'token', 'list', '--id', 'cc-dev-2']);
    expect(after.items.find((t: any) => t.id === created.id).state).toBe('revoked');
  }, 60_000);

  it('says what to do about an unknown device or token, an unreadable expiry, and lists the group', async () => {
    const [unknownDevice, unknownToken, otherDevice, unreadable, group] = await Promise.all([
      vitalink(['devices', 'token', 'create', '--id', 'cc-nobody']),
      vitalink(['devices', 'token', 'revoke', '--id', 'cc-dev-1', '--token', '424242']),
      vitalink(['devices', 'token', 'list', '--id', 'cc-nobody']),
      vitalink(['devices', 'token', 'create', '--id', 'cc-dev-1', '--expires', 'someday']),
      vitalink(['devices', '--help']),
    ]);
    for (const result of [unknownDevice, otherDevice]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('device cc-nobody does not exist');
    }
    expect(unknownToken.code).toBe(1);
    expect(unknownToken.stderr).toContain('device cc-dev-1 has no token 424242');
    expect(unknownToken.stderr).toContain('vitalink devices token list --id cc-dev-1');
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain('90d');
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('vitalink devices token create');
    expect(group.stdout).toContain('vitalink devices token revoke');
  }, 60_000);
});
