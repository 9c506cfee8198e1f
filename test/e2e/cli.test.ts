import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultOptionName } from '../../simulators/fleet/faults.ts';
import { PERSONAS } from '../../simulators/personas/index.ts';
import { addPatient, assignDevice } from '../../src/actions/provisioning.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { connectDevice, heartRate } from '../helpers/device.ts';
import { provisionDevice } from '../helpers/provision.ts';
import { runCli } from '../helpers/service.ts';

const HOUR = 3_600_000;

let database: TestDatabase;
let service: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startTestApp(database);
});

afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

/** `vitalink ...args` on this file's database. */
function vitalink(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'warn', ...env });
}

function mqttUrl(): string {
  return `mqtt://127.0.0.1:${service.ports.mqtt}`;
}

describe('vitalink patients add', () => {
  it('creates a patient and prints it as JSON; refuses a bad time zone and a duplicate id', async () => {
    const added = await vitalink([
      'patients',
      'add',
      '--id',
      'cli-p1',
      '--tz',
      'America/New_York',
      '--name',
      'X',
      '--json',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout.endsWith('\n')).toBe(true);
    expect(added.stdout.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(added.stdout);
    expect(json).toMatchObject({ id: 'cli-p1', timeZone: 'America/New_York', displayName: 'X' });
    const { rows } = await database.query(`SELECT id, time_zone, display_name FROM patients WHERE id = 'cli-p1'`);
    expect(rows).toEqual([{ id: 'cli-p1', time_zone: 'America/New_York', display_name: 'X' }]);

    const badZone = await vitalink(['patients', 'add', '--id', 'cli-p2', '--tz', 'Mars/Olympus_Mons']);
    expect(badZone.code).toBe(2);
    expect(badZone.stdout).toBe('');
    expect(badZone.stderr).toContain('Mars/Olympus_Mons');
    expect((await database.query(`SELECT 1 FROM patients WHERE id = 'cli-p2'`)).rowCount).toBe(0);

    const duplicate = await vitalink(['patients', 'add', '--id', 'cli-p1', '--tz', 'Europe/Paris']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stdout).toBe('');
    expect(duplicate.stderr).toMatch(/cli-p1 already exists/);
    const after = await database.query(`SELECT time_zone FROM patients WHERE id = 'cli-p1'`);
    expect(after.rows).toEqual([{ time_zone: 'America/New_York' }]);
  });
});

describe('vitalink devices add', () => {
  it('prints exactly {id, secret}, and the secret authenticates the device over MQTT', async () => {
    await addPatient(database.db, { id: 'cli-dp' });
    const added = await vitalink(['devices', 'add', '--id', 'cli-d1', '--patient', 'cli-dp', '--json']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const json = JSON.parse(added.stdout);
    expect(Object.keys(json).sort()).toEqual(['id', 'secret']);
    expect(json.id).toBe('cli-d1');
    expect(json.secret).toBeTypeOf('string');
    expect(json.secret.length).toBeGreaterThanOrEqual(16);
    expect(added.stdout).toBe(`${JSON.stringify({ id: 'cli-d1', secret: json.secret })}\n`);

    const { rows } = await database.query(
      `SELECT patient_id, valid_to FROM device_assignments WHERE device_id = 'cli-d1'`,
    );
    expect(rows).toEqual([{ patient_id: 'cli-dp', valid_to: null }]);

    await expect(connectDevice(mqttUrl(), 'cli-d1', `${json.secret}x`)).rejects.toThrow();
    const client = await connectDevice(mqttUrl(), 'cli-d1', json.secret);
    try {
      expect(client.connected).toBe(true);
      await client.publishAsync('v1/devices/cli-d1/readings', JSON.stringify(heartRate('cli-r1', 70, Date.now())), {
        qos: 1,
      });
      const stored = await database.query(`SELECT patient_id FROM readings WHERE device_id = 'cli-d1'`);
      expect(stored.rows).toEqual([{ patient_id: 'cli-dp' }]);
    } finally {
      await client.endAsync();
    }
  });

  it('refuses a device for an unknown patient and says to add the patient first', async () => {
    const result = await vitalink(['devices', 'add', '--id', 'cli-d2', '--patient', 'cli-nobody']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('cli-nobody');
    expect(result.stderr).toContain('patients add');
    expect(result.stderr).toMatch(/first/);
    expect((await database.query(`SELECT 1 FROM devices WHERE id = 'cli-d2'`)).rowCount).toBe(0);
  });
});

describe('vitalink devices assign', () => {
  it('records closed assignments, refuses an overlap, and ends an open-ended one when the device changes hands', async () => {
    for (const id of ['cli-pa', 'cli-pb', 'cli-pc']) await addPatient(database.db, { id });
    await provisionDevice(database.db, 'cli-da', null);

    const closed = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-da',
      '--patient',
      'cli-pa',
      '--from',
      '2026-01-01T08:00:00+01:00',
      '--to',
      '2026-01-02T08:00:00+01:00',
      '--json',
    ]);
    expect(closed.stderr).toBe('');
    expect(closed.code).toBe(0);
    expect(JSON.parse(closed.stdout)).toMatchObject({
      deviceId: 'cli-da',
      patientId: 'cli-pa',
      from: '2026-01-01T07:00:00.000Z',
      to: '2026-01-02T07:00:00.000Z',
      ended: null,
    });

    const overlap = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-da',
      '--patient',
      'cli-pb',
      '--from',
      '2026-01-01T20:00:00Z',
      '--to',
      '2026-01-03T00:00:00Z',
    ]);
    expect(overlap.code).toBe(1);
    expect(overlap.stdout).toBe('');
    expect(overlap.stderr).toContain('patient cli-pa');

    const open = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-da',
      '--patient',
      'cli-pb',
      '--from',
      '2026-02-01T00:00:00Z',
    ]);
    expect(open.stderr).toBe('');
    expect(open.code).toBe(0);

    const handover = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-da',
      '--patient',
      'cli-pc',
      '--from',
      '2026-03-01T09:30:00+02:00',
      '--json',
    ]);
    expect(handover.stderr).toBe('');
    expect(handover.code).toBe(0);
    expect(JSON.parse(handover.stdout)).toMatchObject({
      patientId: 'cli-pc',
      from: '2026-03-01T07:30:00.000Z',
      to: null,
      ended: { patientId: 'cli-pb', to: '2026-03-01T07:30:00.000Z' },
    });

    const { rows } = await database.query<{ patient_id: string; valid_from: Date; valid_to: Date | null }>(
      `SELECT patient_id, valid_from, valid_to FROM device_assignments WHERE device_id = 'cli-da' ORDER BY valid_from`,
    );
    expect(
      rows.map((r) => [r.patient_id, r.valid_from.toISOString(), r.valid_to ? r.valid_to.toISOString() : null]),
    ).toEqual([
      ['cli-pa', '2026-01-01T07:00:00.000Z', '2026-01-02T07:00:00.000Z'],
      ['cli-pb', '2026-02-01T00:00:00.000Z', '2026-03-01T07:30:00.000Z'],
      ['cli-pc', '2026-03-01T07:30:00.000Z', null],
    ]);
  });
});

describe('vitalink devices assign, the same patient again', () => {
  it('extends the assignment made by devices add backwards with --from alone; another patient stays refused', async () => {
    await addPatient(database.db, { id: 'cli-pm' });
    await addPatient(database.db, { id: 'cli-pn' });
    const added = await vitalink(['devices', 'add', '--id', 'cli-dm', '--patient', 'cli-pm', '--json']);
    expect(added.code, added.stderr).toBe(0);

    const back = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-dm',
      '--patient',
      'cli-pm',
      '--from',
      '2026-11-22T08:00:00+01:00',
      '--json',
    ]);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    const json = JSON.parse(back.stdout);
    expect(json).toMatchObject({ deviceId: 'cli-dm', patientId: 'cli-pm', from: '2026-11-22T07:00:00.000Z', to: null });
    expect(json.merged).toHaveLength(1);
    expect(json.merged[0].to).toBeNull();

    const text = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-dm',
      '--patient',
      'cli-pm',
      '--from',
      '2026-11-01T00:00:00Z',
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      'device cli-dm assigned to patient cli-pm from 2026-11-01T00:00:00.000Z with no end (its assignment to that patient from 2026-11-22T07:00:00.000Z extended into this one)',
    );

    const other = await vitalink([
      'devices',
      'assign',
      '--id',
      'cli-dm',
      '--patient',
      'cli-pn',
      '--from',
      '2026-10-25T00:00:00Z',
      '--to',
      '2026-11-05T00:00:00Z',
    ]);
    expect(other.code).toBe(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain(
      'device cli-dm is assigned to patient cli-pm from 2026-11-01T00:00:00.000Z with no end',
    );
    expect(other.stderr).toContain('a device is with one patient at a time');

    const { rows } = await database.query<{ patient_id: string; valid_from: Date; valid_to: Date | null }>(
      `SELECT patient_id, valid_from, valid_to FROM device_assignments WHERE device_id = 'cli-dm'`,
    );
    expect(rows.map((r) => [r.patient_id, r.valid_from.toISOString(), r.valid_to])).toEqual([
      ['cli-pm', '2026-11-01T00:00:00.000Z', null],
    ]);
  });
});

describe('vitalink rejections reprocess', () => {
  it('stores the unassigned readings an assignment now covers and prints a report whose counts match', async () => {
    const assignedFrom = new Date();
    const secret = await provisionDevice(database.db, 'cli-dr', 'cli-pr-now', assignedFrom);
    const client = await connectDevice(mqttUrl(), 'cli-dr', secret);
    const t0 = assignedFrom.getTime();
    try {
      await client.publishAsync(
        'v1/devices/cli-dr/readings',
        JSON.stringify({
          readings: [
            heartRate('u-1', 71, t0 - 3 * HOUR),
            heartRate('u-2', 72, t0 - 2 * HOUR),
            heartRate('u-3', 73, t0 - 30 * HOUR),
            { id: 'u-4', type: 'heart_rate', at: t0 - 3 * HOUR, value: 74, unit: 'Hz' },
          ],
        }),
        { qos: 1 },
      );
    } finally {
      await client.endAsync();
    }
    const before = await database.query(
      `SELECT reading_id, reason FROM rejections WHERE device_id = 'cli-dr' ORDER BY reading_id`,
    );
    expect(before.rows.map((r) => [r.reading_id, r.reason])).toEqual([
      ['u-1', 'unassigned'],
      ['u-2', 'unassigned'],
      ['u-3', 'unassigned'],
      ['u-4', 'unit'],
    ]);

    await addPatient(database.db, { id: 'cli-pr-before' });
    await assignDevice(database.db, {
      deviceId: 'cli-dr',
      patientId: 'cli-pr-before',
      from: new Date(t0 - 4 * HOUR),
      to: assignedFrom,
    });

    const result = await vitalink(['rejections', 'reprocess', '--reason', 'unassigned', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      items: { readingId: string; outcome: string; previousReason: string }[];
      counts: Record<string, number>;
    };
    expect(report.counts).toEqual({ stored: 2, duplicate: 0, still_rejected: 1, rejected: 0, not_replayable: 0 });
    expect(report.items.map((i) => [i.readingId, i.previousReason, i.outcome])).toEqual([
      ['u-1', 'unassigned', 'stored'],
      ['u-2', 'unassigned', 'stored'],
      ['u-3', 'unassigned', 'still_rejected'],
    ]);

    const stored = await database.query(
      `SELECT reading_id, patient_id FROM readings WHERE device_id = 'cli-dr' ORDER BY reading_id`,
    );
    expect(stored.rows).toEqual([
      { reading_id: 'u-1', patient_id: 'cli-pr-before' },
      { reading_id: 'u-2', patient_id: 'cli-pr-before' },
    ]);
    const after = await database.query(
      `SELECT reading_id, reason, outcome, reprocessed_at IS NOT NULL AS reprocessed
       FROM rejections WHERE device_id = 'cli-dr' ORDER BY reading_id`,
    );
    expect(after.rows).toEqual([
      { reading_id: 'u-1', reason: 'unassigned', outcome: 'stored', reprocessed: true },
      { reading_id: 'u-2', reason: 'unassigned', outcome: 'stored', reprocessed: true },
      { reading_id: 'u-3', reason: 'unassigned', outcome: null, reprocessed: true },
      { reading_id: 'u-4', reason: 'unit', outcome: null, reprocessed: false },
    ]);
  });
});

describe('vitalink tokens create', () => {
  it('prints {token, role} once; the token works on the API; bad roles and patient lists are refused', async () => {
    await vitalink(['patients', 'add', '--id', 'cli-tok-p']);
    const created = await vitalink(['tokens', 'create', '--role', 'clinician', '--patients', 'cli-tok-p', '--json']);
    expect(created.code).toBe(0);
    const json = JSON.parse(created.stdout);
    expect(Object.keys(json).sort()).toEqual(['role', 'token']);
    expect(json.role).toBe('clinician');
    const res = await fetch(`http://127.0.0.1:${service.ports.http}/api/v1/patients/cli-tok-p`, {
      headers: { authorization: `Bearer ${json.token}` },
    });
    expect(res.status).toBe(200);
    const { rows } = await database.query(`SELECT token_hash, role, patient_ids FROM api_tokens`);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash.toString('utf8')).not.toContain(json.token); // only a hash is stored

    const [noPatients, badRole, unknownPatient] = await Promise.all([
      vitalink(['tokens', 'create', '--role', 'clinician']),
      vitalink(['tokens', 'create', '--role', 'root']),
      vitalink(['tokens', 'create', '--role', 'clinician', '--patients', 'nobody']),
    ]);
    expect(noPatients.code).toBe(2);
    expect(noPatients.stderr).toMatch(/needs --practitioner .* or --patients/);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/role must be one of admin, operator, clinician/);
    expect(unknownPatient.code).toBe(1);
    expect(unknownPatient.stderr).toMatch(/patient nobody does not exist/);
  });
});

describe('command-line mistakes', () => {
  it('exits 2 with a hint for an unknown command, a missing --id, a bad --reason and a bad environment', async () => {
    const [unknown, missingId, badReason, badEnv] = await Promise.all([
      vitalink(['frobnicate']),
      vitalink(['patients', 'add', '--tz', 'Europe/Paris']),
      vitalink(['rejections', 'reprocess', '--reason', 'nonsense']),
      vitalink(['patients', 'add', '--id', 'cli-env'], { MQTT_PORT: 'abc' }),
    ]);

    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('frobnicate');
    expect(unknown.stderr).toContain('vitalink --help');

    expect(missingId.code).toBe(2);
    expect(missingId.stdout).toBe('');
    expect(missingId.stderr).toContain('--id');
    expect(missingId.stderr).toContain('vitalink --help');

    expect(badReason.code).toBe(2);
    expect(badReason.stdout).toBe('');
    expect(badReason.stderr).toContain('--reason');
    expect(badReason.stderr).toContain('unassigned');

    expect(badEnv.code).toBe(2);
    expect(badEnv.stdout).toBe('');
    expect(badEnv.stderr).toContain('MQTT_PORT');
    expect((await database.query(`SELECT 1 FROM patients WHERE id = 'cli-env'`)).rowCount).toBe(0);
  });

  it('bench refuses bad options before starting anything', async () => {
    const bad = await vitalink(['bench', '--devices', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--devices must be a positive number');
    const unknown = await vitalink(['bench', '--nope']);
    expect(unknown.code).toBe(2);
    const noUrl = await vitalink(['simulate', '--days', '1']);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('--url');
  });

  it('--help exits 0 and lists every command', async () => {
    const help = await vitalink(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    for (const command of [
      'serve',
      'migrate',
      'patients add',
      'devices add',
      'devices assign',
      'devices list',
      'devices show',
      'devices disable',
      'devices enable',
      'devices rotate-secret',
      'nightscout enable',
      'rejections reprocess',
      'audit export',
      'alerts history',
      'report activity',
      'retention',
      'tokens create',
      'tokens list',
      'tokens revoke',
      'practitioners add',
      'practitioners list',
      'practitioners show',
      'teams add',
      'teams list',
      'teams show',
      'teams add-member',
      'teams remove-member',
      'teams set-hours',
      'enrol',
      'enrolments list',
      'enrolments show',
      'enrolments end',
      'notifications add',
      'notifications list',
      'notifications remove',
      'notifications dead-letters',
      'notifications replay',
      'sessions revoke',
      'bench',
      'simulate',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^\\s*vitalink ${command}\\b`, 'm'));
    }
  });
});

describe('per-command help', () => {
  const COMMANDS: Record<string, string[]> = {
    serve: [],
    migrate: ['--json'],
    'patients add': ['--id ID', '--tz ZONE', '--name NAME', '--json'],
    'devices add': ['--id ID', '--patient ID', '--model TEXT', '--json'],
    'devices assign': ['--id ID', '--patient ID', '--from TIME', '--to TIME', '--json'],
    'rejections reprocess': ['--reason REASON', '--device ID', '--json'],
    retention: ['--dry-run', '--json'],
    'audit export': ['--patient ID', '--from TIME', '--to TIME', '--json'],
    'alerts history': ['--id ID', '--json'],
    'report activity': ['--team ID', '--month YYYY-MM', '--json', '--csv'],
    'devices list': ['--enabled true|false', '--patient ID', '--after ID', '--limit N', '--json'],
    'devices show': ['--id ID', '--json'],
    'devices disable': ['--id ID', '--json'],
    'devices enable': ['--id ID', '--json'],
    'devices rotate-secret': ['--id ID', '--grace SECONDS', '--json'],
    'nightscout enable': ['--patient ID', '--device ID', '--json'],
    'tokens create': [
      '--role admin|operator|clinician',
      '--patients ID,...',
      '--practitioner ID',
      '--name LABEL',
      '--expires DURATION|TIME|never',
      '--json',
    ],
    'tokens list': ['--after ID', '--limit N', '--json'],
    'tokens revoke': ['--id ID', '--json'],
    'keys status': ['--json'],
    'practitioners add': ['--id ID', '--name NAME', '--rpps N', '--role physician|nurse|coordinator', '--json'],
    'practitioners list': ['--after ID', '--limit N', '--json'],
    'practitioners show': ['--id ID', '--json'],
    'teams add': ['--id ID', '--name NAME', '--tz ZONE', '--hours SPEC', '--json'],
    'teams list': ['--after ID', '--limit N', '--json'],
    'teams show': ['--id ID', '--json'],
    'teams add-member': ['--team ID', '--practitioner ID', '--json'],
    'teams remove-member': ['--team ID', '--practitioner ID', '--json'],
    'teams set-hours': ['--id ID', '--hours SPEC', '--always', '--tz ZONE', '--json'],
    enrol: ['--patient ID', '--team ID', '--programme NAME', '--from TIME', '--to TIME', '--json'],
    'enrolments list': ['--team ID', '--patient ID', '--active', '--after ID', '--limit N', '--json'],
    'enrolments show': ['--id ID', '--json'],
    'enrolments end': ['--id ID', '--at TIME', '--json'],
    'notifications add': ['--team ID', '--webhook URL', '--secret S', '--email ADDRESS', '--escalation', '--json'],
    'notifications list': ['--team ID', '--json'],
    'notifications remove': ['--id ID', '--json'],
    'notifications dead-letters': ['--team ID', '--limit N', '--json'],
    'notifications replay': ['--id ID', '--all', '--json'],
    'keys forget-database-key': ['--force', '--json'],
    simulate: [
      '--url mqtt://HOST:PORT',
      '--persona',
      '--days D',
      '--speed X',
      '--fault-wrong-unit RATE',
      '--token',
      '--json',
    ],
    bench: ['--devices N', '--duration S', '--readings-per-message K', '--rate R', '--mosquitto URL', '--json'],
  };

  it('`vitalink <command> --help` exits 0 with that command’s summary, usage and options, not the global usage', async () => {
    const global = await vitalink(['--help']);
    const names = Object.keys(COMMANDS);
    const helps = await Promise.all(names.map((name) => vitalink([...name.split(' '), '--help'])));
    names.forEach((name, i) => {
      const help = helps[i];
      expect(help.code, name).toBe(0);
      expect(help.stderr, name).toBe('');
      // The summary is the one `vitalink --help` lists for it.
      const summary = new RegExp(`^\\s*vitalink ${name}\\s{2,}(.+)$`, 'm').exec(global.stdout)?.[1];
      expect(summary, name).toBeDefined();
      expect(help.stdout.split('\n')[0]).toBe(`vitalink ${name}: ${summary}`);
      expect(help.stdout).toMatch(new RegExp(`^Usage:\\n  vitalink ${name}\\b`, 'm'));
      for (const option of [...COMMANDS[name], '--help']) expect(help.stdout, name).toContain(option);
      // Only its own usage: no other command's (`teams add` is not `teams add-member`, both fixed by interfaces.md).
      for (const other of names.filter((n) => n !== name && !n.startsWith(`${name} `))) {
        expect(help.stdout, `${name} --help mentions ${other}`).not.toMatch(new RegExp(`vitalink ${other}(?![\\w-])`));
      }
    });
  }, 90_000);

  it('simulate --help lists the personas and fault kinds from the simulators’ catalogues', async () => {
    const help = await vitalink(['simulate', '--help']);
    expect(help.code).toBe(0);
    for (const persona of PERSONAS) expect(help.stdout).toContain(persona.key.replace(/_/g, '-'));
    for (const kind of FAULT_KINDS) expect(help.stdout).toContain(`--${faultOptionName(kind)} RATE`);
  });

  it('exits 2 for an unknown command or a command group without its subcommand', async () => {
    const [unknown, group, unknownSub] = await Promise.all([
      vitalink(['frobnicate', '--help']),
      vitalink(['devices']),
      vitalink(['devices', 'frobnicate']),
    ]);
    for (const result of [unknown, group, unknownSub]) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('vitalink --help');
    }
    expect(unknown.stderr).toContain('frobnicate');
    expect(group.stderr).toMatch(/add, assign/);
    expect(unknownSub.stderr).toContain('devices frobnicate');
  });

  it('lists the commands of a group for `vitalink <group> --help`, and exits 0', async () => {
    const [devices, tokens] = await Promise.all([vitalink(['devices', '--help']), vitalink(['tokens', '-h'])]);
    for (const result of [devices, tokens]) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
    }
    for (const sub of ['add', 'assign', 'list', 'show', 'disable', 'enable', 'rotate-secret']) {
      expect(devices.stdout).toContain(`vitalink devices ${sub} `);
    }
    expect(devices.stdout).toContain('`vitalink devices <command> --help`');
    for (const sub of ['create', 'list', 'revoke']) expect(tokens.stdout).toContain(`vitalink tokens ${sub} `);
  });
});
