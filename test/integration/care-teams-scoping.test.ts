/**
 * Scoping by care team (README, "Care teams"): a clinician token acting as a
 * practitioner sees exactly the patients enrolled with their teams while the
 * enrolment runs, on every patient route, the alerts, FHIR and the worklist; any
 * other patient is the 404 of a missing one, written to the audit log as denied.
 *
 * Team A follows pa-before (enrolment starting in an hour), pa-during (running)
 * and pa-after (ended an hour ago); team B follows pb. dr-a is in A, dr-b in B,
 * dr-ab in both. Times are relative to the real clock: the service's scoping
 * reads it at each request.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/actions/tokens.ts';
import { useTestService } from '../fixture.ts';

const t = useTestService({ adminToken: true });
const HOUR = 3_600_000;

const tokens: Record<string, { token: string; id: string }> = {};
let pbAlertId: string;
let duringAlertId: string;

async function sql(text: string, values: unknown[] = []) {
  return (await t.query(text, values)).rows;
}

async function asAdmin(method: string, path: string, json?: unknown) {
  return t.api.call(method, path, { token: t.adminToken, json });
}

beforeAll(async () => {
  for (const id of ['pa-before', 'pa-during', 'pa-after', 'pb', 'p-nobody']) {
    await t.addPatient(id, { displayName: `Patient ${id}` });
  }
  // Through the admin API, as an administrator would.
  for (const [id, name, role] of [
    ['dr-a', 'Dr A', 'physician'],
    ['dr-b', 'Nurse B', 'nurse'],
    ['dr-ab', 'Coordinator AB', 'coordinator'],
  ]) {
    const r = await asAdmin('POST', '/api/v1/practitioners', { id, name, role });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  for (const id of ['team-a', 'team-b']) {
    expect((await asAdmin('POST', '/api/v1/teams', { id, name: id.toUpperCase() })).status).toBe(201);
  }
  for (const [team, practitioner] of [
    ['team-a', 'dr-a'],
    ['team-b', 'dr-b'],
    ['team-a', 'dr-ab'],
    ['team-b', 'dr-ab'],
  ]) {
    const r = await asAdmin('POST', `/api/v1/teams/${team}/members`, { practitionerId: practitioner });
    expect(r.body).toEqual({ teamId: team, practitionerId: practitioner, added: true });
  }
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const enrolments: [string, string, number, number | null][] = [
    ['pa-before', 'team-a', now + HOUR, null],
    ['pa-during', 'team-a', now - HOUR, null],
    ['pa-after', 'team-a', now - 2 * HOUR, now - HOUR],
    ['pb', 'team-b', now - HOUR, null],
  ];
  for (const [patientId, teamId, from, to] of enrolments) {
    const r = await asAdmin('POST', '/api/v1/enrolments', {
      patientId,
      teamId,
      programme: 'heart_failure',
      from: iso(from),
      ...(to === null ? {} : { to: iso(to) }),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const keys = await t.keys();
  for (const id of ['dr-a', 'dr-b', 'dr-ab']) {
    tokens[id] = await createApiToken(t.db, keys, { role: 'clinician', practitionerId: id });
  }
  tokens.list = await t.createToken('clinician', ['pb']);
  // An open alert for pb and one for pa-during (what the aggregation job would have opened).
  const insertAlert = async (patientId: string, rule: string, openedAt: Date) =>
    (
      await sql(
        `INSERT INTO alerts (patient_id, rule, status, opened_at, threshold, reading_ids)
         VALUES ($1, $2, 'open', $3, '90'::jsonb, '{}') RETURNING id`,
        [patientId, rule, openedAt],
      )
    )[0].id as string;
  pbAlertId = await insertAlert('pb', 'spo2_low', new Date(now - 30 * 60_000));
  duringAlertId = await insertAlert('pa-during', 'spo2_low', new Date(now - 20 * 60_000));
});

async function get(who: string, path: string) {
  return t.api.get(path, { token: tokens[who].token });
}

async function deniedRows(who: string, patientId: string) {
  return sql(
    `SELECT action, outcome, principal, role FROM audit_log WHERE token_id = $1 AND patient_id = $2 AND outcome = 'denied' ORDER BY id`,
    [tokens[who].id, patientId],
  );
}

describe('who sees whom', () => {
  it('a practitioner sees the patients of their team during the enrolment only: not before it starts, not after it ends', async () => {
    const me = await get('dr-a', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.patientIds).toEqual(['pa-during']);
    expect(me.body.practitioner).toMatchObject({ id: 'dr-a', name: 'Dr A', role: 'physician' });
    expect(me.body.teams.map((x: { id: string }) => x.id)).toEqual(['team-a']);
    expect(me.body.teams[0]).toMatchObject({ onDuty: true, nextOpening: null, serviceHours: null });

    const list = await get('dr-a', '/api/v1/patients');
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual(['pa-during']);
    expect((await get('dr-a', '/api/v1/patients/pa-during')).status).toBe(200);

    for (const id of ['pa-before', 'pa-after', 'pb', 'p-nobody']) {
      const r = await get('dr-a', `/api/v1/patients/${id}`);
      expect(r.status, id).toBe(404);
      expect(r.body.error.message).toBe(`patient ${id} does not exist`);
      expect(await deniedRows('dr-a', id)).toEqual([
        {
          action: 'GET /api/v1/patients/:id',
          outcome: 'denied',
          principal: `token:${tokens['dr-a'].id}`,
          role: 'clinician',
        },
      ]);
    }
    // Exactly as a patient that does not exist, except in the audit log.
    const missing = await get('dr-a', '/api/v1/patients/p-never-created');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('patient p-never-created does not exist');
  });

  it('two teams: each member sees their own team’s patients; a practitioner in both sees both', async () => {
    expect((await get('dr-b', '/api/v1/me')).body.patientIds).toEqual(['pb']);
    expect((await get('dr-ab', '/api/v1/me')).body.patientIds).toEqual(['pa-during', 'pb']);
    expect((await get('dr-ab', '/api/v1/me')).body.teams.map((x: { id: string }) => x.id)).toEqual([
      'team-a',
      'team-b',
    ]);
    const both = await get('dr-ab', '/api/v1/patients');
    expect(both.body.items.map((p: { id: string }) => p.id)).toEqual(['pa-during', 'pb']);
    expect((await get('dr-b', '/api/v1/patients/pa-during')).status).toBe(404);
    expect(await deniedRows('dr-b', 'pa-during')).toHaveLength(1);
    expect((await get('dr-ab', '/api/v1/patients/pa-after')).status).toBe(404);
    expect(await deniedRows('dr-ab', 'pa-after')).toHaveLength(1);
  });

  it('every patient route, the alerts, acknowledge, FHIR and the worklist hold the rule, each refusal audited as denied', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/patients/pb'],
      ['GET', '/api/v1/patients/pb/readings'],
      ['GET', '/api/v1/patients/pb/series?type=heart_rate'],
      ['GET', '/api/v1/patients/pb/indicators'],
      ['GET', '/api/v1/patients/pb/thresholds'],
      ['PUT', '/api/v1/patients/pb/thresholds', { spo2_low: 88 }],
      ['GET', '/api/v1/alerts?patient=pb'],
      ['POST', `/api/v1/alerts/${pbAlertId}/acknowledge`, {}],
      ['GET', '/fhir/Observation?patient=Patient/pb'],
    ];
    const before = (await deniedRows('dr-a', 'pb')).length;
    for (const [method, path, json] of routes) {
      const r = await t.api.call(method, path, { token: tokens['dr-a'].token, json });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    const rows = await deniedRows('dr-a', 'pb');
    expect(rows.slice(before).map((r) => r.action)).toEqual([
      'GET /api/v1/patients/:id',
      'GET /api/v1/patients/:id/readings',
      'GET /api/v1/patients/:id/series',
      'GET /api/v1/patients/:id/indicators',
      'GET /api/v1/patients/:id/thresholds',
      'PUT /api/v1/patients/:id/thresholds',
      'GET /api/v1/alerts',
      'POST /api/v1/alerts/:id/acknowledge',
      'GET /fhir/Observation',
    ]);
    // Nothing changed for pb.
    expect(await sql(`SELECT status FROM alerts WHERE id = $1`, [pbAlertId])).toEqual([{ status: 'open' }]);
    expect(await sql(`SELECT * FROM alert_thresholds WHERE patient_id = 'pb'`)).toEqual([]);

    // The same routes for the patient in care answer.
    for (const path of [
      '/api/v1/patients/pa-during/readings',
      '/api/v1/patients/pa-during/series?type=heart_rate',
      '/api/v1/patients/pa-during/indicators',
      '/api/v1/patients/pa-during/thresholds',
      '/fhir/Observation?patient=Patient/pa-during',
    ]) {
      expect((await get('dr-a', path)).status, path).toBe(200);
    }
    // The alerts list holds only the patients in care.
    const alerts = await get('dr-a', '/api/v1/alerts?status=open');
    expect(alerts.body.items.map((a: { patientId: string }) => a.patientId)).toEqual(['pa-during']);
    const worklist = await get('dr-a', '/api/v1/worklist');
    expect(worklist.body.items.map((i: { patientId: string }) => i.patientId)).toEqual(['pa-during']);
  });

  it('a token holding a list of patients keeps working as before', async () => {
    expect((await get('list', '/api/v1/me')).body).toMatchObject({ patientIds: ['pb'], practitioner: null, teams: [] });
    expect((await get('list', '/api/v1/patients/pb')).status).toBe(200);
    expect((await get('list', '/api/v1/patients/pa-during')).status).toBe(404);
    expect(await deniedRows('list', 'pa-during')).toHaveLength(1);
  });

  it('ending an enrolment or leaving a team holds from the next request', async () => {
    // dr-ab acknowledges pa-during's alert while it is in care.
    const ack = await t.api.post(`/api/v1/alerts/${duringAlertId}/acknowledge`, {}, { token: tokens['dr-ab'].token });
    expect(ack.status).toBe(200);

    expect((await asAdmin('DELETE', '/api/v1/teams/team-b/members/dr-ab')).body).toEqual({
      teamId: 'team-b',
      practitionerId: 'dr-ab',
      removed: true,
    });
    expect((await get('dr-ab', '/api/v1/me')).body.patientIds).toEqual(['pa-during']);
    expect((await get('dr-ab', '/api/v1/patients/pb')).status).toBe(404);

    const running = await asAdmin('GET', '/api/v1/enrolments?patient=pa-during&active=true');
    expect(running.body.items).toHaveLength(1);
    const ended = await asAdmin('POST', `/api/v1/enrolments/${running.body.items[0].id}/end`, {});
    expect(ended.status).toBe(200);
    expect(ended.body.state).toBe('ended');
    expect((await get('dr-a', '/api/v1/patients/pa-during')).status).toBe(404);
    expect((await get('dr-a', '/api/v1/me')).body.patientIds).toEqual([]);
    expect(await deniedRows('dr-a', 'pa-during')).toHaveLength(1);
    // The admin's reads and writes of enrolments are audited too.
    const adminRows = await sql(
      `SELECT action FROM audit_log WHERE principal = 'admin-token' AND patient_id = 'pa-during' ORDER BY id`,
    );
    expect(adminRows.map((r) => r.action)).toEqual(['enrolments.create', 'enrolments.list', 'enrolments.end']);
  });
});
