/**
 * The admin API of care teams (README, "Care teams"): practitioners, teams and
 * their service hours, members, enrolments (create, list, get, end), with the
 * refusals a user meets; and the worklist's order and content.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/actions/tokens.ts';
import { useTestService } from '../fixture.ts';

const t = useTestService({ adminToken: true });
const HOUR = 3_600_000;

const admin = (method: string, path: string, json?: unknown) => t.api.call(method, path, { token: t.adminToken, json });

let clinician: string;

beforeAll(async () => {
  for (const id of ['w-1', 'w-2', 'w-3', 'w-4', 'w-5']) await t.addPatient(id, { displayName: `Name ${id}` });
  clinician = (await t.createToken('clinician', ['w-1'])).token;
});

describe('practitioners', () => {
  it('adds, lists and shows practitioners; refuses a bad RPPS, an unknown role, a duplicate id or RPPS', async () => {
    const added = await admin('POST', '/api/v1/practitioners', {
      id: 'doc-1',
      name: 'Dr Martin',
      rpps: '10101010101',
      role: 'physician',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: 'doc-1', name: 'Dr Martin', rpps: '10101010101', role: 'physician' });
    const rows = await t.query(`SELECT id, name, rpps, role FROM practitioners WHERE id = 'doc-1'`);
    expect(rows.rows).toEqual([{ id: 'doc-1', name: 'Dr Martin', rpps: '10101010101', role: 'physician' }]);

    const badRpps = await admin('POST', '/api/v1/practitioners', { id: 'doc-2', name: 'X', rpps: '123' });
    expect(badRpps.status).toBe(422);
    expect(badRpps.body.error.message).toContain('is not 11 digits');
    const badRole = await admin('POST', '/api/v1/practitioners', { id: 'doc-2', name: 'X', role: 'surgeon' });
    expect(badRole.status).toBe(422);
    const dupId = await admin('POST', '/api/v1/practitioners', { id: 'doc-1', name: 'Y' });
    expect(dupId.status).toBe(409);
    expect(dupId.body.error.message).toBe('practitioner doc-1 already exists');
    const dupRpps = await admin('POST', '/api/v1/practitioners', { id: 'doc-3', name: 'Z', rpps: '10101010101' });
    expect(dupRpps.status).toBe(409);
    expect(dupRpps.body.error.message).toContain('RPPS number 10101010101');

    expect((await admin('POST', '/api/v1/practitioners', { id: 'nurse-1', name: 'N', role: 'nurse' })).status).toBe(
      201,
    );
    const page1 = await admin('GET', '/api/v1/practitioners?limit=1');
    expect(page1.body.items.map((p: { id: string }) => p.id)).toEqual(['doc-1']);
    const page2 = await admin('GET', `/api/v1/practitioners?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((p: { id: string }) => p.id)).toEqual(['nurse-1']);
    expect((await admin('GET', '/api/v1/practitioners/nobody')).status).toBe(404);
    // Admin only.
    expect((await t.api.get('/api/v1/practitioners', { token: clinician })).status).toBe(403);
  });
});

describe('teams', () => {
  it('adds a team with service hours and a zone, validated; sets hours; says when it is on duty', async () => {
    const badHours = await admin('POST', '/api/v1/teams', { id: 'tx', serviceHours: 'mon-fri 8-18' });
    expect(badHours.status).toBe(422);
    expect(badHours.body.error.message).toContain('"8-18" is not a time range HH:MM-HH:MM');
    const badZone = await admin('POST', '/api/v1/teams', { id: 'tx', timeZone: 'Mars/Olympus_Mons' });
    expect(badZone.status).toBe(422);
    expect(badZone.body.error.message).toContain('Mars/Olympus_Mons');

    const created = await admin('POST', '/api/v1/teams', {
      id: 'cardio',
      name: 'Cardiology',
      timeZone: 'Europe/Paris',
      serviceHours: 'mon-fri 08:00-18:00;sat 09:00-12:00',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'cardio',
      name: 'Cardiology',
      timeZone: 'Europe/Paris',
      serviceHours: 'mon-fri 08:00-18:00; sat 09:00-12:00',
    });
    expect(typeof created.body.onDuty).toBe('boolean');
    expect(created.body.nextOpening === null).toBe(created.body.onDuty);
    expect((await admin('POST', '/api/v1/teams', { id: 'cardio' })).status).toBe(409);

    // Off duty: hours that exclude now (a one-minute window twelve hours away, in UTC).
    const away = new Date(Date.now() + 12 * HOUR);
    const hh = String(away.getUTCHours()).padStart(2, '0');
    const spec = `mon-sun ${hh}:00-${hh}:01`;
    const off = await admin('PUT', '/api/v1/teams/cardio/hours', { serviceHours: spec, timeZone: 'UTC' });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ serviceHours: spec, timeZone: 'UTC', onDuty: false });
    const opening = Date.parse(off.body.nextOpening);
    expect(opening).toBeGreaterThan(Date.now());
    expect(new Date(opening).getUTCHours()).toBe(away.getUTCHours());
    expect(new Date(opening).getUTCMinutes()).toBe(0);

    const always = await admin('PUT', '/api/v1/teams/cardio/hours', { serviceHours: null });
    expect(always.body).toMatchObject({ serviceHours: null, onDuty: true, nextOpening: null });
    expect((await admin('PUT', '/api/v1/teams/nope/hours', { serviceHours: null })).status).toBe(404);
  });

  it('adds and removes members; refuses unknown teams and practitioners', async () => {
    const add = await admin('POST', '/api/v1/teams/cardio/members', { practitionerId: 'doc-1' });
    expect(add.body).toEqual({ teamId: 'cardio', practitionerId: 'doc-1', added: true });
    const again = await admin('POST', '/api/v1/teams/cardio/members', { practitionerId: 'doc-1' });
    expect(again.body.added).toBe(false);
    const noOne = await admin('POST', '/api/v1/teams/cardio/members', { practitionerId: 'ghost' });
    expect(noOne.status).toBe(404);
    expect(noOne.body.error.message).toContain('vitalink practitioners add --id ghost');
    expect((await admin('POST', '/api/v1/teams/ghost/members', { practitionerId: 'doc-1' })).status).toBe(404);
    const shown = await admin('GET', '/api/v1/teams/cardio');
    expect(shown.body.members.map((m: { id: string }) => m.id)).toEqual(['doc-1']);
    expect((await admin('GET', '/api/v1/practitioners/doc-1')).body.teams.map((x: { id: string }) => x.id)).toEqual([
      'cardio',
    ]);
    expect((await admin('DELETE', '/api/v1/teams/cardio/members/nurse-1')).status).toBe(404);
    expect((await admin('GET', '/api/v1/teams')).body.items.map((x: { id: string }) => x.id)).toEqual(['cardio']);
  });
});

describe('enrolments', () => {
  it('refuses an unknown programme with the list, an overlap with the same team and programme (409), a bad interval', async () => {
    const unknown = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-1',
      teamId: 'cardio',
      programme: 'gout',
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toBe(
      'programme "gout" is not one Vitalink knows; use one of heart_failure, chronic_kidney_failure, chronic_respiratory_failure, diabetes, cardiac_implantable_device, hypertension (README, "Care teams")',
    );
    const first = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-1',
      teamId: 'cardio',
      programme: 'heart_failure',
      from: '2026-01-01T00:00:00Z',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      patientId: 'w-1',
      teamId: 'cardio',
      programme: 'heart_failure',
      from: '2026-01-01T00:00:00.000Z',
      to: null,
      state: 'running',
    });
    const overlap = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-1',
      teamId: 'cardio',
      programme: 'heart_failure',
      from: '2026-06-01T00:00:00Z',
      to: '2026-07-01T00:00:00Z',
    });
    expect(overlap.status).toBe(409);
    expect(overlap.body.error.message).toBe(
      `patient w-1 is already enrolled in heart_failure with team cardio from 2026-01-01T00:00:00.000Z to open-ended (enrolment ${first.body.id}), which overlaps; end that one first (\`vitalink enrolments end --id ${first.body.id}\`) or choose another interval`,
    );
    // Another programme, or before the first one: no overlap.
    const other = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-1',
      teamId: 'cardio',
      programme: 'hypertension',
    });
    expect(other.status).toBe(201);
    const earlier = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-1',
      teamId: 'cardio',
      programme: 'heart_failure',
      from: '2025-01-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
    });
    expect(earlier.status).toBe(201);
    expect(earlier.body.state).toBe('ended');
    const backwards = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-2',
      teamId: 'cardio',
      programme: 'diabetes',
      from: '2026-02-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
    });
    expect(backwards.status).toBe(422);
    const noPatient = await admin('POST', '/api/v1/enrolments', {
      patientId: 'w-404',
      teamId: 'cardio',
      programme: 'diabetes',
    });
    expect(noPatient.status).toBe(404);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM enrolments WHERE patient_id = 'w-1'`);
    expect(rows[0].n).toBe(3);
  });

  it('gets, lists (by patient, team, running now) and ends enrolments; ending twice is a 409', async () => {
    const list = await admin('GET', '/api/v1/enrolments?patient=w-1');
    expect(list.body.items).toHaveLength(3);
    const running = await admin('GET', '/api/v1/enrolments?patient=w-1&active=true');
    expect(running.body.items.map((e: { programme: string }) => e.programme).sort()).toEqual([
      'heart_failure',
      'hypertension',
    ]);
    const id = running.body.items.find((e: { programme: string }) => e.programme === 'hypertension').id;
    expect((await admin('GET', `/api/v1/enrolments/${id}`)).body.state).toBe('running');
    const tooEarly = await admin('POST', `/api/v1/enrolments/${id}/end`, { at: '2020-01-01T00:00:00Z' });
    expect(tooEarly.status).toBe(422);
    const ended = await admin('POST', `/api/v1/enrolments/${id}/end`, {});
    expect(ended.status).toBe(200);
    expect(ended.body.state).toBe('ended');
    const twice = await admin('POST', `/api/v1/enrolments/${id}/end`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain(`enrolment ${id} already ended at`);
    expect((await admin('GET', '/api/v1/enrolments/999999')).status).toBe(404);
    expect((await admin('GET', '/api/v1/enrolments?team=cardio&active=true')).body.items).toHaveLength(1);
  });
});

describe('worklist', () => {
  it('orders the patients of the practitioner’s teams: worst open alert first, then the longest waiting, then the rest by name', async () => {
    // Team "renal": w-2 … w-5 enrolled now; w-1 stays with cardio (doc-1's other team).
    expect((await admin('POST', '/api/v1/teams', { id: 'renal', name: 'Renal' })).status).toBe(201);
    await admin('POST', '/api/v1/teams/renal/members', { practitionerId: 'doc-1' });
    for (const id of ['w-2', 'w-3', 'w-4', 'w-5']) {
      const r = await admin('POST', '/api/v1/enrolments', {
        patientId: id,
        teamId: 'renal',
        programme: 'chronic_kidney_failure',
      });
      expect(r.status).toBe(201);
    }
    const now = Date.now();
    const alert = (patient: string, rule: string, minutesAgo: number) =>
      t.query(
        `INSERT INTO alerts (patient_id, rule, status, opened_at, threshold, reading_ids)
         VALUES ($1, $2, 'open', $3, '1'::jsonb, '{}')`,
        [patient, rule, new Date(now - minutesAgo * 60_000)],
      );
    // w-2: a critical alert (bp_high) opened 5 minutes ago; w-3, w-4, w-5 a high one (spo2_low), w-5 also a
    // moderate one (fever) opened 200 minutes ago: its oldest.
    await alert('w-2', 'bp_high', 5);
    await alert('w-3', 'spo2_low', 300);
    await alert('w-4', 'spo2_low', 30);
    await alert('w-5', 'spo2_low', 60);
    await alert('w-5', 'fever', 200);
    const token = (await createApiToken(t.db, await t.keys(), { role: 'clinician', practitionerId: 'doc-1' })).token;
    const r = await t.api.get('/api/v1/worklist', { token });
    expect(r.status).toBe(200);
    expect(r.body.teams.map((x: { id: string }) => x.id)).toEqual(['cardio', 'renal']);
    expect(r.body.total).toBe(5);
    // Severity first (w-2's critical), then the patient waiting longest (w-3, w-5, w-4), then the others by name.
    const order = r.body.items.map((i: { patientId: string }) => i.patientId);
    expect(order).toEqual(['w-2', 'w-3', 'w-5', 'w-4', 'w-1']);
    expect(r.body.items[0].worstAlert).toEqual({ rule: 'bp_high', severity: 'critical' });
    const w5 = r.body.items[2];
    expect(w5).toMatchObject({
      patientId: 'w-5',
      displayName: 'Name w-5',
      openAlerts: 2,
      worstAlert: { rule: 'spo2_low', severity: 'high' },
      oldestOpenAlertAt: new Date(now - 200 * 60_000).toISOString(),
      lastReadingAt: null,
    });
    expect(w5.enrolments).toEqual([
      expect.objectContaining({ teamId: 'renal', teamName: 'Renal', programme: 'chronic_kidney_failure', to: null }),
    ]);
    const w1 = r.body.items[4];
    expect(w1).toMatchObject({ openAlerts: 0, worstAlert: null, oldestOpenAlertAt: null });
    expect(w1.enrolments.map((e: { teamId: string }) => e.teamId)).toEqual(['cardio']);
    // limit keeps the first ones; the total says how many there are.
    const two = await t.api.get('/api/v1/worklist?limit=2', { token });
    expect(two.body.items.map((i: { patientId: string }) => i.patientId)).toEqual(['w-2', 'w-3']);
    expect(two.body.total).toBe(5);
    // An admin has no worklist.
    expect((await admin('GET', '/api/v1/worklist')).status).toBe(403);
  });
});
