import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditMark,
  describeRes,
  expectAlert,
  expectError,
  expectInvalid,
  expectSameNotFound,
} from '../helpers/api-expectations.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { ADMIN_TOKEN, useApiTest } from '../helpers/api-test.ts';
import { startTestApp } from '../helpers/app.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

/**
 * Alerts carry their event (the readings that raised them, with their values),
 * acknowledgements say what was done, every alert has a history, and a patient's
 * data can be marked reviewed for a day (issue #14, items 3 and 6). Real
 * PostgreSQL, a real listening server, readings published over MQTT.
 */

const { t, who, call, get } = useApiTest();

const spo2 = (id: string, value: number, at: number): Reading => ({ id, type: 'spo2', at, value, unit: '%' });
const bp = (id: string, systolic: number, diastolic: number, at: number): Reading => ({
  id,
  type: 'blood_pressure',
  at,
  systolic,
  diastolic,
  unit: 'mm[Hg]',
});
const iso = (ms: number) => new Date(ms).toISOString();

let device: MqttClient;
let otherDevice: MqttClient;
const t0 = Date.now() - 30 * 60_000;

async function alertOf(patientId: string, rule: string): Promise<any> {
  const res = await get(`/api/v1/alerts?patient=${patientId}`, who.clinician.token);
  expect(res.status, describeRes(res)).toBe(200);
  return res.body.items.find((a: any) => a.rule === rule);
}

async function send(client: MqttClient, deviceId: string, readings: Reading[]): Promise<void> {
  await t.publish(client, deviceId, readings);
  await t.settled();
}

beforeAll(async () => {
  device = await t.connectDevice('ack-dev-1', await t.provisionDevice('ack-dev-1', 'p-own-1'));
  otherDevice = await t.connectDevice('ack-dev-2', await t.provisionDevice('ack-dev-2', 'p-other'));
  await send(device, 'ack-dev-1', [
    spo2('o1', 88, t0),
    bp('b1', 185, 100, t0),
    { id: 'f1', type: 'body_temperature', at: t0, value: 38.9, unit: 'Cel' },
  ]);
  await send(otherDevice, 'ack-dev-2', [spo2('x1', 85, t0)]);
  await waitFor(async () => (await alertOf('p-own-1', 'bp_high')) !== undefined, 'the alerts to open');
});

describe('the event of an alert', () => {
  it('shows the time and value(s) of the reading(s) that raised it', async () => {
    const low = await alertOf('p-own-1', 'spo2_low');
    expectAlert(low);
    expect(low.event).toEqual({
      at: iso(t0),
      readings: [{ deviceId: 'ack-dev-1', readingId: 'o1', type: 'spo2', at: iso(t0), unit: '%', value: 88 }],
    });
    expect(low.acknowledgement).toBeNull();
    const high = await alertOf('p-own-1', 'bp_high');
    expect(high.event.readings).toEqual([
      {
        deviceId: 'ack-dev-1',
        readingId: 'b1',
        type: 'blood_pressure',
        at: iso(t0),
        unit: 'mm[Hg]',
        systolic: 185,
        diastolic: 100,
      },
    ]);
  });

  it('follows the alert when a later reading keeps it open (updated)', async () => {
    const t1 = t0 + 5 * 60_000;
    await send(device, 'ack-dev-1', [spo2('o2', 85, t1)]);
    await waitFor(async () => (await alertOf('p-own-1', 'spo2_low')).event.at === iso(t1), 'the update');
    const low = await alertOf('p-own-1', 'spo2_low');
    expect(low.readingIds).toEqual(['ack-dev-1/o2']);
    expect(low.event.readings).toEqual([
      { deviceId: 'ack-dev-1', readingId: 'o2', type: 'spo2', at: iso(t1), unit: '%', value: 85 },
    ]);
  });
});

describe('acknowledgement with an action and a note, and the history', () => {
  it('records who, what and the note; the history lists every step, with the values', async () => {
    const low = await alertOf('p-own-1', 'spo2_low');
    const mark = await auditMark(t);
    const note = 'Called: the oximeter was on a cold finger. Re-measured 95 %.';
    const res = await call('POST', `/api/v1/alerts/${low.id}/acknowledge`, {
      token: who.clinician.token,
      json: { action: 'called_patient', note },
    });
    expect(res.status, describeRes(res)).toBe(200);
    expectAlert(res.body);
    expect(res.body.status).toBe('acknowledged');
    expect(res.body.acknowledgement).toEqual({
      at: res.body.acknowledgedAt,
      by: `token:${who.clinician.id}`,
      action: 'called_patient',
      note,
    });
    // The audit row names the alert, never the note.
    const { rows: audit } = await t.query(`SELECT action, detail FROM audit_log WHERE id > $1`, [mark]);
    expect(audit).toEqual([{ action: 'alerts.acknowledge', detail: { alertId: low.id } }]);

    // The condition clears: the acknowledged alert resolves.
    await send(device, 'ack-dev-1', [spo2('o3', 97, t0 + 10 * 60_000)]);
    await waitFor(async () => (await alertOf('p-own-1', 'spo2_low')).status === 'resolved', 'the resolution');

    const history = await get(`/api/v1/alerts/${low.id}/history`, who.clinician.token);
    expect(history.status, describeRes(history)).toBe(200);
    expect(history.body.alertId).toBe(low.id);
    expect(history.body.patientId).toBe('p-own-1');
    const items = history.body.items;
    expect(items.map((h: any) => h.event)).toEqual(['opened', 'updated', 'acknowledged', 'resolved']);
    expect(items[0]).toMatchObject({
      by: null,
      readingIds: ['ack-dev-1/o1'],
      readings: [expect.objectContaining({ readingId: 'o1', value: 88 })],
      action: null,
      note: null,
    });
    expect(items[1]).toMatchObject({ readings: [expect.objectContaining({ readingId: 'o2', value: 85 })] });
    expect(items[2]).toEqual({
      at: res.body.acknowledgedAt,
      event: 'acknowledged',
      by: `token:${who.clinician.id}`,
      readingIds: null,
      readings: null,
      action: 'called_patient',
      note,
      notification: null,
    });
    expect(items[3]).toMatchObject({ event: 'resolved', by: null, action: null });
    for (let i = 1; i < items.length; i++) expect(items[i].at >= items[i - 1].at).toBe(true);
  });

  it('refuses an unknown action, a note without an action, a note over 2,000 characters, an unknown key', async () => {
    const high = await alertOf('p-own-1', 'bp_high');
    const ack = (json: unknown) =>
      call('POST', `/api/v1/alerts/${high.id}/acknowledge`, { token: who.clinician.token, json });
    expectInvalid(await ack({ action: 'prayed' }), ['body.action']);
    expectInvalid(await ack({ note: 'seen' }), ['body.action']);
    expectInvalid(await ack({ action: 'no_action', note: 'x'.repeat(2001) }), ['body.note']);
    expectInvalid(await ack({ action: 'no_action', note: 'line\u0000break' }), ['body.note']);
    expectInvalid(await ack({ action: 'no_action', by: 'someone else' }), ['body.by']);
    expect((await alertOf('p-own-1', 'bp_high')).status).toBe('open');
  });

  it('an old client sending no body, or {}, still acknowledges, recorded with no action', async () => {
    const high = await alertOf('p-own-1', 'bp_high');
    const res = await call('POST', `/api/v1/alerts/${high.id}/acknowledge`, { token: who.clinician.token });
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.body.acknowledgement).toMatchObject({ by: `token:${who.clinician.id}`, action: null, note: null });
    const { rows } = await t.query(`SELECT acknowledged_action, acknowledged_note FROM alerts WHERE id = $1`, [
      high.id,
    ]);
    expect(rows).toEqual([{ acknowledged_action: null, acknowledged_note: null }]);
    // The dashboard before this version sent {}.
    const temp = await alertOf('p-own-1', 'fever');
    const empty = await call('POST', `/api/v1/alerts/${temp.id}/acknowledge`, { token: who.clinician.token, json: {} });
    expect(empty.status, describeRes(empty)).toBe(200);
    expect(empty.body.acknowledgement).toMatchObject({ action: null, note: null });
  });

  it("another clinician's alert has no history for this one: a 404 like a missing alert", async () => {
    const { rows } = await t.query(`SELECT id::text FROM alerts WHERE patient_id = 'p-other'`);
    expectSameNotFound(
      await get(`/api/v1/alerts/${rows[0].id}/history`, who.clinician.token),
      rows[0].id,
      await get('/api/v1/alerts/999999999/history', who.clinician.token),
      '999999999',
    );
    expectError(await get(`/api/v1/alerts/${rows[0].id}/history`, who.operator.token), 403, 'forbidden');
    const theirs = await get(`/api/v1/alerts/${rows[0].id}/history`, who.otherClinician.token);
    expect(theirs.status).toBe(200);
    expect(theirs.body.items.map((h: any) => h.event)).toEqual(['opened']);
  });
});

describe('reviewed mark', () => {
  it("marks today (the patient's) by default, a past day when given, once per reviewer; listed and in the summary", async () => {
    const mark = await auditMark(t);
    const today = await call('POST', '/api/v1/patients/p-own-2/reviews', { token: who.clinician.token });
    expect(today.status, describeRes(today)).toBe(201);
    const todayParis = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
    expect(today.body).toMatchObject({
      patientId: 'p-own-2',
      day: todayParis,
      reviewedBy: `token:${who.clinician.id}`,
      practitionerId: null,
    });
    const again = await call('POST', '/api/v1/patients/p-own-2/reviews', { token: who.clinician.token, json: {} });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(today.body);
    const past = await call('POST', '/api/v1/patients/p-own-2/reviews', {
      token: who.clinician.token,
      json: { day: '2026-11-02' },
    });
    expect(past.status).toBe(201);

    const list = await get('/api/v1/patients/p-own-2/reviews', who.clinician.token);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [today.body, past.body], nextCursor: null });
    const page = await get('/api/v1/patients/p-own-2/reviews?limit=1', who.clinician.token);
    expect(page.body.items).toEqual([today.body]);
    const next = await get(
      `/api/v1/patients/p-own-2/reviews?limit=1&cursor=${page.body.nextCursor}`,
      who.clinician.token,
    );
    expect(next.body).toEqual({ items: [past.body], nextCursor: null });
    const november = await get('/api/v1/patients/p-own-2/reviews?from=2026-11-01&to=2026-11-30', who.clinician.token);
    expect(november.body.items).toEqual([past.body]);

    const patient = await get('/api/v1/patients/p-own-2', who.clinician.token);
    expect(patient.body.summary.lastReview).toEqual({
      day: todayParis,
      reviewedAt: today.body.reviewedAt,
      reviewedBy: `token:${who.clinician.id}`,
    });
    const { rows } = await t.query(`SELECT action, patient_id, detail FROM audit_log WHERE id > $1 ORDER BY id`, [
      mark,
    ]);
    expect(rows.slice(0, 3)).toEqual([
      { action: 'patients.review', patient_id: 'p-own-2', detail: { day: todayParis } },
      { action: 'patients.review', patient_id: 'p-own-2', detail: { day: todayParis } },
      { action: 'patients.review', patient_id: 'p-own-2', detail: { day: '2026-11-02' } },
    ]);
    expect(rows.filter((r) => r.action === 'patients.reviews.list')).toHaveLength(4);
  });

  it("refuses a later day than the patient's today and a date that does not exist; another patient is a 404", async () => {
    const review = (patient: string, json: unknown, token = who.clinician.token) =>
      call('POST', `/api/v1/patients/${patient}/reviews`, { token, json });
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    expectInvalid(await review('p-own-1', { day: tomorrow }), ['body.day']);
    expectInvalid(await review('p-own-1', { day: '2026-02-30' }), ['body.day']);
    expectInvalid(await review('p-own-1', { day: '2 Nov' }), ['body.day']);
    expectSameNotFound(await review('p-other', {}), 'p-other', await review('p-nobody', {}), 'p-nobody');
    expectError(await review('p-own-1', {}, who.admin.token), 403, 'forbidden');
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM patient_reviews WHERE patient_id <> 'p-own-2'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('a practitioner acknowledges and reviews', () => {
  it('is recorded as the practitioner, in the API, the history, the review and FHIR', async () => {
    await t.query(
      `INSERT INTO practitioners (id, name, rpps, role) VALUES ('dr-ack', 'Dr Ack', '10000000042', 'nurse')`,
    );
    await t.query(`INSERT INTO care_teams (id, name) VALUES ('team-ack', 'Cardio')`);
    await t.query(`INSERT INTO team_members (team_id, practitioner_id) VALUES ('team-ack', 'dr-ack')`);
    await t.query(
      `INSERT INTO enrolments (patient_id, team_id, programme, starts_at) VALUES ('p-own-2', 'team-ack', 'heart_failure', now() - interval '1 day')`,
    );
    const nurse = await createApiToken(t.db, await t.keys(), { role: 'clinician', practitionerId: 'dr-ack' });
    const cuff = await t.connectDevice('ack-dev-3', await t.provisionDevice('ack-dev-3', 'p-own-2'));
    await send(cuff, 'ack-dev-3', [bp('n1', 200, 120, Date.now() - 60_000)]);
    await waitFor(async () => {
      const { rows } = await t.query(`SELECT 1 FROM alerts WHERE patient_id = 'p-own-2' AND rule = 'bp_high'`);
      return rows.length === 1;
    }, 'the bp_high alert');
    const { rows } = await t.query(`SELECT id::text FROM alerts WHERE patient_id = 'p-own-2' AND rule = 'bp_high'`);
    const id = rows[0].id;
    const res = await call('POST', `/api/v1/alerts/${id}/acknowledge`, {
      token: nurse.token,
      json: { action: 'adjusted_treatment' },
    });
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.body.acknowledgement).toMatchObject({
      by: 'practitioner:dr-ack',
      action: 'adjusted_treatment',
      note: null,
    });
    const history = await get(`/api/v1/alerts/${id}/history`, nurse.token);
    expect(history.body.items.find((h: any) => h.event === 'acknowledged').by).toBe('practitioner:dr-ack');
    const issue = await get(`/fhir/DetectedIssue/${id}`, nurse.token);
    expect(issue.body.mitigation[0]).toMatchObject({
      action: { coding: [{ code: 'adjusted_treatment' }] },
      author: { reference: 'Practitioner/dr-ack' },
    });
    const review = await call('POST', '/api/v1/patients/p-own-2/reviews', {
      token: nurse.token,
      json: { day: '2026-11-03' },
    });
    expect(review.status, describeRes(review)).toBe(201);
    expect(review.body).toMatchObject({ reviewedBy: 'practitioner:dr-ack', practitionerId: 'dr-ack' });
  });
});

describe('the note is clinical data', () => {
  it('is never written to the log: neither when stored nor when refused', async () => {
    await send(device, 'ack-dev-1', [
      { id: 'g1', type: 'blood_glucose', at: Date.now() - 60_000, value: 40, unit: 'mg/dL' },
    ]);
    await waitFor(async () => (await alertOf('p-own-1', 'hypoglycemia')) !== undefined, 'the hypoglycemia alert');
    const hypo = await alertOf('p-own-1', 'hypoglycemia');
    // A second instance on the same database whose log lines (info and above) are kept.
    const lines: Record<string, unknown>[] = [];
    const instance = await startTestApp(t.database, { VITALINK_ADMIN_TOKEN: ADMIN_TOKEN }, lines);
    try {
      const url = `http://127.0.0.1:${instance.ports.http}/api/v1/alerts/${hypo.id}/acknowledge`;
      const post = (body: unknown) =>
        fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${who.clinician.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await post({ action: 'no_action', note: `Nausea NOTE-MARK-1 ${'x'.repeat(2000)}` })).status).toBe(422);
      expect((await post({ action: 'adjusted_treatment', note: 'Insulin lowered NOTE-MARK-2' })).status).toBe(200);
    } finally {
      await instance.stop();
    }
    const text = JSON.stringify(lines);
    expect(lines.some((l) => String(JSON.stringify(l)).includes('/acknowledge'))).toBe(true);
    expect(text).not.toContain('NOTE-MARK');
    expect(text).not.toContain('Insulin');
  });
});
