import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { StreamingDevice, waitFor } from '../helpers/device.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';

const behind = databaseBehindProxy();
// The service reaches PostgreSQL only through the proxy the test controls.
const t = useTestService({ env: behind.env, afterStop: behind.afterStop });

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('PostgreSQL unreachable mid-stream', () => {
  it('loses no acknowledged reading, stores none twice, and recovers without a restart', async () => {
    const url = t.mqttUrl;
    const devices: StreamingDevice[] = [];
    for (let i = 0; i < 4; i++) {
      const id = `outage-dev-${i}`;
      devices.push(new StreamingDevice(url, id, await t.provisionDevice(id)));
    }
    for (const d of devices) d.start(10, 4);
    await waitFor(() => devices.every((d) => d.acked.size >= 100), 'the stream to get going');

    behind.proxy.cut();
    const ackedAtCut = new Map(devices.map((d) => [d.id, d.acked.size]));
    await new Promise((r) => setTimeout(r, 3_000));
    // While the database is away, nothing new is acknowledged (a few PUBACKs of
    // batches that committed just before the cut may still arrive).
    const ackedDuringOutage = devices.reduce((n, d) => n + d.acked.size - (ackedAtCut.get(d.id) ?? 0), 0);
    expect(ackedDuringOutage).toBeLessThan(200);
    const ready = await fetch(`${t.httpUrl}/readyz`);
    expect(ready.status).toBe(503);

    behind.proxy.restore();
    await waitFor(
      () => devices.every((d) => d.acked.size > (ackedAtCut.get(d.id) ?? 0) + 100),
      'the stream to resume after the database came back',
      30_000,
    );
    for (const d of devices) await d.stop();
    for (const d of devices) await d.flushUnacked();

    const { rows } = await t.query<{ device_id: string; reading_id: string }>(
      `SELECT device_id, reading_id FROM readings WHERE device_id LIKE 'outage-dev-%'`,
    );
    const stored = new Set(rows.map((r) => `${r.device_id}/${r.reading_id}`));
    expect(stored.size).toBe(rows.length); // no reading stored twice
    let sent = 0;
    for (const d of devices) {
      for (const id of d.acked) expect(stored.has(`${d.id}/${id}`)).toBe(true);
      for (const id of d.sent.keys()) expect(stored.has(`${d.id}/${id}`)).toBe(true);
      sent += d.sent.size;
    }
    expect(rows.length).toBe(sent);
    expect(await metric('vitalink_batch_write_errors_total\\{retryable="true"\\}')).toBeGreaterThan(0);
    expect((await fetch(`${t.httpUrl}/readyz`)).status).toBe(200);
    for (const d of devices) await d.close();
  });
});
