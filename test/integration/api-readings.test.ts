import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t = useTestService({ env: { VITALINK_AGGREGATION_INTERVAL_MS: '100' } });
let client: MqttClient;
let clinician: string;
let operator: string;

beforeAll(async () => {
  client = await t.device('cuff-api-1', 'p-api-1');
  await t.provisionDevice('cuff-api-2', 'p-api-2');
  clinician = (await t.createToken('clinician', ['p-api-1'])).token;
  operator = (await t.createToken('operator')).token;
});

const get = (path: string, token = clinician) => t.api.get(`/api/v1${path}`, { token });
const publish = (readings: Reading[]) => t.publish(client, 'cuff-api-1', readings);

async function settled() {
  await waitFor(async () => {
    const { rows } = await t.query(
      `SELECT (SELECT count(*) FROM aggregation_dirty) + (SELECT count(*) FROM indicators_dirty WHERE marked_at <= now()) AS n`,
    );
    return Number(rows[0].n) === 0;
  }, 'the aggregation job');
}

describe('readings and series over HTTP', () => {
  it('shows readings published over MQTT, newest first, in stored units, with the reading shape', async () => {
    const t = Date.now() - 10 * HOUR;
    await publish([
      { id: 'bp-1', type: 'blood_pressure', at: t, systolic: 16, diastolic: 10, pulse: 70, unit: 'kPa' },
      { id: 'bp-2', type: 'blood_pressure', at: t + HOUR, systolic: 130, diastolic: 85, unit: 'mm[Hg]' },
      { id: 'w-1', type: 'body_weight', at: t + 2 * HOUR, value: 165, unit: '[lb_av]' },
    ]);
    const { status, body } = await get('/patients/p-api-1/readings');
    expect(status).toBe(200);
    expect(body.nextCursor).toBeNull();
    expect(body.items.map((r: { id: string }) => r.id)).toEqual(['w-1', 'bp-2', 'bp-1']);
    expect(body.items[0]).toEqual({
      id: 'w-1',
      deviceId: 'cuff-api-1',
      patientId: 'p-api-1',
      type: 'body_weight',
      at: new Date(t + 2 * HOUR).toISOString(),
      receivedAt: expect.stringMatching(/Z$/),
      unit: 'kg',
      value: expect.closeTo(165 * 0.45359237, 9),
    });
    expect(body.items[2]).toMatchObject({ unit: 'mm[Hg]', pulse: 70 });
    expect(body.items[2].systolic).toBeCloseTo(16 * 7.50062, 9);
    expect(body.items[2]).not.toHaveProperty('value');
    expect(body.items[1]).not.toHaveProperty('pulse');

    const bpOnly = await get('/patients/p-api-1/readings?type=blood_pressure');
    expect(bpOnly.body.items.map((r: { id: string }) => r.id)).toEqual(['bp-2', 'bp-1']);
    const window = await get(
      `/patients/p-api-1/readings?from=${new Date(t + HOUR).toISOString()}&to=${new Date(t + 2 * HOUR).toISOString()}`,
    );
    expect(window.body.items.map((r: { id: string }) => r.id)).toEqual(['bp-2']);
  });

  it('paginates with a cursor that stays stable while readings arrive', async () => {
    const t0 = Date.now() - 5 * HOUR;
    await publish(
      Array.from({ length: 7 }, (_, i) => ({
        id: `hr-${i}`,
        type: 'heart_rate',
        at: t0 + i * 60_000,
        value: 60 + i,
        unit: '/min',
      })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await get(
        `/patients/p-api-1/readings?type=heart_rate&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(status).toBe(200);
      seen.push(...body.items.map((r: { id: string }) => r.id));
      cursor = body.nextCursor;
      pages++;
      // Between pages: a newer reading and one in the middle of what is left.
      if (pages === 1) {
        await publish([
          { id: 'hr-new', type: 'heart_rate', at: Date.now(), value: 99, unit: '/min' },
          { id: 'hr-mid', type: 'heart_rate', at: t0 + 2 * 60_000 + 30_000, value: 98, unit: '/min' },
        ]);
      }
    } while (cursor);
    const original = ['hr-6', 'hr-5', 'hr-4', 'hr-3', 'hr-2', 'hr-1', 'hr-0'];
    expect(new Set(seen).size).toBe(seen.length); // nothing twice
    for (const id of original) expect(seen).toContain(id); // nothing skipped
    expect(seen).not.toContain('hr-new'); // newer than the first page: not in later pages
    expect(seen.filter((id) => original.includes(id))).toEqual(original); // newest first
  });

  it('gives hourly and daily buckets from the rollups, blood pressure per component', async () => {
    await settled();
    const day = await get('/patients/p-api-1/series?type=blood_pressure&bucket=day');
    expect(day.status).toBe(200);
    expect(day.body).toMatchObject({
      patientId: 'p-api-1',
      type: 'blood_pressure',
      bucket: 'day',
      timeZone: 'Europe/Paris',
    });
    const totals = day.body.items.reduce((n: number, b: { systolic: { count: number } }) => n + b.systolic.count, 0);
    expect(totals).toBe(2);
    for (const b of day.body.items) {
      expect(b).toEqual({
        start: expect.any(String),
        end: expect.any(String),
        systolic: expect.any(Object),
        diastolic: expect.any(Object),
      });
      const hours = (Date.parse(b.end) - Date.parse(b.start)) / HOUR;
      expect([23, 24, 25]).toContain(hours);
    }
    // [from, to) on each local day's start (Europe/Paris), at the edges of the range.
    const first = day.body.items[0];
    const range = async (from: number, to: number) =>
      (
        await get(
          `/patients/p-api-1/series?type=blood_pressure&bucket=day&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
        )
      ).body.items.map((b: { start: string }) => b.start);
    const start = Date.parse(first.start);
    expect(await range(start, start + 1)).toEqual([first.start]);
    expect(await range(start - 36 * HOUR, start + 1)).toContain(first.start);
    expect(await range(start + 1, start + 36 * HOUR)).not.toContain(first.start);
    expect(await range(start - 36 * HOUR, start)).not.toContain(first.start);

    const hour = await get('/patients/p-api-1/series?type=heart_rate&bucket=hour');
    const counts = hour.body.items.map((b: { count: number }) => b.count);
    expect(counts.reduce((a: number, b: number) => a + b, 0)).toBe(9);
    for (const b of hour.body.items) expect(Date.parse(b.end) - Date.parse(b.start)).toBe(HOUR);
    const all = hour.body.items.flatMap((b: { min: number; max: number }) => [b.min, b.max]);
    expect(Math.min(...all)).toBe(60);
    expect(Math.max(...all)).toBe(99);
    // Each bucket's own start and end, whether or not the previous bucket ends where it starts.
    for (const b of hour.body.items) expect(new Date(Date.parse(b.start) + HOUR).toISOString()).toBe(b.end);
  });

  it('chooses hours or days with bucket=auto, and refuses more than 93 days of hours saying what to ask instead', async () => {
    await settled();
    const to = Date.now() + HOUR;
    const series = (bucket: string, days: number) =>
      get(
        `/patients/p-api-1/series?type=heart_rate&bucket=${bucket}&from=${new Date(to - days * DAY).toISOString()}&to=${new Date(to).toISOString()}`,
      );
    // Up to 14 days: the hours, exactly as bucket=hour gives them.
    const short = await series('auto', 14);
    expect(short.status).toBe(200);
    expect(short.body.bucket).toBe('hour');
    expect(short.body.items).toEqual((await series('hour', 14)).body.items);
    expect(short.body.items.length).toBeGreaterThan(0);
    // Beyond: the days, exactly as bucket=day gives them.
    for (const days of [14.5, 90, 400]) {
      const long = await series('auto', days);
      expect(long.status).toBe(200);
      expect(long.body.bucket).toBe('day');
      expect(long.body.items).toEqual((await series('day', days)).body.items);
      expect(long.body.items.length).toBeGreaterThan(0);
    }
    const tooLong = await series('hour', 94);
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error.code).toBe('invalid_input');
    expect(tooLong.body.error.message).toBe(
      'at most 93 days of hours at once: ask for a shorter range, or bucket=day or bucket=auto',
    );
    expect((await series('hour', 93)).status).toBe(200);
    expect((await series('week', 7)).status).toBe(422);
  });

  it('shows the indicators that the readings produced', async () => {
    await settled();
    const { status, body } = await get('/patients/p-api-1/indicators');
    expect(status).toBe(200);
    const hr = body.indicators.find((i: { key: string }) => i.key === 'hr_max');
    expect(hr).toMatchObject({ value: 99, unit: '/min', sufficient: true });
    expect(Date.parse(hr.to) - Date.parse(hr.from)).toBe(24 * HOUR);
  });

  it('hides other patients, checks roles and input, and audits what clinicians read', async () => {
    for (const path of [
      '/patients/p-api-2/readings',
      '/patients/p-api-2/series?type=heart_rate',
      '/patients/nobody/readings',
    ]) {
      const { status, body } = await get(path);
      expect(status).toBe(404);
      expect(body.error.code).toBe('not_found');
    }
    expect((await get('/patients/p-api-1/readings', operator)).status).toBe(403);
    expect((await get('/patients/p-api-1/readings', 'vlk_unknown_token_000000000')).status).toBe(401);
    const bad = await get('/patients/p-api-1/readings?type=mood&limit=0');
    expect(bad.status).toBe(422);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'querystring.limit',
      'querystring.type',
    ]);
    expect((await get('/patients/p-api-1/readings?cursor=garbage')).status).toBe(400);
    const forged = Buffer.from(JSON.stringify([1, 'a\u0000', 'b'])).toString('base64url');
    expect((await get(`/patients/p-api-1/readings?cursor=${forged}`)).status).toBe(400);
    const big = await fetch(`${t.httpUrl}/api/v1/patients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinician}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x', displayName: 'y'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.code).toBe('payload_too_large');
    const { rows } = await t.query(
      `SELECT DISTINCT action FROM audit_log WHERE patient_id = 'p-api-1' AND role = 'clinician' ORDER BY action`,
    );
    expect(rows.map((r) => r.action)).toEqual(['indicators.read', 'readings.read', 'series.read']);
    const other = await t.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE patient_id <> 'p-api-1' AND outcome = 'allowed'`,
    );
    expect(other.rows[0].n).toBe(0);
    // The 404s above are written down as denied (the patients are not on the token), nothing more.
    const denied = await t.query(`SELECT patient_id, outcome FROM audit_log WHERE patient_id <> 'p-api-1' ORDER BY id`);
    expect(denied.rows).toEqual([
      { patient_id: 'p-api-2', outcome: 'denied' },
      { patient_id: 'p-api-2', outcome: 'denied' },
      { patient_id: 'nobody', outcome: 'denied' },
    ]);
  });
});
