import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_COLUMNS } from '../../src/domain/activity-report.ts';
import {
  EXPECTED_PATIENTS,
  EXPECTED_TEAM,
  REPORT_MONTH,
  REPORT_TEAM,
  seedActivityMonth,
} from '../helpers/activity-month.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/service.ts';

/**
 * `vitalink report activity` (interfaces.md) and `vitalink alerts history`: the CLI
 * as a process on a real PostgreSQL, on the seeded month of test/helpers/activity-month.ts.
 */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedActivityMonth((text, values) => database.query(text, values));
});

afterAll(async () => {
  await database?.drop();
});

function vitalink(args: string[]) {
  return runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
}

describe('vitalink report activity', () => {
  const args = ['report', 'activity', '--team', REPORT_TEAM, '--month', REPORT_MONTH];

  it('--json prints the report counted by hand', async () => {
    const out = await vitalink([...args, '--json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report).toMatchObject({ teamId: REPORT_TEAM, month: REPORT_MONTH, timeZone: 'Europe/Paris' });
    expect(report.team).toEqual(EXPECTED_TEAM);
    expect(report.patients).toEqual(EXPECTED_PATIENTS);
  });

  it('--csv prints a header, the team, then each patient', async () => {
    const out = await vitalink([...args, '--csv']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.split('\r\n')).toEqual([
      ACTIVITY_COLUMNS.join(','),
      'team,team-report,2026-11,,3,51,6,5,4,750,23040,2,3,1',
      'patient,team-report,2026-11,r-anna,,30,3,2,2,16350,29190,1,2,1',
      'patient,team-report,2026-11,r-ben,,15,2,2,1,1200,1200,1,1,0',
      'patient,team-report,2026-11,r-cleo,,6,1,1,1,60,60,0,0,0',
      '',
    ]);
  });

  it('prints a table by default; says what to do on a bad month, a missing team, both formats', async () => {
    const table = await vitalink(args);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Activity of team team-report, 2026-11');
    expect(table.stdout).toMatch(/^r-ben\s+15\s+2\s+2\s+1\s+1200 s\s+1200 s\s+1\s+1\s+0$/m);
    const badMonth = await vitalink(['report', 'activity', '--team', REPORT_TEAM, '--month', '2026-11-01']);
    expect(badMonth.code).not.toBe(0);
    expect(badMonth.stderr).toContain('month must be YYYY-MM');
    const noTeam = await vitalink(['report', 'activity', '--team', 'team-nope', '--month', REPORT_MONTH]);
    expect(noTeam.code).not.toBe(0);
    expect(noTeam.stderr).toContain('team team-nope does not exist');
    const both = await vitalink([...args, '--json', '--csv']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json or --csv');
  });
});

describe('vitalink alerts history', () => {
  it('prints what happened to an alert, with the acknowledgement', async () => {
    const { rows } = await database.query<{ id: string }>(
      `SELECT id::text FROM alerts WHERE patient_id = 'r-cleo' AND rule = 'fever'`,
    );
    const id = rows[0].id;
    await database.query(
      `INSERT INTO alert_events (alert_id, at, event, actor, reading_ids, readings) VALUES
         ($1, '2026-11-05T13:00:00Z', 'opened', NULL, '{d1/r1}',
          '[{"deviceId":"d1","readingId":"r1","type":"body_temperature","at":"2026-11-05T12:58:00.000Z","unit":"Cel","value":38.6}]')`,
      [id],
    );
    await database.query(
      `INSERT INTO alert_events (alert_id, at, event, actor, action, note) VALUES
         ($1, '2026-11-05T13:01:00Z', 'acknowledged', 'practitioner:pr-1', 'called_patient', 'Paracetamol, call back tomorrow')`,
      [id],
    );
    const json = await vitalink(['alerts', 'history', '--id', id, '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      alertId: id,
      patientId: 'r-cleo',
      items: [
        {
          at: '2026-11-05T13:00:00.000Z',
          event: 'opened',
          by: null,
          readingIds: ['d1/r1'],
          readings: [
            {
              deviceId: 'd1',
              readingId: 'r1',
              type: 'body_temperature',
              at: '2026-11-05T12:58:00.000Z',
              unit: 'Cel',
              value: 38.6,
            },
          ],
          action: null,
          note: null,
          notification: null,
        },
        {
          at: '2026-11-05T13:01:00.000Z',
          event: 'acknowledged',
          by: 'practitioner:pr-1',
          readingIds: null,
          readings: null,
          action: 'called_patient',
          note: 'Paracetamol, call back tomorrow',
          notification: null,
        },
      ],
    });
    const text = await vitalink(['alerts', 'history', '--id', id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('r1@2026-11-05T12:58:00.000Z=38.6 Cel');
    expect(text.stdout).toContain('practitioner:pr-1  called_patient  "Paracetamol, call back tomorrow"');
    const missing = await vitalink(['alerts', 'history', '--id', '999999']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('alert 999999 does not exist');
  });
});
