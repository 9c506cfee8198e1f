import { beforeAll, describe, expect, it } from 'vitest';
import { assertMayReadTeamReport } from '../../src/actions/activity-report.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { ACTIVITY_COLUMNS } from '../../src/domain/activity-report.ts';
import { AppError } from '../../src/errors.ts';
import {
  EXPECTED_PATIENTS,
  EXPECTED_TEAM,
  REPORT_MONTH,
  REPORT_TEAM,
  seedActivityMonth,
} from '../helpers/activity-month.ts';
import { auditMark, auditSince, describeRes, expectError, expectInvalid } from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';

/**
 * GET /api/v1/reports/activity (README, "Monthly activity report"): the report of a
 * seeded month (test/helpers/activity-month.ts) equals the hand count, as JSON and
 * CSV; who may read it.
 */

const { t, who, get, call } = useApiTest();
const path = `/api/v1/reports/activity?team=${REPORT_TEAM}&month=${REPORT_MONTH}`;

beforeAll(async () => {
  await seedActivityMonth((text, values) => t.query(text, values));
  await t.query(`INSERT INTO practitioners (id, name, role) VALUES ('pr-member', 'Dr Member', 'physician'),
                 ('pr-outsider', 'Dr Outsider', 'nurse')`);
  await t.query(`INSERT INTO team_members (team_id, practitioner_id) VALUES ('team-report', 'pr-member'),
                 ('team-other', 'pr-outsider')`);
});

describe('monthly activity report', () => {
  it('equals the hand count of the seeded month, as JSON', async () => {
    const res = await get(path, who.admin.token);
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({
      teamId: REPORT_TEAM,
      month: REPORT_MONTH,
      timeZone: 'Europe/Paris',
      serviceHours: 'mon-fri 08:00-18:00',
      from: '2026-10-31T23:00:00.000Z',
      to: '2026-11-30T23:00:00.000Z',
    });
    expect(res.body.team).toEqual(EXPECTED_TEAM);
    expect(res.body.patients).toEqual(EXPECTED_PATIENTS);
  });

  it('as CSV with format=csv or Accept: text/csv: the same counts', async () => {
    const byFormat = await call('GET', `${path}&format=csv`, { token: who.admin.token });
    const byAccept = await call('GET', path, { token: who.admin.token, headers: { accept: 'text/csv' } });
    for (const res of [byFormat, byAccept]) {
      expect(res.status).toBe(200);
      expect(res.contentType).toBe('text/csv; charset=utf-8');
      const [header, team, ...rest] = String(res.body).trimEnd().split('\r\n');
      expect(header).toBe(ACTIVITY_COLUMNS.join(','));
      expect(team).toBe('team,team-report,2026-11,,3,51,6,5,4,750,23040,2,3,1');
      expect(rest).toEqual([
        'patient,team-report,2026-11,r-anna,,30,3,2,2,16350,29190,1,2,1',
        'patient,team-report,2026-11,r-ben,,15,2,2,1,1200,1200,1,1,0',
        'patient,team-report,2026-11,r-cleo,,6,1,1,1,60,60,0,0,0',
      ]);
    }
  });

  it('audits a read of each patient in the report', async () => {
    const mark = await auditMark(t);
    expect((await get(path, who.admin.token)).status).toBe(200);
    const rows = await auditSince(t, mark);
    expect(rows.map((r) => r.patientId).sort()).toEqual(['r-anna', 'r-ben', 'r-cleo']);
    for (const r of rows) expect(r).toMatchObject({ action: 'reports.activity', role: 'admin' });
  });

  it('is for an admin or a practitioner member of the team: 403 for others, 404 for a missing team, 422 for a bad month', async () => {
    expectError(await get(path, who.clinician.token), 403, 'forbidden');
    expectError(await get(path, who.operator.token), 403, 'forbidden');
    expectError(await get(path, null), 401, 'unauthorized');
    expectError(await get(`/api/v1/reports/activity?team=team-nope&month=2026-11`, who.admin.token), 404, 'not_found');
    expectInvalid(await get(`/api/v1/reports/activity?team=${REPORT_TEAM}&month=2026-13`, who.admin.token), [
      'querystring.month',
    ]);
    expectInvalid(await get(`/api/v1/reports/activity?month=2026-11`, who.admin.token), ['querystring.team']);
    // A practitioner's token: a member of the team may read it, another practitioner may not.
    const keys = await t.keys();
    const member = await createApiToken(t.db, keys, { role: 'clinician', practitionerId: 'pr-member' });
    const outsider = await createApiToken(t.db, keys, { role: 'clinician', practitionerId: 'pr-outsider' });
    const read = await get(path, member.token);
    expect(read.status, describeRes(read)).toBe(200);
    expect(read.body.team).toEqual(EXPECTED_TEAM);
    expectError(await get(path, outsider.token), 403, 'forbidden');
    // The same rule for a session (a principal) acting as a practitioner.
    const session = (id: string) => ({
      role: 'clinician' as const,
      tokenId: null,
      patientIds: new Set<string>(),
      practitionerId: id,
    });
    await expect(assertMayReadTeamReport(t.db, session('pr-member'), REPORT_TEAM)).resolves.toBeUndefined();
    await expect(assertMayReadTeamReport(t.db, session('pr-outsider'), REPORT_TEAM)).rejects.toThrow(AppError);
  });
});
