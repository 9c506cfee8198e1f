/**
 * README, "Running several instances": two `vitalink serve` processes behind
 * Debian's HAProxy with the shipped deploy/haproxy.cfg. Each device always reaches
 * the same instance; when one is killed its devices move to the other and nothing
 * acknowledged is lost or stored twice; two instances started together on an empty
 * database both come up. The figures of the failover are printed, never asserted.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createScratchDatabase } from '../../simulators/harness/scratch-database.ts';
import { loadToolLimits, type ServiceProcess } from '../../simulators/harness/service-process.ts';
import { MIGRATION_NAMES } from '../../src/store/migrations.ts';
import { useTestDatabase } from '../fixture.ts';
import { connectDevice, StreamingDevice, waitFor } from '../helpers/device.ts';
import { freePort } from '../helpers/free-port.ts';
import { type Backend, startHaproxy } from '../helpers/haproxy.ts';
import { startService } from '../helpers/service.ts';

const t = useTestDatabase();
const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;

async function instance(id: string, ports: Backend, databaseUrl = t.url): Promise<ServiceProcess> {
  return startService({
    ...loadToolLimits(),
    DATABASE_URL: databaseUrl,
    VITALINK_INSTANCE_ID: id,
    MQTT_PORT: String(ports.mqttPort),
    HTTP_PORT: String(ports.httpPort),
    VITALINK_ADMIN_TOKEN: adminToken,
    // HAProxy sends each device's address in a PROXY header (send-proxy-v2).
    VITALINK_TRUSTED_PROXIES: '127.0.0.1',
  });
}

async function backend(): Promise<Backend> {
  return { mqttPort: await freePort(), httpPort: await freePort() };
}

/** The devices with a live session on the instance whose HTTP port this is. */
async function connectedOn(httpPort: number): Promise<Set<string>> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/devices?limit=500`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { items: Array<{ id: string; connected: boolean | null }> };
  return new Set(body.items.filter((d) => d.connected).map((d) => d.id));
}

async function stopAll(...processes: Array<{ stop(): Promise<unknown> } | undefined>): Promise<void> {
  for (const p of processes) await p?.stop().catch(() => {});
}

/** Instances a and b on ports of their own, and HAProxy in front with the shipped configuration. */
async function startPair() {
  const [pa, pb] = [await backend(), await backend()];
  const a = await instance('vitalink-a', pa);
  const b = await instance('vitalink-b', pb).catch(async (e) => {
    await stopAll(a);
    throw e;
  });
  const lb = await startHaproxy(pa, pb).catch(async (e) => {
    await stopAll(a, b);
    throw e;
  });
  return { pa, pb, a, b, lb };
}

describe('two instances behind HAProxy', () => {
  it(
    'sends each device to the same instance on every reconnect, and spreads the devices',
    { timeout: 90_000 },
    async () => {
      const { pa, pb, a, b, lb } = await startPair();
      try {
        const ids = Array.from({ length: 40 }, (_, i) => `lb-route-${String(i).padStart(2, '0')}`);
        const secrets = new Map<string, string>();
        for (const id of ids) secrets.set(id, await t.provisionDevice(id, 'p-lb'));
        const rounds: Array<Map<string, 'a' | 'b'>> = [];
        for (let round = 0; round < 3; round++) {
          const clients = await Promise.all(
            ids.map((id) =>
              connectDevice(`mqtt://127.0.0.1:${lb.mqttPort}`, id, secrets.get(id)!, { reconnectPeriod: 0 }),
            ),
          );
          const [onA, onB] = await Promise.all([connectedOn(pa.httpPort), connectedOn(pb.httpPort)]);
          const holder = new Map<string, 'a' | 'b'>();
          for (const id of ids) {
            expect(onA.has(id) !== onB.has(id), `${id} on exactly one instance`).toBe(true);
            holder.set(id, onA.has(id) ? 'a' : 'b');
          }
          rounds.push(holder);
          await Promise.all(clients.map((c) => c.endAsync()));
          await waitFor(
            async () => (await connectedOn(pa.httpPort)).size + (await connectedOn(pb.httpPort)).size === 0,
            'every session closed',
          );
        }
        expect(rounds[1]).toEqual(rounds[0]);
        expect(rounds[2]).toEqual(rounds[0]);
        const onA = [...rounds[0]!.values()].filter((h) => h === 'a').length;
        console.log(
          `routing: ${onA} of ${ids.length} client ids on instance a, the same on each of 3 rounds of connects`,
        );
        expect(onA).toBeGreaterThan(5);
        expect(onA).toBeLessThan(35);
      } finally {
        await stopAll(lb, a, b);
      }
    },
  );

  it(
    'moves the devices of a killed instance to the other and back, losing and doubling no acknowledged reading',
    { timeout: 120_000 },
    async () => {
      const pair = await startPair();
      const { pa, pb, b, lb } = pair;
      let a: ServiceProcess | undefined = pair.a;
      const devices: StreamingDevice[] = [];
      try {
        for (let i = 0; i < 20; i++) {
          const id = `lb-fail-${String(i).padStart(2, '0')}`;
          devices.push(new StreamingDevice(`mqtt://127.0.0.1:${lb.mqttPort}`, id, await t.provisionDevice(id, 'p-lb')));
        }
        for (const d of devices) d.start(5, 2);
        await waitFor(() => devices.every((d) => d.acked.size >= 50), 'every device streaming', 30_000);
        const onA = await connectedOn(pa.httpPort);
        const moved = devices.filter((d) => onA.has(d.id));
        expect(moved.length).toBeGreaterThan(0);

        const ackedAtKill = new Map(devices.map((d) => [d.id, d.acked.size]));
        const unackedAtKill = moved.reduce((n, d) => n + d.unackedCount, 0);
        const killedAt = Date.now();
        a.child.kill('SIGKILL');
        await a.exited;
        a = undefined;
        // Each moved device gets acknowledgements again, from instance b.
        const resumedAt = new Map<string, number>();
        await waitFor(
          () => {
            for (const d of moved) {
              if (!resumedAt.has(d.id) && d.acked.size > ackedAtKill.get(d.id)! + 20) resumedAt.set(d.id, Date.now());
            }
            return resumedAt.size === moved.length;
          },
          'the moved devices to stream again',
          60_000,
        );
        const onB = await connectedOn(pb.httpPort);
        for (const d of devices) expect(onB.has(d.id), `${d.id} on b`).toBe(true);

        // Instance a returns; the moved devices stay on b until their sessions are cut
        // (README, "Rebalancing"): then they reconnect, and hash to a again.
        a = await instance('vitalink-a', pa);
        await waitFor(
          async () => / vitalink_mqtt \d+ a \S+ 2 /.test(await lb.command('show servers state vitalink_mqtt')),
          'HAProxy to see a up',
          15_000,
        );
        expect([...(await connectedOn(pa.httpPort))]).toEqual([]);
        await lb.command('shutdown sessions server vitalink_mqtt/b');
        await waitFor(
          async () => {
            const back = await connectedOn(pa.httpPort);
            return moved.every((d) => back.has(d.id)) && back.size === moved.length;
          },
          'the moved devices back on a',
          30_000,
        );

        for (const d of devices) await d.stop();
        for (const d of devices) await d.flushUnacked();
        const { rows } = await t.query<{ device_id: string; reading_id: string }>(
          `SELECT device_id, reading_id FROM readings WHERE device_id LIKE 'lb-fail-%'`,
        );
        const stored = new Set(rows.map((r) => `${r.device_id}/${r.reading_id}`));
        const acked = devices.flatMap((d) => [...d.acked].map((id) => `${d.id}/${id}`));
        const lost = acked.filter((k) => !stored.has(k)).length;
        const doubled = rows.length - stored.size;
        const seconds = [...resumedAt.values()].map((at) => (at - killedAt) / 1000).sort((x, y) => x - y);
        console.log(
          `failover: ${moved.length} devices moved, and back after a returned; streaming again after ${seconds[0]!.toFixed(1)}–${seconds.at(-1)!.toFixed(1)} s; ` +
            `${unackedAtKill} readings unacknowledged at the kill, resent; ${acked.length} acknowledged in all; lost ${lost}, doubled ${doubled}`,
        );
        expect(lost).toBe(0);
        expect(doubled).toBe(0);
        expect(stored.size).toBe(acked.length);
      } finally {
        for (const d of devices) await d.close();
        await stopAll(lb, a, b);
      }
    },
  );

  it('starts two instances at once on an empty database: one migrates, both serve', { timeout: 90_000 }, async () => {
    const serverUrl = new URL(t.url);
    serverUrl.pathname = '/postgres';
    const empty = await createScratchDatabase(serverUrl.toString(), { prefix: 'vitalink_lb_empty' });
    const [pa, pb] = [await backend(), await backend()];
    const started = await Promise.allSettled([
      instance('vitalink-a', pa, empty.url),
      instance('vitalink-b', pb, empty.url),
    ]);
    const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      expect(started.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
      for (const p of [pa, pb]) expect((await fetch(`http://127.0.0.1:${p.httpPort}/readyz`)).status).toBe(200);
      const pg = await t.pgClient(empty.url);
      const { rows } = await pg.query<{ name: string }>('SELECT name FROM vitalink_migrations');
      // Applied once each (the table's key would refuse a second row anyway: the count says no run failed on it).
      expect(rows.map((r) => r.name).sort()).toEqual([...MIGRATION_NAMES].sort());
      // Each partition is made once, and said so by the instance that made it.
      const said = running.flatMap((p) =>
        p.logs.filter((l) => l.msg === 'reading partitions created').flatMap((l) => l.partitions as string[]),
      );
      const { rows: made } = await pg.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'readings'::regclass`,
      );
      await pg.end();
      expect(made.length).toBeGreaterThan(3);
      expect([...said].sort()).toEqual(made.map((r) => r.name).sort());
    } finally {
      await stopAll(...running);
      await empty.drop();
    }
  });
});
