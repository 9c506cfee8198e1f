/**
 * README, "Commands", the table of exit codes: a sample of commands for each code, as a
 * person runs them (the `vitalink` command, bin/vitalink.js, on a real database).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ROOT, runCli } from '../helpers/service.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await addPatient(database.db, { id: 'ec-p1' });
});

afterAll(async () => {
  await database?.drop();
});

const launcher = `${ROOT}/bin/vitalink.js`;
const vitalink = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...env }, { main: launcher });

describe('exit codes', () => {
  it('0: done (a result, a help text)', { timeout: 60_000 }, async () => {
    for (const args of [['devices', 'list'], ['--help'], ['tokens', 'create', '--help']]) {
      const run = await vitalink(args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    }
  });

  it.each([
    ['no command', [], 'Usage:'],
    ['an unknown command', ['frobnicate'], 'unknown command "frobnicate"'],
    ['an unknown option', ['devices', 'list', '--colour'], "Unknown option '--colour'"],
    ['a missing option', ['patients', 'add'], 'patients add needs --id'],
    ['--role doctor', ['tokens', 'create', '--role', 'doctor'], 'role must be one of admin, operator, clinician'],
    [
      '--tz Paris',
      ['patients', 'add', '--id', 'ec-p2', '--tz', 'Paris'],
      'time zone "Paris" is not an IANA time zone name',
    ],
    [
      'a time it cannot read',
      ['devices', 'assign', '--id', 'd', '--patient', 'ec-p1', '--from', 'yesterday'],
      '--from "yesterday" is not a time',
    ],
    ['a device id', ['devices', 'add', '--id', 'bad id!'], 'device id "bad id!" is invalid'],
    ['a month', ['report', 'activity', '--team', 't', '--month', '2026-13'], '--month must be YYYY-MM'],
    [
      'a programme',
      ['enrol', '--patient', 'ec-p1', '--team', 't', '--programme', 'nothing'],
      'programme "nothing" is not one Vitalink knows',
    ],
    ['service hours', ['teams', 'add', '--id', 'ec-t', '--hours', 'nonsense'], 'service hours: "nonsense"'],
    [
      'an expiry',
      ['tokens', 'create', '--role', 'admin', '--expires', 'someday'],
      'expiry "someday" is not understood',
    ],
    [
      'a webhook',
      ['notifications', 'add', '--team', 't', '--webhook', 'http://hooks.example.org/v'],
      'must be https://',
    ],
  ])('2: a usage mistake or a bad value: %s', { timeout: 60_000 }, async (_, args, message) => {
    const run = await vitalink(args);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout + run.stderr).toContain(message);
  });

  it('2: a configuration mistake', { timeout: 60_000 }, async () => {
    const run = await vitalink(['serve'], { MQTT_PORT: 'abc' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('MQTT_PORT: must be a port');
    expect(run.stderr).toContain('Fix these environment variables and try again.');
  });

  it('1: what the database refuses or lacks', { timeout: 60_000 }, async () => {
    const missing = await vitalink(['devices', 'show', '--id', 'ec-nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('device ec-nobody does not exist');
    const duplicate = await vitalink(['patients', 'add', '--id', 'ec-p1']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('ec-p1');
  });

  it('1: the database cannot be reached', { timeout: 90_000 }, async () => {
    const run = await vitalink(['devices', 'list'], { DATABASE_URL: 'postgres://vitalink@127.0.0.1:1/none' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('could not connect to PostgreSQL at 127.0.0.1:1/none');
  });
});
