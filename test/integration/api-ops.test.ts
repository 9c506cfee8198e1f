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
