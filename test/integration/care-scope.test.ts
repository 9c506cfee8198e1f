/**
 * The practitioner's patients kept in memory (src/store/care-scope.ts): the answer
 * must be the one the enrolments give at that instant, whatever was asked before.
 * A change through another connection (another instance) shows at once; an
 * enrolment that starts or ends later shows from that instant without any write.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { patientsInCareOf } from '../../src/store/care-scope.ts';
import { useTestDatabase } from '../fixture.ts';

const t = useTestDatabase();
const T0 = new Date('2026-12-07T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const sorted = (s: ReadonlySet<string>) => [...s].sort();

beforeAll(async () => {
  await t.query(`INSERT INTO patients (id, time_zone) SELECT 'cs-' || i, 'UTC' FROM generate_series(1, 5) i`);
  await t.query(`INSERT INTO practitioners (id, name) VALUES ('cs-dr', 'Dr CS'), ('cs-other', 'Dr Other')`);
  await t.query(`INSERT INTO care_teams (id) VALUES ('cs-team'), ('cs-team-2')`);
  await t.query(
    `INSERT INTO team_members (team_id, practitioner_id) VALUES ('cs-team', 'cs-dr'), ('cs-team-2', 'cs-other')`,
  );
  await t.query(
    `INSERT INTO enrolments (patient_id, team_id, programme, starts_at, ends_at) VALUES
       ('cs-1', 'cs-team', 'diabetes', $1::timestamptz - interval '1 day', NULL),
       ('cs-2', 'cs-team', 'diabetes', $1::timestamptz + interval '30 minutes', NULL),
       ('cs-3', 'cs-team', 'diabetes', $1::timestamptz - interval '1 day', $1::timestamptz + interval '60 minutes'),
       ('cs-4', 'cs-team-2', 'diabetes', $1::timestamptz - interval '1 day', NULL)`,
    [T0],
  );
});

describe('the patients in a practitioner’s care', () => {
  it('follow the enrolments’ starts and ends as time passes, with no write in between', async () => {
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', T0))).toEqual(['cs-1', 'cs-3']);
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(29)))).toEqual(['cs-1', 'cs-3']);
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(30)))).toEqual(['cs-1', 'cs-2', 'cs-3']);
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(60)))).toEqual(['cs-1', 'cs-2']);
    // Asked again about an earlier instant: the answer of that instant.
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', T0))).toEqual(['cs-1', 'cs-3']);
  });

  it('show a change made through another connection at the next call', async () => {
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(90)))).toEqual(['cs-1', 'cs-2']);
    // Another instance (t.query is another connection) enrols cs-5 and moves the practitioner.
    await t.query(
      `INSERT INTO enrolments (patient_id, team_id, programme, starts_at) VALUES ('cs-5', 'cs-team', 'diabetes', $1)`,
      [T0],
    );
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(90)))).toEqual(['cs-1', 'cs-2', 'cs-5']);
    await t.query(`INSERT INTO team_members (team_id, practitioner_id) VALUES ('cs-team-2', 'cs-dr')`);
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(90)))).toEqual(['cs-1', 'cs-2', 'cs-4', 'cs-5']);
    await t.query(`DELETE FROM team_members WHERE team_id = 'cs-team' AND practitioner_id = 'cs-dr'`);
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(90)))).toEqual(['cs-4']);
    await t.query(`UPDATE enrolments SET ends_at = $1 WHERE patient_id = 'cs-4'`, [at(80)]);
    expect(sorted(await patientsInCareOf(t.db, 'cs-dr', at(90)))).toEqual([]);
    // The other practitioner's answer is their own.
    expect(sorted(await patientsInCareOf(t.db, 'cs-other', at(70)))).toEqual(['cs-4']);
  });
});
