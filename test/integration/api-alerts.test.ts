import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditMark,
  auditSince,
  describeRes,
  expectAlert,
  expectError,
  expectInvalid,
  expectKeys,
  expectSameNotFound,
  expectTime,
  walkPages,
} from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

/**
 * Alerts over the API: lists, filters, pages, acknowledgement. Against a real
 * PostgreSQL and a real listening server, with `fetch` as a client would.
 */

const { t, who, call, get } = useApiTest();

describe('alerts', () => {
  const spo2 = (id: string, value: number, at: number): Reading => ({ id, type: 'spo2', at, value, unit: '%' });
  const temp = (id: string, value: number, at: number): Reading => ({
    id,
    type: 'body_temperature',
    at,
    value,
    unit: 'Cel',
  });
  const bp = (id: string, systolic: number, diastolic: number, at: number): Reading => ({
    id,
    type: 'blood_pressure',
    at,
    systolic,
    diastolic,
    unit: 'mm[Hg]',
  });
  const glucose = (id: string, value: number, at: number): Reading => ({
    id,
    type: 'blood_glucose',
    at,
    value,
    unit: 'mg/dL',
  });
  const devices: Record<string, MqttClient> = {};

  async function alertRows(patientIds: string[]) {
    const { rows } = await t.query(
      `SELECT id::text, patient_id, rule, status, acknowledged_by FROM alerts WHERE patient_id = ANY($1) ORDER BY id`,
      [patientIds],
    );
    return rows;
  }

  async function raise(deviceId: string, readings: Reading[], patientId: string, expected: number): Promise<void> {
    await t.publish(devices[deviceId], deviceId, readings);
    await t.settled();
    await waitFor(async () => (await alertRows([patientId])).length >= expected, `${expected} alerts of ${patientId}`);
  }

  beforeAll(async () => {
    for (const [deviceId, patientId] of [
      ['al-dev-1', 'p-own-1'],
      ['al-dev-2', 'p-own-2'],
      ['al-dev-3', 'p-other'],
    ]) {
      devices[deviceId] = await t.connectDevice(deviceId, await t.provisionDevice(deviceId, patientId));
    }
    const past = Date.now() - 10 * 60_000;
    await raise(
      'al-dev-1',
      [spo2('a1', 88, past), temp('a2', 39.2, past), bp('a3', 190, 115, past), glucose('a4', 40, past)],
      'p-own-1',
      4,
    );
    await raise('al-dev-2', [spo2('b1', 80, past), temp('b2', 39.5, past)], 'p-own-2', 2);
    await raise('al-dev-3', [spo2('c1', 80, past), temp('c2', 39.5, past)], 'p-other', 2);
  });

  it("lists the clinician's alerts only, newest first, exactly as stored", async () => {
    const res = await get('/api/v1/alerts', who.clinician.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['items', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    res.body.items.forEach(expectAlert);
    const rows = await alertRows(['p-own-1', 'p-own-2']);
    expect(res.body.items.map((a: { id: string }) => a.id)).toEqual(rows.map((r) => r.id).reverse());
    expect(new Set(res.body.items.map((a: { patientId: string }) => a.patientId))).toEqual(
      new Set(['p-own-1', 'p-own-2']),
    );
    const fever = res.body.items.find((a: any) => a.patientId === 'p-own-1' && a.rule === 'fever');
    expect(fever).toMatchObject({
      status: 'open',
      acknowledgedAt: null,
      resolvedAt: null,
      threshold: 38,
      readingIds: ['al-dev-1/a2'],
    });
    const high = res.body.items.find((a: any) => a.rule === 'bp_high');
    expect(high).toMatchObject({ patientId: 'p-own-1', threshold: { systolic: 180, diastolic: 110 } });

    const { rows: opened } = await t.query(`SELECT opened_at FROM alerts WHERE id = $1`, [fever.id]);
    expect(fever.openedAt).toBe((opened[0].opened_at as Date).toISOString());
  });

  it('filters by status and patient; another patient is a 404 like a missing one; 422 for bad filters', async () => {
    const mine = await get('/api/v1/alerts?patient=p-own-2', who.clinician.token);
    expect(mine.status, describeRes(mine)).toBe(200);
    expect(mine.body.items.map((a: any) => a.patientId)).toEqual(['p-own-2', 'p-own-2']);
    const open = await get('/api/v1/alerts?status=open&patient=p-own-1', who.clinician.token);
    expect(open.body.items).toHaveLength(4);
    const resolved = await get('/api/v1/alerts?status=resolved', who.clinician.token);
    expect(resolved.body).toEqual({ items: [], nextCursor: null });

    expectSameNotFound(
      await get('/api/v1/alerts?patient=p-other', who.clinician.token),
      'p-other',
      await get('/api/v1/alerts?patient=p-nobody', who.clinician.token),
      'p-nobody',
    );
    // The other clinician sees theirs and nothing of ours.
    const theirs = await get('/api/v1/alerts', who.otherClinician.token);
    expect(theirs.body.items.map((a: any) => a.patientId)).toEqual(['p-other', 'p-other']);

    expectInvalid(await get('/api/v1/alerts?status=closed', who.clinician.token), ['querystring.status']);
    expectInvalid(await get('/api/v1/alerts?patient=a%20b', who.clinician.token), ['querystring.patient']);
    expectInvalid(await get('/api/v1/alerts?limit=0', who.clinician.token), ['querystring.limit']);
    expectError(await get('/api/v1/alerts?cursor=not-a-cursor', who.clinician.token), 400, 'bad_request');
  });

  it('pages with limit=2: every alert once, none skipped while new ones open, null at the end', async () => {
    const existing = (await alertRows(['p-own-1', 'p-own-2'])).map((r) => r.id as string);
    expect(existing).toHaveLength(6);
    let n = 0;
    const pages = await walkPages(t, '/api/v1/alerts?limit=2', who.clinician.token, 2, async (page) => {
      if (page > 1) return;
      const past = Date.now() - 5 * 60_000;
      n++;
      const readings = page === 0 ? [bp(`nb${n}`, 200, 120, past)] : [glucose(`ng${n}`, 30, past)];
      await raise('al-dev-2', readings, 'p-own-2', 2 + n);
    });
    expect(n).toBe(2);
    const seen = pages.flat().map((a) => a.id as string);
    pages.flat().forEach(expectAlert);
    expect(new Set(seen).size, `repeated: ${seen}`).toBe(seen.length);
    for (const id of existing) expect(seen, `alert ${id} was skipped`).toContain(id);
    expect(seen).toEqual([...seen].sort((a, b) => Number(b) - Number(a)));
    expect(pages.length).toBeGreaterThanOrEqual(3);
  });

  it('acknowledges an open alert once (409 the second time), and audits it', async () => {
    const [fever] = (await alertRows(['p-own-1'])).filter((r) => r.rule === 'fever');
    const mark = await auditMark(t);
    const before = Date.now();
    const res = await call('POST', `/api/v1/alerts/${fever.id}/acknowledge`, { token: who.clinician.token });
    expect(res.status, describeRes(res)).toBe(200);
    expectAlert(res.body);
    expect(res.body).toMatchObject({ id: fever.id, patientId: 'p-own-1', rule: 'fever', status: 'acknowledged' });
    expect(Date.parse(res.body.acknowledgedAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(res.body.resolvedAt).toBeNull();
    const [row] = (await alertRows(['p-own-1'])).filter((r) => r.id === fever.id);
    expect(row).toMatchObject({ status: 'acknowledged', acknowledged_by: `token:${who.clinician.id}` });
    expect(await auditSince(t, mark)).toEqual([
      { tokenId: who.clinician.id, role: 'clinician', patientId: 'p-own-1', action: 'alerts.acknowledge' },
    ]);

    const again = await call('POST', `/api/v1/alerts/${fever.id}/acknowledge`, { token: who.clinician.token });
    expectError(again, 409, 'conflict');

    const listed = await get('/api/v1/alerts?status=acknowledged', who.clinician.token);
    expect(listed.body.items).toEqual([res.body]);
  });

  it('resolves an alert whose condition already cleared when it is acknowledged', async () => {
    await t.publish(devices['al-dev-1'], 'al-dev-1', [spo2('a5', 98, Date.now() - 60_000)]);
    await t.settled();
    const [low] = (await alertRows(['p-own-1'])).filter((r) => r.rule === 'spo2_low');
    await waitFor(async () => {
      const { rows } = await t.query(`SELECT condition_cleared_at FROM alerts WHERE id = $1`, [low.id]);
      return rows[0].condition_cleared_at !== null;
    }, 'the spo2 condition to clear');
    const res = await call('POST', `/api/v1/alerts/${low.id}/acknowledge`, { token: who.clinician.token });
    expect(res.status, describeRes(res)).toBe(200);
    expectAlert(res.body);
    expect(res.body).toMatchObject({ id: low.id, status: 'resolved' });
    expectTime(res.body.acknowledgedAt);
    expectTime(res.body.resolvedAt);
    expectError(
      await call('POST', `/api/v1/alerts/${low.id}/acknowledge`, { token: who.clinician.token }),
      409,
      'conflict',
    );
  });

  it("acknowledging another clinician's alert is a 404 like a missing one, and changes nothing", async () => {
    const [theirs] = await alertRows(['p-other']);
    expectSameNotFound(
      await call('POST', `/api/v1/alerts/${theirs.id}/acknowledge`, { token: who.clinician.token }),
      theirs.id,
      await call('POST', '/api/v1/alerts/999999999999/acknowledge', { token: who.clinician.token }),
      '999999999999',
    );
    const [after] = await alertRows(['p-other']);
    expect(after).toMatchObject({ id: theirs.id, status: 'open', acknowledged_by: null });
    expectInvalid(await call('POST', '/api/v1/alerts/abc/acknowledge', { token: who.clinician.token }), ['params.id']);
    expectInvalid(await call('POST', `/api/v1/alerts/${'9'.repeat(19)}/acknowledge`, { token: who.clinician.token }), [
      'params.id',
    ]);
    expectError(
      await call('POST', `/api/v1/alerts/${theirs.id}/acknowledge`, { token: who.clinician.token, raw: '{' }),
      400,
      'bad_request',
    );
  });

  it('audits alert lists per patient read', async () => {
    const mark = await auditMark(t);
    expect((await get('/api/v1/alerts?patient=p-own-2', who.clinician.token)).status).toBe(200);
    expect(await auditSince(t, mark)).toEqual([
      { tokenId: who.clinician.id, role: 'clinician', patientId: 'p-own-2', action: 'alerts.list' },
    ]);
    const mark2 = await auditMark(t);
    expect((await get('/api/v1/alerts', who.clinician.token)).status).toBe(200);
    const rows = await auditSince(t, mark2);
    expect(rows.map((r) => r.patientId).sort()).toEqual(['p-own-1', 'p-own-2']);
    for (const r of rows)
      expect(r).toMatchObject({ tokenId: who.clinician.id, role: 'clinician', action: 'alerts.list' });
  });
});
