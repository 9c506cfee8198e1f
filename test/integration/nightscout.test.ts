import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { disableDevice } from '../../src/actions/device-lifecycle.ts';
import { enableNightscout } from '../../src/actions/nightscout.ts';
import { apiSecretHash } from '../../src/domain/nightscout.ts';
import { useTestService } from '../fixture.ts';

/**
 * The Nightscout API v1 subset (README, "Nightscout uploads") against an upload of
 * the shape xDrip+ sends: built from Nightscout's published API description (the
 * entries of its swagger document: type, sgv, date, dateString, direction, device)
 * and the extra fields xDrip+ adds (delta, filtered, unfiltered, rssi, noise,
 * sysTime, utcOffset), in test/fixtures/nightscout/xdrip-upload.json.
 */

const t = useTestService();

interface Entry {
  date: number;
  dateString: string;
  sgv?: number;
  sysTime?: string;
  [key: string]: unknown;
}

/**
 * The recorded upload, moved in time as a whole so that its newest entry was
 * measured 10 minutes ago (the service refuses readings older than 90 days).
 */
function recordedUpload(): Entry[] {
  const recorded = JSON.parse(
    readFileSync(new URL('../fixtures/nightscout/xdrip-upload.json', import.meta.url), 'utf8'),
  ) as Entry[];
  const shift = Date.now() - 10 * 60_000 - Math.max(...recorded.map((e) => e.date));
  return recorded.map((e) => {
    const date = e.date + shift;
    const iso = new Date(date).toISOString();
    return { ...e, date, dateString: iso, sysTime: iso };
  });
}

async function upload(secret: string, body: unknown, how: 'header' | 'token' = 'header') {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (how === 'header') headers['api-secret'] = apiSecretHash(secret);
  const query = how === 'token' ? `?token=${encodeURIComponent(secret)}` : '';
  const res = await fetch(`${t.httpUrl}/api/v1/entries${query}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function list(path: string, secret: string | null) {
  const res = await fetch(`${t.httpUrl}/api/v1/${path}`, {
    headers: secret ? { 'api-secret': apiSecretHash(secret) } : {},
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function cgmReadings(deviceId: string) {
  const { rows } = await t.query<{ reading_id: string; value: number; measured_at: Date; patient_id: string }>(
    `SELECT reading_id, value, measured_at, patient_id FROM readings WHERE device_id = $1 AND type = 'cgm_glucose' ORDER BY measured_at`,
    [deviceId],
  );
  return rows;
}

async function enabled(patientId: string, deviceId: string): Promise<string> {
  await t.provisionDevice(deviceId, patientId);
  const { secret } = await enableNightscout(t.db, await t.keys(), { patientId, deviceId }, new Date());
  return secret;
}

describe('POST /api/v1/entries (Nightscout API v1)', () => {
  it('stores a recorded xDrip+ upload as cgm_glucose readings; replayed twice, each entry is stored once', async () => {
    const secret = await enabled('ns-patient-1', 'ns-cgm-1');
    const entries = recordedUpload();

    const first = await upload(secret, entries);
    expect(first.status).toBe(200);
    expect(first.body.map((e: any) => [e._id, e.sgv, e.date])).toEqual(
      entries.map((e) => [`ns:${e.date}`, e.sgv, e.date]),
    );
    const stored = await cgmReadings('ns-cgm-1');
    expect(stored.map((r) => [r.reading_id, r.value, r.measured_at.getTime(), r.patient_id])).toEqual(
      entries.map((e) => [`ns:${e.date}`, e.sgv, e.date, 'ns-patient-1']),
    );

    for (let replay = 0; replay < 2; replay++) {
      const again = await upload(secret, entries);
      expect(again.status).toBe(200);
      expect(again.body).toHaveLength(entries.length);
    }
    expect(await cgmReadings('ns-cgm-1')).toHaveLength(entries.length);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM rejections WHERE device_id = 'ns-cgm-1'`);
    expect(rows[0].n).toBe(0);
  });

  it('never turns a zero or missing sgv into something else: rejected and recorded with the entry as sent', async () => {
    const secret = await enabled('ns-patient-2', 'ns-cgm-2');
    const [a, b, c] = recordedUpload().slice(-3);
    const zero = { ...a, sgv: 0 };
    const missing = { ...b };
    delete missing.sgv;
    const res = await upload(secret, [zero, missing, c], 'token');
    expect(res.status).toBe(200);
    expect(res.body.map((e: any) => e._id)).toEqual([`ns:${c.date}`]);
    expect((await cgmReadings('ns-cgm-2')).map((r) => r.reading_id)).toEqual([`ns:${c.date}`]);
    const { rows } = await t.query<{ reading_id: string; reason: string; raw: Buffer }>(
      `SELECT reading_id, reason, raw FROM rejections WHERE device_id = 'ns-cgm-2' ORDER BY reading_id`,
    );
    expect(rows.map((r) => [r.reading_id, r.reason])).toEqual([
      [`ns:${zero.date}`, 'out_of_range'],
      [`ns:${missing.date}`, 'invalid_reading'],
    ]);
    expect(JSON.parse(rows[0].raw.toString('utf8')).nightscout).toEqual(zero);
    expect(JSON.parse(rows[1].raw.toString('utf8')).nightscout).toEqual(missing);
  });

  it('refuses a missing or wrong secret (401) and the uploads of a disabled device (403)', async () => {
    const secret = await enabled('ns-patient-3', 'ns-cgm-3');
    const entries = recordedUpload().slice(-1);
    const none = await fetch(`${t.httpUrl}/api/v1/entries`, { method: 'POST', body: JSON.stringify(entries) });
    expect(none.status).toBe(401);
    expect((await upload(`${secret}x`, entries)).status).toBe(401);
    expect((await list('entries.json', `${secret}x`)).status).toBe(401);
    await disableDevice(t.db, 'ns-cgm-3');
    expect((await upload(secret, entries)).status).toBe(403);
    expect(await cgmReadings('ns-cgm-3')).toEqual([]);
  });

  it('enable without --device makes nightscout-<patient>, assigned from now; a new enable replaces the secret', async () => {
    await t.addPatient('ns-patient-4');
    const first = await enableNightscout(t.db, await t.keys(), { patientId: 'ns-patient-4' }, new Date());
    expect(first).toMatchObject({ deviceId: 'nightscout-ns-patient-4', deviceCreated: true });
    const second = await enableNightscout(t.db, await t.keys(), { patientId: 'ns-patient-4' }, new Date());
    expect(second.deviceCreated).toBe(false);
    const now = Date.now();
    const entry = { type: 'sgv', sgv: 120, date: now, dateString: new Date(now).toISOString(), device: 'xDrip' };
    expect((await upload(first.secret, [entry])).status).toBe(401);
    const res = await upload(second.secret, entry);
    expect(res.status).toBe(200);
    expect((await cgmReadings('nightscout-ns-patient-4')).map((r) => r.value)).toEqual([120]);
  });
});

describe('GET /api/v1/entries.json and /entries/sgv.json', () => {
  it("gives the patient's CGM readings newest first, count and find[date] applied, with a computed direction", async () => {
    const secret = await enabled('ns-patient-5', 'ns-cgm-5');
    const entries = recordedUpload();
    expect((await upload(secret, entries)).status).toBe(200);

    const latest = await list('entries.json?count=3', secret);
    expect(latest.status).toBe(200);
    const newest = entries.slice(-3).reverse();
    expect(latest.body).toEqual(
      newest.map((e) => ({
        _id: `ns:${e.date}`,
        type: 'sgv',
        sgv: e.sgv,
        date: e.date,
        dateString: new Date(e.date).toISOString(),
        direction: expect.any(String),
        device: 'ns-cgm-5',
      })),
    );
    // 186 → 179 in 5 min: -1.4 mg/dL/min; 182 → 186: +0.8; 168 → 182: +2.8.
    expect(latest.body.map((e: any) => e.direction)).toEqual(['FortyFiveDown', 'Flat', 'SingleUp']);

    const since = await list(`entries/sgv.json?count=100&find[date][$gte]=${entries[4].date}`, secret);
    expect(since.body.map((e: any) => e.sgv)).toEqual([179, 186]);
    const oldest = await list(`entries/sgv.json?count=100&find[date][$lt]=${entries[1].date}`, secret);
    expect(oldest.body.map((e: any) => [e.sgv, e.direction])).toEqual([[142, 'NOT COMPUTABLE']]);

    const { rows } = await t.query(
      `SELECT principal, action, outcome FROM audit_log WHERE patient_id = 'ns-patient-5' ORDER BY id`,
    );
    expect(rows).toEqual([
      { principal: 'nightscout:ns-cgm-5', action: 'GET /api/v1/entries.json', outcome: 'allowed' },
      { principal: 'nightscout:ns-cgm-5', action: 'GET /api/v1/entries/sgv.json', outcome: 'allowed' },
      { principal: 'nightscout:ns-cgm-5', action: 'GET /api/v1/entries/sgv.json', outcome: 'allowed' },
    ]);
  });
});
