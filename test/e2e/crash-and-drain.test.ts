import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../fixture.ts';
import { StreamingDevice, waitFor } from '../helpers/device.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ServiceProcess, startService } from '../helpers/service.ts';

const database = useTestDatabase();

async function storedIds(prefix: string): Promise<{ ids: Set<string>; rows: number }> {
  const { rows } = await database.query<{ device_id: string; reading_id: string }>(
    `SELECT device_id, reading_id FROM readings WHERE device_id LIKE $1`,
    [`${prefix}%`],
  );
  return { ids: new Set(rows.map((r) => `${r.device_id}/${r.reading_id}`)), rows: rows.length };
}

async function fleet(prefix: string, url: string, n: number): Promise<StreamingDevice[]> {
  const devices: StreamingDevice[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}${i}`;
    devices.push(new StreamingDevice(url, id, await database.provisionDevice(id)));
  }
  return devices;
}

describe('the service process', () => {
  it(
    'killed with SIGKILL mid-stream loses no acknowledged reading; after resends every reading is stored once',
    {
      timeout: 120_000,
    },
    async () => {
      const mqttPort = await freePort();
      const env = { DATABASE_URL: database.url, MQTT_PORT: String(mqttPort) };
      let service: ServiceProcess = await startService(env);
      const devices = await fleet('kill-', `mqtt://127.0.0.1:${mqttPort}`, 4);
      try {
        for (const d of devices) d.start(5, 8);
        await waitFor(() => devices.every((d) => d.acked.size >= 300), 'the devices to stream', 30_000);

        service.child.kill('SIGKILL');
        await service.exited;
        const ackedAtKill = devices.map((d) => new Set(d.acked));
        for (const d of devices) await d.stop();

        // Every reading whose PUBACK a device received is in the table.
        const afterKill = await storedIds('kill-');
        expect(afterKill.ids.size).toBe(afterKill.rows);
        devices.forEach((d, i) => {
          for (const id of ackedAtKill[i]) expect(afterKill.ids.has(`${d.id}/${id}`)).toBe(true);
        });
        const unacked = devices.reduce((n, d) => n + d.unackedCount, 0);
        expect(unacked).toBeGreaterThan(0); // the kill did land mid-stream

        // Restart on the same port; the devices resend what was never acknowledged.
        service = await startService(env);
        for (const d of devices) await d.flushUnacked();
        const final = await storedIds('kill-');
        expect(final.ids.size).toBe(final.rows);
        const sent = devices.reduce((n, d) => n + d.sent.size, 0);
        expect(final.rows).toBe(sent);
        for (const d of devices) for (const id of d.sent.keys()) expect(final.ids.has(`${d.id}/${id}`)).toBe(true);
      } finally {
        for (const d of devices) await d.close();
        service.child.kill('SIGTERM');
        await service.exited;
      }
    },
  );

  it(
    'stopped with SIGTERM mid-stream drains: what it committed is acknowledged, nothing else, and it exits 0',
    {
      timeout: 120_000,
    },
    async () => {
      const service = await startService({ DATABASE_URL: database.url });
      const devices = await fleet('term-', `mqtt://127.0.0.1:${service.ports.mqtt}`, 4);
      try {
        for (const d of devices) d.start(5, 8);
        await waitFor(() => devices.every((d) => d.acked.size >= 300), 'the devices to stream', 30_000);

        service.child.kill('SIGTERM');
        const code = await service.exited;
        for (const d of devices) await d.stop();
        expect(code).toBe(0);
        expect(service.logs.some((l) => l.msg === 'batcher drained, every committed message acknowledged')).toBe(true);
        expect(service.logs.at(-1)).toMatchObject({ msg: 'vitalink stopped', drained: true });

        // Acknowledged exactly what it stored: no acknowledged reading is missing,
        // and no stored reading was left without its PUBACK.
        const stored = await storedIds('term-');
        const acked = new Set(devices.flatMap((d) => [...d.acked].map((id) => `${d.id}/${id}`)));
        expect(stored.ids.size).toBe(stored.rows);
        expect([...acked].filter((k) => !stored.ids.has(k))).toEqual([]);
        expect([...stored.ids].filter((k) => !acked.has(k))).toEqual([]);
      } finally {
        for (const d of devices) await d.close();
        service.child.kill('SIGKILL');
      }
    },
  );
});
