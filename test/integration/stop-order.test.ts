/**
 * README, "Operations", "Stopping": the device side drains first. While the
 * PUBACKs of accepted publishes are still owed, /healthz keeps answering (a load
 * balancer that cuts a server's connections when its health check fails would
 * otherwise cut them before their PUBACKs) and /readyz says 503; HTTP closes after.
 */
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';

const behind = databaseBehindProxy();
// The service reaches PostgreSQL only through the proxy the test controls.
const t = useTestService({ env: behind.env, afterStop: behind.afterStop });

async function status(path: string): Promise<number | 'closed'> {
  try {
    return (await fetch(`${t.httpUrl}${path}`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 'closed';
  }
}

describe('a graceful stop', () => {
  it('keeps /healthz up until the owed PUBACKs are out, with /readyz 503 meanwhile', { timeout: 60_000 }, async () => {
    const client = await t.device('stop-dev', 'p-stop', { reconnectPeriod: 0 });
    behind.proxy.cut();
    let ackedAt = 0;
    const acked = t.publish(client, 'stop-dev', [heartRate('owed-1')]).then(() => (ackedAt = Date.now()));

    // The publish is taken in (it waits in the queue for the database) before the stop begins.
    await waitFor(
      async () => /^vitalink_messages_received_total 1$/m.test(await (await fetch(`${t.httpUrl}/metrics`)).text()),
      'the publish to be received',
    );
    const stopping = t.service.stop();
    await waitFor(async () => (await status('/readyz')) === 503, '/readyz to say the service is draining');
    // Stopping, with a PUBACK owed: alive, not ready, and no new MQTT connection taken.
    expect(await status('/healthz')).toBe(200);
    expect(ackedAt).toBe(0);

    const health: Array<{ at: number; status: number | 'closed' }> = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        health.push({ at: Date.now(), status: await status('/healthz') });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    behind.proxy.restore();
    await acked;
    await stopping;
    polling = false;
    await poll;

    expect(await status('/healthz')).toBe('closed');
    // Every health check before the PUBACK was answered 200.
    const before = health.filter((h) => h.at < ackedAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((h) => h.status === 200)).toBe(true);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM readings WHERE device_id = 'stop-dev'`);
    expect(rows[0].n).toBe(1);
  });
});
