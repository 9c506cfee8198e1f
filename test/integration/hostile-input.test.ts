import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { waitFor } from '../helpers/device.ts';

const t = useTestService();

describe('hostile input from a device', () => {
  it('is recorded and published one by one without bringing the service down', { timeout: 120_000 }, async () => {
    const id = 'flood-1';
    const secret = await t.provisionDevice(id);
    // A persistent session subscribed at QoS 1: Aedes queues every rejection for it.
    const client = await t.connectDevice(id, secret, {
      clean: false,
      keepalive: 60,
    });
    let received = 0;
    client.on('message', () => {
      received++;
    });
    await client.subscribeAsync(`v1/devices/${id}/rejections`, { qos: 1 });
    const messages = 100;
    const payload = JSON.stringify({ readings: Array.from({ length: 1000 }, () => ({})) });
    await Promise.all(
      Array.from({ length: messages }, () => client.publishAsync(`v1/devices/${id}/readings`, payload, { qos: 1 })),
    );
    // Identical messages are one open rejection per distinct content; each was acknowledged.
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM rejections WHERE device_id = $1`, [id]);
    expect(rows[0].n).toBe(1);
    await waitFor(() => received >= 10_000, 'the rejection messages to arrive', 60_000);
    // The service is alive and still ingesting.
    const ready = await fetch(`${t.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    await client.endAsync(true);
  });

  it('records readings with NUL and control characters as rejections and acknowledges them', async () => {
    const id = 'nul-1';
    const secret = await t.provisionDevice(id);
    const client = await t.connectDevice(id, secret);
    const base = { at: Date.now(), value: 70, unit: '/min' };
    await client.publishAsync(
      `v1/devices/${id}/readings`,
      JSON.stringify({
        readings: [
          { ...base, id: 'n1', type: 'heart_rate', context: '\u0000' },
          { ...base, id: 'n2', type: 'x\u0000y' },
          { ...base, id: 'n3', type: 'heart_rate', unit: 'kg\u0000' },
          { ...base, id: 'n4', type: 'heart_rate' },
        ],
      }),
      { qos: 1 },
    );
    await client.publishAsync(`v1/devices/${id}/readings`, Buffer.from('{"id":"\u0000'), { qos: 1 });
    const { rows } = await t.query(
      `SELECT reading_id, reason, detail FROM rejections WHERE device_id = $1 ORDER BY id`,
      [id],
    );
    expect(rows.map((r) => [r.reading_id, r.reason])).toEqual([
      ['n1', 'invalid_reading'],
      ['n2', 'unknown_type'],
      ['n3', 'unit'],
      [null, 'invalid_json'],
    ]);
    for (const r of rows) expect([...r.detail].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    const stored = await t.query(`SELECT reading_id FROM readings WHERE device_id = $1`, [id]);
    expect(stored.rows).toEqual([{ reading_id: 'n4' }]);
    await client.endAsync();
  });
});

describe('patient time zones', () => {
  it('accepts IANA names known to both Node and PostgreSQL, and nothing else', async () => {
    const { addPatient } = await import('../../src/actions/provisioning.ts');
    await expect(addPatient(t.db, { id: 'tz-ok', timeZone: 'America/Santiago' })).resolves.toMatchObject({
      timeZone: 'America/Santiago',
    });
    for (const zone of ['+01:00', 'UTC+1', 'Mars/Olympus', 'Europe/Pariss', '']) {
      await expect(addPatient(t.db, { id: `tz-bad-${zone.length}`, timeZone: zone })).rejects.toThrow(
        /not an IANA time zone/,
      );
    }
  });
});

describe('a message the database refuses as data', () => {
  it('is recorded as rejections and acknowledged, not refused forever', async () => {
    // A zone PostgreSQL does not know, written behind the service's back: every
    // commit of this patient's readings fails with SQLSTATE 22023.
    await t.query(`INSERT INTO patients (id, time_zone) VALUES ('p-broken-tz', 'Nowhere/Atlantis')`);
    const secret = await t.provisionDevice('broken-tz-1', 'p-broken-tz');
    const client = await t.connectDevice('broken-tz-1', secret);
    await client.publishAsync(
      'v1/devices/broken-tz-1/readings',
      JSON.stringify({ id: 'q1', type: 'heart_rate', at: Date.now(), value: 70, unit: '/min' }),
      { qos: 1 },
    );
    const { rows } = await t.query(`SELECT reading_id, reason, detail FROM rejections WHERE device_id = $1`, [
      'broken-tz-1',
    ]);
    expect(rows).toMatchObject([{ reading_id: 'q1', reason: 'invalid_reading' }]);
    expect(rows[0].detail).toMatch(/22023/);
    expect((await t.query(`SELECT 1 FROM readings WHERE device_id = 'broken-tz-1'`)).rowCount).toBe(0);
    await client.endAsync();
  });
});
