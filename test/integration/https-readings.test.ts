import { describe, expect, it } from 'vitest';
import { disableDevice, rotateDeviceSecret } from '../../src/actions/device-lifecycle.ts';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { postReadings } from '../helpers/https-device.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const t = useTestService({
  adminToken: true,
  // Few failures before a ban, so that the throttle shows in a few requests.
  env: { VITALINK_MQTT_AUTH_FAILURES_PER_CLIENT: '3', VITALINK_MQTT_AUTH_BAN_S: '60' },
});

interface NewDevice {
  id: string;
  secret: string;
}

async function newDevice(id: string, assignedFrom?: Date): Promise<NewDevice> {
  return { id, secret: await t.provisionDevice(id, `patient-${id}`, assignedFrom) };
}

const post = (device: NewDevice, payload: Buffer | string | object, contentType?: string) =>
  postReadings(t.httpUrl, device.id, payload, credentials(device), contentType);

const credentials = (device: NewDevice) => ({ deviceId: device.id, secret: device.secret });

async function rejectionRows(deviceId: string) {
  const { rows } = await t.query(
    'SELECT reading_id, reason, detail, raw FROM rejections WHERE device_id = $1 ORDER BY id',
    [deviceId],
  );
  return rows as { reading_id: string | null; reason: string; detail: string; raw: Buffer }[];
}

async function storedCount(deviceId: string, readingId: string): Promise<number> {
  const { rows } = await t.query('SELECT count(*)::int AS n FROM readings WHERE device_id = $1 AND reading_id = $2', [
    deviceId,
    readingId,
  ]);
  return rows[0].n;
}

const readingJson = (reading: unknown) => Buffer.from(JSON.stringify(reading), 'utf8');

describe('POST /api/v1/devices/{id}/readings: stored, duplicate, conflict', () => {
  it('stores a reading and answers after commit; the same again is a duplicate; other content under its id a conflict', async () => {
    const d = await newDevice('https-dup');
    const reading = heartRate('d-1', 70, Date.now() - MINUTE);
    const first = await post(d, reading);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ results: [{ id: 'd-1', outcome: 'stored', reason: null, detail: null }] });
    expect(await storedCount(d.id, 'd-1')).toBe(1);

    const again = await post(d, reading);
    expect(again.body).toEqual({ results: [{ id: 'd-1', outcome: 'duplicate', reason: null, detail: null }] });
    expect(await storedCount(d.id, 'd-1')).toBe(1);

    const other = await post(d, { ...reading, value: 90 });
    expect(other.status).toBe(200);
    expect(other.body.results).toHaveLength(1);
    expect(other.body.results[0]).toMatchObject({ id: 'd-1', outcome: 'rejected', reason: 'conflict' });
    const rows = await rejectionRows(d.id);
    expect(rows.map((r) => [r.reading_id, r.reason])).toEqual([['d-1', 'conflict']]);
    expect(other.body.results[0].detail).toBe(rows[0].detail);
    expect(await storedCount(d.id, 'd-1')).toBe(1);
  });

  it('answers a batch with one result per reading, in the order sent, whatever the Content-Type', async () => {
    const d = await newDevice('https-batch');
    const at = Date.now() - MINUTE;
    await post(d, heartRate('b-0', 70, at));
    const readings = [
      heartRate('b-1', 71, at),
      { id: 'b-2', type: 'heart_rate', at, value: 72, unit: 'kg' },
      heartRate('b-0', 70, at),
      { id: 'b-3', type: 'blood_ketone', at, value: 1, unit: 'mmol/L' },
      heartRate('b-0', 99, at),
      heartRate('b-4', 74, at),
    ];
    const res = await post(d, { readings }, 'text/plain');
    expect(res.status).toBe(200);
    expect(
      res.body.results.map((r: { id: string; outcome: string; reason: string | null }) => [r.id, r.outcome, r.reason]),
    ).toEqual([
      ['b-1', 'stored', null],
      ['b-2', 'rejected', 'unit'],
      ['b-0', 'duplicate', null],
      ['b-3', 'rejected', 'unknown_type'],
      ['b-0', 'rejected', 'conflict'],
      ['b-4', 'stored', null],
    ]);
    expect(await storedCount(d.id, 'b-1')).toBe(1);
    expect(await storedCount(d.id, 'b-4')).toBe(1);
    expect((await rejectionRows(d.id)).map((r) => r.reason).sort()).toEqual(['conflict', 'unit', 'unknown_type']);
  });
});

/** The cases of test/integration/rejections.test.ts, each sent as the whole body. */
const at = () => Date.now() - MINUTE;
const rejectionCases: { name: string; body: () => Buffer; id: string | null; reason: string; raw?: 'body' }[] = [
  {
    name: 'not JSON',
    body: () => Buffer.from('{"id": "j-1", "type": "heart_rate", '),
    id: null,
    reason: 'invalid_json',
    raw: 'body',
  },
  {
    name: 'not UTF-8',
    body: () => Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    id: null,
    reason: 'invalid_json',
    raw: 'body',
  },
  {
    name: 'empty readings',
    body: () => Buffer.from('{ "readings" : [ ] }\n'),
    id: null,
    reason: 'invalid_shape',
    raw: 'body',
  },
  {
    name: 'a JSON array',
    body: () => Buffer.from(`[${JSON.stringify(heartRate('s-1'))}]`),
    id: null,
    reason: 'invalid_shape',
    raw: 'body',
  },
  {
    name: 'a field missing',
    body: () => readingJson({ id: 'ir-1', type: 'heart_rate', value: 72, unit: '/min' }),
    id: 'ir-1',
    reason: 'invalid_reading',
  },
  {
    name: 'an unknown type',
    body: () => readingJson({ id: 'ut-1', type: 'blood_ketone', at: at(), value: 1.2, unit: 'mmol/L' }),
    id: 'ut-1',
    reason: 'unknown_type',
  },
  {
    name: 'a unit of another type',
    body: () => readingJson({ id: 'un-1', type: 'heart_rate', at: at(), value: 72, unit: 'bpm ' }),
    id: 'un-1',
    reason: 'unit',
  },
  {
    name: 'out of range after conversion',
    body: () => readingJson({ id: 'or-1', type: 'blood_pressure', at: at(), systolic: 60, diastolic: 10, unit: 'kPa' }),
    id: 'or-1',
    reason: 'out_of_range',
  },
  {
    name: 'in the future',
    body: () => readingJson(heartRate('fu-1', 72, new Date(Date.now() + 10 * MINUTE).toISOString())),
    id: 'fu-1',
    reason: 'future',
  },
  {
    name: 'too old',
    body: () => readingJson(heartRate('to-1', 72, Date.now() - 91 * DAY)),
    id: 'to-1',
    reason: 'too_old',
  },
];

describe('POST /api/v1/devices/{id}/readings: every rejection reason, as over MQTT', () => {
  it.each(rejectionCases)('$reason ($name): 200, rejected with its reason, recorded with the raw bytes', async (c) => {
    const d = await newDevice(`https-rej-${rejectionCases.indexOf(c)}`);
    const body = c.body();
    const res = await post(d, body);
    expect(res.status).toBe(200);
    const rows = await rejectionRows(d.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ reading_id: c.id, reason: c.reason });
    expect(res.body).toEqual({
      results: [{ id: c.id, outcome: 'rejected', reason: c.reason, detail: rows[0].detail }],
    });
    if (c.raw === 'body') expect(Buffer.compare(rows[0].raw, body)).toBe(0);
    else expect(JSON.parse(rows[0].raw.toString('utf8'))).toEqual(JSON.parse(body.toString('utf8')));
  });

  it('unassigned: measured before the device was assigned; kept, not stored', async () => {
    const d = await newDevice('https-unassigned', new Date());
    const res = await post(d, heartRate('ua-1', 72, Date.now() - HOUR));
    expect(res.body.results).toEqual([
      expect.objectContaining({ id: 'ua-1', outcome: 'rejected', reason: 'unassigned' }),
    ]);
    expect((await rejectionRows(d.id)).map((r) => r.reason)).toEqual(['unassigned']);
    expect(await storedCount(d.id, 'ua-1')).toBe(0);
  });

  it('refuses a body over 256 KiB with 413, storing nothing', async () => {
    const d = await newDevice('https-large');
    const big = Buffer.from(JSON.stringify({ ...heartRate('big-1'), pad: 'x'.repeat(256 * 1024) }));
    const res = await post(d, big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await rejectionRows(d.id)).toEqual([]);
    expect(await storedCount(d.id, 'big-1')).toBe(0);
  });
});

describe('POST /api/v1/devices/{id}/readings: credentials', () => {
  it('401 without credentials, with a wrong secret or an unknown device; 403 for another device path', async () => {
    const d = await newDevice('https-auth');
    const other = await newDevice('https-auth-other');
    const reading = heartRate('a-1', 70, Date.now() - MINUTE);

    const none = await postReadings(t.httpUrl, d.id, reading, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(none.body.error.code).toBe('unauthorized');
    const bearer = await postReadings(t.httpUrl, d.id, reading, { authorization: `Bearer ${t.adminToken}` });
    expect(bearer.status).toBe(401);
    const wrong = await postReadings(t.httpUrl, d.id, reading, { deviceId: d.id, secret: `${d.secret}x` });
    expect(wrong.status).toBe(401);
    const unknown = await postReadings(t.httpUrl, 'https-nobody', reading, {
      deviceId: 'https-nobody',
      secret: d.secret,
    });
    expect(unknown.status).toBe(401);
    const path = await postReadings(t.httpUrl, other.id, reading, credentials(d));
    expect(path.status).toBe(403);
    expect(path.body.error.message).toContain(`/api/v1/devices/${d.id}/readings`);

    expect(await storedCount(d.id, 'a-1')).toBe(0);
    expect(await storedCount(other.id, 'a-1')).toBe(0);
    const ok = await post(d, reading);
    expect(ok.status).toBe(200);
  });

  it('refuses a disabled device (403) and a rotated secret (401)', async () => {
    const d = await newDevice('https-revoked');
    expect((await post(d, heartRate('r-1', 70, Date.now() - MINUTE))).status).toBe(200);
    await rotateDeviceSecret(t.db, await t.keys(), d.id, 0);
    // The secret verified by the request above is forgotten on the rotation's notification (src/http/verified-credentials.ts).
    await waitFor(
      async () => (await post(d, heartRate('r-2', 70, Date.now() - MINUTE))).status === 401,
      'the old secret to be refused',
      5_000,
    );

    const e = await newDevice('https-disabled');
    expect((await post(e, heartRate('x-1', 70, Date.now() - MINUTE))).status).toBe(200);
    await disableDevice(t.db, e.id);
    const refused = await post(e, heartRate('x-2', 70, Date.now() - MINUTE));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/disabled/);
    expect(await storedCount(e.id, 'x-2')).toBe(0);
    expect(await storedCount(d.id, 'r-2')).toBe(0);
  });

  it('429 with Retry-After once a device id has failed too often from an address, even with the right secret', async () => {
    const d = await newDevice('https-throttle');
    for (let i = 0; i < 3; i++) {
      expect((await postReadings(t.httpUrl, d.id, heartRate('t-1'), { deviceId: d.id, secret: 'wrong' })).status).toBe(
        401,
      );
    }
    const throttled = await post(d, heartRate('t-1', 70, Date.now() - MINUTE));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('60');
    expect(await storedCount(d.id, 't-1')).toBe(0);
  });
});

describe('POST /api/v1/devices/{id}/readings: the answer means committed', () => {
  it('gives no answer while the insert is blocked, and 200 once the row is committed', async () => {
    const d = await newDevice('https-held');
    const lock = await t.pgClient();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE reading_keys IN ACCESS EXCLUSIVE MODE');
    let answered = false;
    const pending = post(d, heartRate('h-1', 70, Date.now() - MINUTE)).then((res) => {
      answered = true;
      return res;
    });
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      expect(answered).toBe(false);
      expect(await storedCount(d.id, 'h-1')).toBe(0);
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.results[0].outcome).toBe('stored');
    expect(await storedCount(d.id, 'h-1')).toBe(1);
  });
});

describe('device activity', () => {
  it('records that the device last sent over HTTPS, shown in GET /api/v1/devices/{id}', async () => {
    const d = await newDevice('https-activity');
    expect((await post(d, heartRate('act-1', 70, Date.now() - MINUTE))).status).toBe(200);
    const view = await waitFor(
      async () => {
        const res = await t.api.get(`/api/v1/devices/${d.id}`, { token: t.adminToken });
        return res.body.lastTransport === 'https' && res.body;
      },
      'the device activity flush',
      20_000,
    );
    expect(view.lastSeenAt).not.toBeNull();
    expect(view.lastReadingAt).not.toBeNull();
  });
});
