/**
 * README, "Running several instances": every instance names itself in its logs,
 * its metrics and its database connections, and writes its figures where every
 * instance reads them, so that the ops view of any instance shows them all and
 * their sum.
 */
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { startService } from '../helpers/service.ts';
import { notifySessionsStarted } from '../../src/store/credential-events.ts';

const t = useTestService({ env: { VITALINK_INSTANCE_ID: 'vitalink-a' } });

async function opsView(token: string, httpUrl = t.httpUrl): Promise<any> {
  const res = await fetch(`${httpUrl}/api/v1/ops/ingestion`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.json();
}

/** Readings stored in the last 15 minutes, from a rate (readings per second over 900 s). */
const stored15m = (rates: { last15m: number }) => Math.round(rates.last15m * 900);

describe('several instances on one database', () => {
  it('lists every instance with its figures and their sum, whichever instance answers', async () => {
    const operator = (await t.createToken('operator')).token;
    const b = await t.startInstance({ VITALINK_INSTANCE_ID: 'vitalink-b' });
    const onA = await t.device('inst-dev-a', 'p-inst');
    const secretB = await t.provisionDevice('inst-dev-b', 'p-inst');
    const onB = await t.connectDevice('inst-dev-b', secretB, {}, `mqtt://127.0.0.1:${b.ports.mqtt}`);
    for (let i = 0; i < 3; i++) await t.publish(onA, 'inst-dev-a', [heartRate(`a${i}`)]);
    for (let i = 0; i < 5; i++) await t.publish(onB, 'inst-dev-b', [heartRate(`b${i}`)]);

    // Instances write their figures every 5 s: wait until b's latest row counts its readings.
    const view = await waitFor(
      async () => {
        const v = await opsView(operator);
        return v.instances.length === 2 && stored15m(v.total.readingsPerSecond) === 8 && v;
      },
      "instance b's figures in instance a's view",
      20_000,
    );
    expect(view.instance).toBe('vitalink-a');
    // The top-level figures stay those of the instance that answered.
    expect(stored15m(view.readingsPerSecond)).toBe(3);
    expect(view.connectedDevices).toBe(1);
    expect(view.instancesUnavailable).toBe(false);
    const [a, bRow] = view.instances;
    expect(a).toMatchObject({ instanceId: 'vitalink-a', live: true, self: true, connectedDevices: 1 });
    expect(bRow).toMatchObject({ instanceId: 'vitalink-b', live: true, self: false, connectedDevices: 1 });
    expect(stored15m(a.readingsPerSecond)).toBe(3);
    expect(stored15m(bRow.readingsPerSecond)).toBe(5);
    expect(view.total).toMatchObject({
      live: 2,
      connectedDevices: 2,
      queue: { rows: 0, bytes: 0, waitingMessages: 0 },
    });
    expect(view.total.ackLatencyP99Ms).toBeGreaterThan(0);

    // Instance b's own view says the same, from its side.
    const fromB = await opsView(operator, `http://127.0.0.1:${b.ports.http}`);
    expect(fromB.instance).toBe('vitalink-b');
    expect(fromB.instances.map((i: any) => [i.instanceId, i.self])).toEqual([
      ['vitalink-a', false],
      ['vitalink-b', true],
    ]);

    // A stopping instance removes its row: it is gone from the view at once.
    await onB.endAsync();
    await b.stop();
    const after = await opsView(operator);
    expect(after.instances.map((i: any) => i.instanceId)).toEqual(['vitalink-a']);
    expect(after.total.live).toBe(1);
  });

  it('shows an instance that stopped reporting as not live, and leaves it out of the sum', async () => {
    const operator = (await t.createToken('operator')).token;
    const { readingsPerSecond: _r, ...own } = await opsView(operator);
    const silentReport = { ...own, readingsPerSecond: { last1s: 0, last1m: 0, last15m: 1 }, connectedDevices: 40 };
    await t.query(
      `INSERT INTO service_instances (instance_id, started_at, reported_at, report)
       VALUES ('vitalink-gone', now() - interval '1 hour', now() - interval '40 seconds', $1)`,
      [JSON.stringify(silentReport)],
    );
    try {
      const view = await opsView(operator);
      const gone = view.instances.find((i: any) => i.instanceId === 'vitalink-gone');
      expect(gone).toMatchObject({ live: false, self: false, connectedDevices: 40 });
      expect(view.total.live).toBe(1);
      expect(view.total.connectedDevices).toBe(view.connectedDevices);
    } finally {
      await t.query(`DELETE FROM service_instances WHERE instance_id = 'vitalink-gone'`);
    }
  });

  it('names the instance in /metrics and in its database connections', async () => {
    const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^vitalink_instance_info\{instance_id="vitalink-a"\} 1$/m);
    const { rows } = await t.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'vitalink:vitalink-a'`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('closes the older session when a device connects to another instance, whichever way it moves', async () => {
    const b = await t.startInstance({ VITALINK_INSTANCE_ID: 'vitalink-b' });
    const secret = await t.provisionDevice('inst-mover', 'p-inst');
    const urlB = `mqtt://127.0.0.1:${b.ports.mqtt}`;
    // Announcements reach every listener in one order: the test listens too, to know when one has gone round.
    const listener = await t.pgClient();
    const heard: Array<{ instance: string; devices: string[] }> = [];
    listener.on('notification', (m) => heard.push(JSON.parse(m.payload ?? '{}')));
    await listener.query('LISTEN vitalink_sessions');
    const announced = (instance: string) =>
      waitFor(
        () => heard.some((n) => n.instance === instance && n.devices.includes('inst-mover')),
        `the session on ${instance} announced`,
      );
    const closed = (client: MqttClient) => {
      const when = new Promise<boolean>((resolve) => client.once('close', () => resolve(true)));
      return () =>
        waitFor(
          () => Promise.race([when, new Promise<false>((r) => setTimeout(() => r(false), 100))]),
          'the older session closed',
        );
    };
    const takenOver = async (httpUrl: string) =>
      Number(
        /^vitalink_connections_closed_total\{reason="taken_over"\} (\d+)$/m.exec(
          await (await fetch(`${httpUrl}/metrics`)).text(),
        )?.[1] ?? 0,
      );

    const onA = await t.connectDevice('inst-mover', secret, { reconnectPeriod: 0 });
    await announced('vitalink-a');
    const aClosed = closed(onA);
    const onB = await t.connectDevice('inst-mover', secret, { reconnectPeriod: 0 }, urlB);
    await aClosed();
    expect(await takenOver(t.httpUrl)).toBe(1);
    // The new session is the one that stays, and its readings are stored.
    await t.publish(onB, 'inst-mover', [heartRate('moved-1')]);
    expect(onB.connected).toBe(true);
    await announced('vitalink-b');

    // Back to the first instance: now the session on b is the older one.
    heard.length = 0;
    const bClosed = closed(onB);
    const again = await t.connectDevice('inst-mover', secret, { reconnectPeriod: 0 });
    await bClosed();
    expect(await takenOver(`http://127.0.0.1:${b.ports.http}`)).toBe(1);
    await t.publish(again, 'inst-mover', [heartRate('moved-2')]);
    expect(again.connected).toBe(true);
    const { rows } = await t.query(`SELECT reading_id FROM readings WHERE device_id = 'inst-mover' ORDER BY 1`);
    expect(rows.map((r) => r.reading_id)).toEqual(['moved-1', 'moved-2']);
    await listener.end();
  });

  it('announces many sessions in payloads PostgreSQL accepts, in order', async () => {
    const listener = await t.pgClient();
    const heard: Array<{ instance: string; devices: string[] }> = [];
    listener.on('notification', (m) => heard.push(JSON.parse(m.payload ?? '{}')));
    await listener.query('LISTEN vitalink_sessions');
    const ids = Array.from({ length: 300 }, (_, i) => `device-${String(i).padStart(3, '0')}-${'x'.repeat(53)}`);
    await notifySessionsStarted(t.db, 'vitalink-test', ids);
    await waitFor(() => heard.flatMap((n) => n.devices).length === 300, 'every announcement');
    expect(heard.length).toBeGreaterThanOrEqual(3);
    expect(heard.every((n) => n.instance === 'vitalink-test')).toBe(true);
    expect(heard.flatMap((n) => n.devices)).toEqual(ids);
    await listener.end();
  });

  it('puts the instance id in every log line of `vitalink serve`, and shows the process in the others’ view', async () => {
    const operator = (await t.createToken('operator')).token;
    const proc = await startService({ DATABASE_URL: t.url, VITALINK_INSTANCE_ID: 'vitalink-proc' });
    try {
      await waitFor(
        async () => (await opsView(operator)).instances.some((i: any) => i.instanceId === 'vitalink-proc' && i.live),
        'the serve process in the ops view',
      );
    } finally {
      expect(await proc.stop()).toBe(0);
    }
    expect(proc.logs.length).toBeGreaterThan(3);
    for (const line of proc.logs) expect(line).toMatchObject({ service: 'vitalink', instance: 'vitalink-proc' });
    expect((await opsView(operator)).instances.map((i: any) => i.instanceId)).toEqual(['vitalink-a']);
  });
});
