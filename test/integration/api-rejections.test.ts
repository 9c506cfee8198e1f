import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  describeRes,
  expectError,
  expectInvalid,
  expectKeys,
  expectTime,
  walkPages,
} from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

/**
 * Rejected readings over the API: list, filters, pages. Against a real PostgreSQL
 * and a real listening server, with `fetch` as a client would.
 */

const { t, who, get } = useApiTest();

describe('rejections', () => {
  let unassigned: MqttClient;

  async function rejectionRows() {
    const { rows } = await t.query(
      `SELECT device_id, reading_id, reason, detail, received_at, raw_size, encode(raw_sha256, 'base64') AS sha256, raw_dropped
       FROM rejections ORDER BY id DESC`,
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      readingId: r.reading_id,
      reason: r.reason,
      detail: r.detail,
      receivedAt: (r.received_at as Date).toISOString(),
      raw: { kept: r.raw_dropped === null, size: r.raw_size, sha256: r.sha256, notKeptBecause: r.raw_dropped },
    }));
  }

  async function rejectionsCount(): Promise<number> {
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM rejections`);
    return rows[0].n;
  }

  beforeAll(async () => {
    unassigned = await t.connectDevice('rej-dev-1', await t.provisionDevice('rej-dev-1', null));
    const assigned = await t.connectDevice('rej-dev-2', await t.provisionDevice('rej-dev-2', 'p-rej'));
    const start = await rejectionsCount();
    const past = Date.now() - 60_000;
    await t.publish(unassigned, 'rej-dev-1', [
      heartRate('u1', 70, past),
      heartRate('u2', 71, past),
      heartRate('u3', 72, past),
    ]);
    await t.publish(unassigned, 'rej-dev-1', 'this is not json');
    await t.publish(assigned, 'rej-dev-2', [{ id: 'r1', type: 'spo2', at: past, value: 20, unit: '%' }]);
    await waitFor(async () => (await rejectionsCount()) >= start + 5, 'the rejections');
  });

  it('lists rejected readings newest first, exactly as stored', async () => {
    const res = await get('/api/v1/rejections', who.operator.token);
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['items', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    for (const r of res.body.items) {
      expectKeys(r, ['deviceId', 'readingId', 'reason', 'detail', 'receivedAt', 'raw']);
      expect(r.raw).toMatchObject({ kept: true, notKeptBecause: null });
      expect(r.raw.size).toBeGreaterThan(0);
      expectTime(r.receivedAt);
    }
    expect(res.body.items).toEqual(await rejectionRows());
    const reasons = res.body.items.map((r: any) => `${r.deviceId}:${r.readingId}:${r.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'rej-dev-1:u1:unassigned',
        'rej-dev-1:u2:unassigned',
        'rej-dev-1:u3:unassigned',
        'rej-dev-1:null:invalid_json',
        'rej-dev-2:r1:out_of_range',
      ]),
    );
  });

  it('filters by device and reason; 422 for bad filters; 400 for a bad cursor', async () => {
    const byDevice = await get('/api/v1/rejections?device=rej-dev-2', who.operator.token);
    expect(byDevice.status, describeRes(byDevice)).toBe(200);
    expect(byDevice.body.items.map((r: any) => [r.deviceId, r.readingId, r.reason])).toEqual([
      ['rej-dev-2', 'r1', 'out_of_range'],
    ]);
    const byReason = await get('/api/v1/rejections?reason=invalid_json', who.operator.token);
    expect(byReason.body.items.map((r: any) => [r.deviceId, r.readingId])).toEqual([['rej-dev-1', null]]);
    const both = await get('/api/v1/rejections?device=rej-dev-1&reason=unassigned', who.operator.token);
    expect(both.body.items.map((r: any) => r.readingId).sort()).toEqual(['u1', 'u2', 'u3']);
    const none = await get('/api/v1/rejections?device=nobody-here', who.operator.token);
    expect(none.body).toEqual({ items: [], nextCursor: null });

    expectInvalid(await get('/api/v1/rejections?reason=bogus', who.operator.token), ['querystring.reason']);
    expectInvalid(await get('/api/v1/rejections?device=a%20b', who.operator.token), ['querystring.device']);
    expectInvalid(await get('/api/v1/rejections?limit=0', who.operator.token), ['querystring.limit']);
    expectInvalid(await get('/api/v1/rejections?limit=1001', who.operator.token), ['querystring.limit']);
    expectError(await get('/api/v1/rejections?cursor=%2F%2F%2F', who.operator.token), 400, 'bad_request');
  });

  it('pages with limit=2: every rejection once, none skipped while new ones arrive, null at the end', async () => {
    const key = (r: any) => JSON.stringify([r.deviceId, r.readingId, r.reason, r.detail, r.receivedAt]);
    const existing = (await rejectionRows()).map(key);
    expect(existing.length).toBeGreaterThanOrEqual(5);
    expect(new Set(existing).size).toBe(existing.length);
    let n = 0;
    const pages = await walkPages(t, '/api/v1/rejections?limit=2', who.operator.token, 2, async (page) => {
      if (page > 1) return;
      const count = await rejectionsCount();
      n++;
      await t.publish(unassigned, 'rej-dev-1', [heartRate(`late-${n}`, 70, Date.now() - 1_000)]);
      await waitFor(async () => (await rejectionsCount()) > count, 'a new rejection');
    });
    expect(n).toBe(2);
    const seen = pages.flat().map(key);
    expect(new Set(seen).size, 'a rejection was repeated').toBe(seen.length);
    for (const k of existing) expect(seen, `skipped ${k}`).toContain(k);
    expect(pages.length).toBeGreaterThanOrEqual(3);
  });
});
