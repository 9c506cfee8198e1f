/**
 * Care teams from the command line (README, "Care teams"), as an administrator
 * sets them up: `vitalink practitioners add|list|show`, `teams add|list|show|
 * add-member|remove-member|set-hours`, `enrol`, `enrolments list|show|end` and
 * `tokens create --role clinician --practitioner`; then the token so made, used
 * against the running service, sees the team's patients and no other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/service.ts';

let database: TestDatabase;
let service: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  for (const id of ['ct-p1', 'ct-p2']) await addPatient(database.db, { id, displayName: `Patient ${id}` });
  service = await startTestApp(database);
});

afterAll(async () => {
  await service?.stop();
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

async function refused(args: string[], code: number, sentence: string): Promise<void> {
  const result = await vitalink(args);
  expect(result.code, args.join(' ')).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain(sentence);
}

describe('vitalink practitioners, teams, enrol', () => {
  it('sets up a team and enrols a patient; the practitioner’s token sees exactly that patient', async () => {
    expect(
      await json(['practitioners', 'add', '--id', 'dr-cli', '--name', 'Dr Cli', '--rpps', '10000000001']),
    ).toMatchObject({ id: 'dr-cli', name: 'Dr Cli', rpps: '10000000001', role: 'physician' });
    const text = await vitalink(['practitioners', 'add', '--id', 'ide-cli', '--name', 'Nurse Cli', '--role', 'nurse']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('practitioner ide-cli added (nurse)');
    await refused(['practitioners', 'add', '--id', 'x', '--name', 'X', '--rpps', '12'], 2, 'is not 11 digits (--rpps');
    await refused(['practitioners', 'add', '--id', 'x'], 2, 'practitioners add needs --name');
    expect((await json(['practitioners', 'list'])).items.map((p: { id: string }) => p.id)).toEqual([
      'dr-cli',
      'ide-cli',
    ]);

    await refused(['teams', 'add', '--id', 'bad', '--hours', 'lun-ven 08:00-18:00'], 2, '"lun-ven" is not a day');
    await refused(['teams', 'add', '--id', 'bad', '--tz', 'Mars/Olympus_Mons'], 2, 'Mars/Olympus_Mons');
    const team = await json([
      'teams',
      'add',
      '--id',
      'hf-team',
      '--name',
      'Heart failure',
      '--tz',
      'Europe/Paris',
      '--hours',
      'mon-fri 08:00-18:00',
    ]);
    expect(team).toMatchObject({ id: 'hf-team', timeZone: 'Europe/Paris', serviceHours: 'mon-fri 08:00-18:00' });
    expect(await json(['teams', 'add-member', '--team', 'hf-team', '--practitioner', 'dr-cli'])).toEqual({
      teamId: 'hf-team',
      practitionerId: 'dr-cli',
      added: true,
    });
    await json(['teams', 'add-member', '--team', 'hf-team', '--practitioner', 'ide-cli']);
    expect(await json(['teams', 'remove-member', '--team', 'hf-team', '--practitioner', 'ide-cli'])).toEqual({
      teamId: 'hf-team',
      practitionerId: 'ide-cli',
      removed: true,
    });
    const always = await json(['teams', 'set-hours', '--id', 'hf-team', '--always']);
    expect(always).toMatchObject({ serviceHours: null, onDuty: true, nextOpening: null });
    await refused(['teams', 'set-hours', '--id', 'hf-team'], 2, 'needs either --hours SPEC or --always');
    const shown = await json(['teams', 'show', '--id', 'hf-team']);
    expect(shown.members.map((m: { id: string }) => m.id)).toEqual(['dr-cli']);
    expect((await json(['teams', 'list'])).items.map((x: { id: string }) => x.id)).toEqual(['hf-team']);
    expect((await json(['practitioners', 'show', '--id', 'dr-cli'])).teams.map((x: { id: string }) => x.id)).toEqual([
      'hf-team',
    ]);

    await refused(
      ['enrol', '--patient', 'ct-p1', '--team', 'hf-team', '--programme', 'asthma'],
      2,
      'programme "asthma" is not one Vitalink knows; use one of heart_failure,',
    );
    const enrolment = await json(['enrol', '--patient', 'ct-p1', '--team', 'hf-team', '--programme', 'heart_failure']);
    expect(enrolment).toMatchObject({ patientId: 'ct-p1', teamId: 'hf-team', programme: 'heart_failure', to: null });
    await refused(
      [
        'enrol',
        '--patient',
        'ct-p1',
        '--team',
        'hf-team',
        '--programme',
        'heart_failure',
        '--from',
        '2030-01-01T00:00:00Z',
      ],
      1,
      `(enrolment ${enrolment.id}), which overlaps; end that one first`,
    );
    const ended = await json([
      'enrol',
      '--patient',
      'ct-p2',
      '--team',
      'hf-team',
      '--programme',
      'diabetes',
      '--from',
      '2026-01-01T00:00:00+01:00',
      '--to',
      '2026-02-01T00:00:00+01:00',
    ]);
    expect(ended.state).toBe('ended');
    expect((await json(['enrolments', 'list', '--team', 'hf-team'])).items).toHaveLength(2);
    expect((await json(['enrolments', 'list', '--team', 'hf-team', '--active'])).items).toEqual([
      expect.objectContaining({ id: enrolment.id, patientId: 'ct-p1' }),
    ]);
    expect(await json(['enrolments', 'show', '--id', enrolment.id])).toMatchObject({ state: 'running' });

    await refused(
      ['tokens', 'create', '--role', 'clinician', '--practitioner', 'nobody'],
      1,
      'practitioner nobody does not exist',
    );
    await refused(
      ['tokens', 'create', '--role', 'clinician', '--practitioner', 'dr-cli', '--patients', 'ct-p2'],
      2,
      'not both',
    );
    const created = await json(['tokens', 'create', '--role', 'clinician', '--practitioner', 'dr-cli']);
    expect(created.role).toBe('clinician');
    const listed = await json(['tokens', 'list']);
    expect(listed.items[0]).toMatchObject({ role: 'clinician', practitionerId: 'dr-cli', patientIds: null });

    const base = `http://127.0.0.1:${service.ports.http}`;
    const headers = { authorization: `Bearer ${created.token}` };
    const me = await (await fetch(`${base}/api/v1/me`, { headers })).json();
    expect(me).toMatchObject({ role: 'clinician', patientIds: ['ct-p1'], practitioner: { id: 'dr-cli' } });
    expect((await fetch(`${base}/api/v1/patients/ct-p2`, { headers })).status).toBe(404);

    // Ending the enrolment from the command line: the next request no longer sees the patient.
    const end = await vitalink(['enrolments', 'end', '--id', enrolment.id]);
    expect(end.code).toBe(0);
    expect(end.stdout).toContain(`enrolment ${enrolment.id} (patient ct-p1, team hf-team, heart_failure) ends at`);
    expect((await fetch(`${base}/api/v1/patients/ct-p1`, { headers })).status).toBe(404);
    await refused(['enrolments', 'end', '--id', enrolment.id], 1, 'already ended at');
  }, 120_000);
});
