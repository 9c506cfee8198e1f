import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

const ADMIN_TOKEN = 'bootstrap-admin-token-for-the-summary-tests';
const MINUTE = 60_000;

const t = useTestService({ adminToken: ADMIN_TOKEN, env: { VITALINK_AGGREGATION_INTERVAL_MS: '100' } });
let client: MqttClient;
let clinician: string;
let operator: string;

beforeAll(async () => {
  client = await t.device('sum-d1', 'sum-p1');
  await t.addPatient('sum-quiet');
  clinician = (await t.createToken('clinician', ['sum-p1', 'sum-quiet'])).token;
  operator = (await t.createToken('operator')).token;
});

const get = (path: string, token: string) => t.api.get(`/api/v1${path}`, { token });
const publish = (readings: Reading[]) => t.publish(client, 'sum-d1', readings);

describe('GET /api/v1/me', () => {
  it('tells each token its role, and a clinician their patients', async () => {
    const none = { practitioner: null, teams: [] };
    expect((await get('/me', ADMIN_TOKEN)).body).toEqual({ role: 'admin', patientIds: null, ...none });
    expect((await get('/me', operator)).body).toEqual({ role: 'operator', patientIds: null, ...none });
    expect((await get('/me', clinician)).body).toEqual({
      role: 'clinician',
      patientIds: ['sum-p1', 'sum-quiet'],
      ...none,
    });
  });

  it('is a 401 without a token', async () => {
    const res = await fetch(`${t.httpUrl}/api/v1/me`);
    expect(res.status).toBe(401);
  });
});

describe('patient summaries', () => {
  it('are empty for a patient with no readings and no alerts', async () => {
    const { body } = await get('/patients/sum-quiet', clinician);
    expect(body.summary).toEqual({
      openAlerts: 0,
      worstAlert: null,
      lastReadingAt: null,
      adherenceDays: null,
      lastReview: null,
      programmes: [],
    });
  });

  it('count open alerts, name the most urgent, and give the last reading and adherence', async () => {
    const now = Date.now();
    const last = now - 2 * MINUTE;
    await publish([
      { id: 's1', type: 'spo2', at: now - 10 * MINUTE, value: 85, unit: '%' },
      { id: 'b1', type: 'blood_pressure', at: now - 5 * MINUTE, systolic: 190, diastolic: 100, unit: 'mm[Hg]' },
      { id: 'h1', type: 'heart_rate', at: last, value: 70, unit: '/min' },
    ]);
    const summary = await waitFor(async () => {
      const { body } = await get('/patients', clinician);
      const p = body.items.find((i: any) => i.id === 'sum-p1');
      return p?.summary.openAlerts === 2 && p.summary.adherenceDays !== null ? p.summary : undefined;
    }, 'the spo2_low and bp_high alerts and the adherence indicator');
    // bp_high (critical) is more urgent than spo2_low (high).
    expect(summary.worstAlert).toEqual({ rule: 'bp_high', severity: 'critical' });
    expect(Date.parse(summary.lastReadingAt)).toBe(last);
    expect(summary.adherenceDays).toBe(1);

    // Acknowledged alerts are no longer open: the worst is now spo2_low.
    const alerts = await get('/alerts?patient=sum-p1&status=open', clinician);
    const bp = alerts.body.items.find((a: any) => a.rule === 'bp_high');
    const ack = await fetch(`${t.httpUrl}/api/v1/alerts/${bp.id}/acknowledge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinician}` },
    });
    expect(ack.status).toBe(200);
    const after = (await get('/patients/sum-p1', clinician)).body.summary;
    expect(after.openAlerts).toBe(1);
    expect(after.worstAlert).toEqual({ rule: 'spo2_low', severity: 'high' });
  });

  it("name the programmes the patient is enrolled in now, with any team (not an ended enrolment's)", async () => {
    const post = (path: string, body: unknown) => t.api.post(`/api/v1${path}`, body, { token: ADMIN_TOKEN });
    expect((await post('/teams', { id: 'sum-cardio' })).status).toBe(201);
    expect((await post('/teams', { id: 'sum-diabeto' })).status).toBe(201);
    const day = 86_400_000;
    const enrol = (teamId: string, programme: string, from: number, to?: number) =>
      post('/enrolments', {
        patientId: 'sum-p1',
        teamId,
        programme,
        from: new Date(from).toISOString(),
        ...(to === undefined ? {} : { to: new Date(to).toISOString() }),
      });
    expect((await enrol('sum-diabeto', 'diabetes', Date.now() - day)).status).toBe(201);
    expect((await enrol('sum-cardio', 'heart_failure', Date.now() - day)).status).toBe(201);
    expect((await enrol('sum-cardio', 'hypertension', Date.now() - 9 * day, Date.now() - 2 * day)).status).toBe(201);
    expect((await get('/patients/sum-p1', clinician)).body.summary.programmes).toEqual(['diabetes', 'heart_failure']);
    const list = (await get('/patients', clinician)).body.items;
    expect(list.find((p: any) => p.id === 'sum-quiet').summary.programmes).toEqual([]);
  });

  it('are clinical data: an admin token gets the patients without them', async () => {
    expect((await get('/patients/sum-p1', ADMIN_TOKEN)).body.summary).toBeNull();
    const list = await get('/patients', ADMIN_TOKEN);
    expect(list.body.items.map((p: any) => p.summary)).toEqual(list.body.items.map(() => null));
  });
});
