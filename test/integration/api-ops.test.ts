import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

const t = useTestService();

describe('GET /api/v1/ops/ingestion', () => {
  it('shows throughput, latencies, queue, devices, rejections, aggregation and ports to operators', async () => {
    const secret = await t.provisionDevice('ops-dev-1', 'p-ops');
    const operator = (await t.createToken('operator')).token;
    const clinician = (await t.createToken('clinician', ['p-ops'])).token;
    const client = await t.connectDevice('ops-dev-1', secret);
    for (let i = 0; i < 20; i++) {
      await client.publishAsync('v1/devices/ops-dev-1/readings', JSON.stringify(heartRate(`o${i}`)), { qos: 1 });
    }
    await client.publishAsync('v1/devices/ops-dev-1/readings', JSON.stringify({ ...heartRate('bad'), unit: 'kg' }), {
      qos: 1,
    });
    const url = `${t.httpUrl}/api/v1/ops/ingestion`;
    const read = async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${operator}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as any;
    };
    // Rates count complete seconds: wait for the second of the last commit to end.
    const body = await waitFor(async () => {
      const b = await read();
      return Math.round(b.readingsPerSecond.last15m * 900) === 20 && b;
    }, 'the stored readings to show in the 15-minute rate');
    expect(body.readingsPerSecond.last15m).toBeCloseTo(20 / 900, 6);
    // The last two minutes second by second hold the same 20 readings.
    expect(body.recent.perSecond).toHaveLength(120);
    expect(body.recent.perSecond.reduce((a: number, b: number) => a + b, 0)).toBe(20);
    expect(Date.parse(body.recent.from) % 1000).toBe(0);
    expect(body.readingsPerSecond.last1m).toBeGreaterThanOrEqual(0);
    expect(body.ackLatencyMs.samples).toBe(21);
    expect(body.ackLatencyMs.p99).toBeGreaterThan(0);
    expect(body.batchRows.samples).toBeGreaterThan(0);
    // Stated windows: the last minute and the last five, both holding these 21 messages.
    expect(body.latencyWindows.map((w: any) => [w.seconds, w.ackMs.samples])).toEqual([
      [60, 21],
      [300, 21],
    ]);
    // Fifteen complete clock minutes and the current one, holding the 20 stored readings.
    expect(body.history.minutes).toHaveLength(16);
    expect(body.history.minutes.at(-1).partial).toBe(true);
    expect(body.history.minutes.reduce((a: number, m: any) => a + m.stored, 0)).toBe(20);
    expect(body.history.minutes.reduce((a: number, m: any) => a + m.ackMs.samples, 0)).toBe(21);
    expect(body.queue).toEqual({ rows: 0, bytes: 0, waitingMessages: 0 });
    expect(body.connectedDevices).toBe(1);
    expect(body.rejectionsByReason).toMatchObject({ unit: 1, future: 0 });
    expect(body.listeners).toMatchObject({ mqtt: t.ports.mqtt, http: t.ports.http });
    expect(body.aggregation.lagSeconds).toBeGreaterThanOrEqual(0);

    expect((await fetch(url, { headers: { authorization: `Bearer ${clinician}` } })).status).toBe(403);
    expect((await fetch(url)).status).toBe(401);
    const audit = await t.query(`SELECT count(*)::int AS n FROM audit_log`);
    expect(audit.rows[0].n).toBe(0);
    await client.endAsync();
  });
});

describe('GET /api/v1/ops/storage and /api/v1/ops/devices', () => {
  it("gives the database's size, the partitions of readings with their months and the largest tables", async () => {
    const operator = (await t.createToken('operator')).token;
    const clinician = (await t.createToken('clinician', ['p-ops'])).token;
    const url = `${t.httpUrl}/api/v1/ops/storage`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${operator}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    const { rows } = await t.query<{ bytes: string }>(`SELECT pg_database_size(current_database())::text AS bytes`);
    // Within 10 %: the database keeps being written to.
    expect(Math.abs(body.databaseBytes - Number(rows[0].bytes)) / Number(rows[0].bytes)).toBeLessThan(0.1);
    const { rows: partitions } = await t.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'readings'::regclass ORDER BY 1`,
    );
    expect(partitions.length).toBeGreaterThan(0);
    expect(body.readingPartitions.map((p: any) => p.name)).toEqual(partitions.map((p) => p.name));
    for (const p of body.readingPartitions) {
      const [, y, m] = /^readings_(\d{4})_(\d{2})$/.exec(p.name)!;
      expect(p.from).toBe(new Date(Date.UTC(Number(y), Number(m) - 1, 1)).toISOString());
      expect(p.to).toBe(new Date(Date.UTC(Number(y), Number(m), 1)).toISOString());
      expect(p.bytes).toBeGreaterThan(0);
    }
    expect(body.largestTables.length).toBeGreaterThan(0);
    expect(body.largestTables.length).toBeLessThanOrEqual(8);
    const sizes = body.largestTables.map((x: any) => x.bytes);
    expect(sizes).toEqual([...sizes].sort((a: number, b: number) => b - a));
    expect((await fetch(url, { headers: { authorization: `Bearer ${clinician}` } })).status).toBe(403);
  });

  it('lists devices with connection, last contact, last reading and rejections of the last 24 hours, no patient', async () => {
    const secret = await t.provisionDevice('ops-dev-2', 'p-ops-2');
    await t.provisionDevice('ops-dev-3', 'p-ops-3');
    const operator = (await t.createToken('operator')).token;
    const client = await t.connectDevice('ops-dev-2', secret);
    await client.publishAsync('v1/devices/ops-dev-2/readings', JSON.stringify(heartRate('d2-ok')), { qos: 1 });
    await client.publishAsync('v1/devices/ops-dev-2/readings', JSON.stringify({ ...heartRate('d2-bad'), unit: 'kg' }), {
      qos: 1,
    });
    const read = async (query = '') => {
      const res = await fetch(`${t.httpUrl}/api/v1/ops/devices${query}`, {
        headers: { authorization: `Bearer ${operator}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as any;
    };
    const body = await waitFor(async () => {
      const b = await read();
      const d = b.items.find((x: any) => x.id === 'ops-dev-2');
      return d?.lastReadingAt && d.lastSeenAt && b;
    }, 'the device activity to be recorded');
    const two = body.items.find((x: any) => x.id === 'ops-dev-2');
    expect(two).toMatchObject({ connected: true, enabled: true, lastTransport: 'mqtt', rejectionsLast24h: 1 });
    expect(two.lastRejection.reason).toBe('unit');
    expect(Object.keys(two)).not.toContain('patientId');
    expect(JSON.stringify(body)).not.toContain('p-ops-2');
    const three = body.items.find((x: any) => x.id === 'ops-dev-3');
    expect(three).toMatchObject({ connected: false, lastSeenAt: null, lastReadingAt: null, rejectionsLast24h: 0 });
    // A page at a time, by id.
    const first = await read('?limit=1');
    expect(first.items).toHaveLength(1);
    const second = await read(`?limit=1&cursor=${first.nextCursor}`);
    expect(second.items[0].id > first.items[0].id).toBe(true);
    await client.endAsync();
  });
});
