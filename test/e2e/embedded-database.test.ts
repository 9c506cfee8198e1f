import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDevice, heartRate } from '../helpers/device.ts';
import { runCli, type ServiceProcess, startService } from '../helpers/service.ts';

// `npm start` with no DATABASE_URL: the service on its embedded PostgreSQL, as the
// role `vitalink` that owns nothing (the superuser migrates), with the CLI working on
// the same database whether or not serve is running.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vitalink-e2e-embedded-'));
const env = { VITALINK_DATA_DIR: dataDir, DATABASE_URL: '' };
const postmasterPid = path.join(dataDir, 'pg', 'postmaster.pid');

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** A client of the running embedded database as `user`: `postgres` owns the tables, `vitalink` is the service's role. */
function embeddedClient(user = 'postgres'): pg.Client {
  const port = Number(readFileSync(postmasterPid, 'utf8').split('\n')[3]);
  return new pg.Client({ connectionString: `postgres://${user}@127.0.0.1:${port}/vitalink` });
}

async function countReadings(id: string): Promise<number> {
  const client = embeddedClient();
  await client.connect();
  try {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM readings WHERE reading_id = $1', [id]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe('the embedded database', () => {
  it(
    'serves, provisions while serving, stores, stops cleanly, and keeps the data for the next start',
    {
      timeout: 120_000,
    },
    async () => {
      // Provisioning before serve ever ran: the CLI starts the database, then stops it.
      const patient = await runCli(['patients', 'add', '--id', 'p-embedded', '--json'], env);
      expect(patient.stderr).toBe('');
      expect(patient.code).toBe(0);
      expect(existsSync(postmasterPid)).toBe(false);

      let service: ServiceProcess = await startService(env);
      try {
        expect(service.ports.mqtt).toBeGreaterThan(0);
        // Bound to loopback by default when the database is embedded.
        expect(service.logs.find((l) => l.listener === 'mqtt')).toMatchObject({ host: '127.0.0.1' });
        // The role split by default (README, "Database roles"): migrated by the superuser, served as `vitalink`.
        expect(service.logs.find((l) => l.msg === 'database roles split')).toMatchObject({
          serviceRole: 'vitalink',
          ownerRole: 'postgres',
        });
        const asService = embeddedClient('vitalink');
        await asService.connect();
        try {
          await expect(asService.query('DELETE FROM audit_log')).rejects.toMatchObject({ code: '42501' });
          await expect(asService.query('DROP TRIGGER audit_log_append_only ON audit_log')).rejects.toMatchObject({
            code: '42501',
          });
        } finally {
          await asService.end();
        }

        // While serve runs, the CLI works on the same (running) database.
        const added = await runCli(['devices', 'add', '--id', 'meter-e2e', '--patient', 'p-embedded', '--json'], env);
        expect(added.code).toBe(0);
        const { id, secret } = JSON.parse(added.stdout);
        expect(id).toBe('meter-e2e');

        const device = await connectDevice(`mqtt://127.0.0.1:${service.ports.mqtt}`, id, secret);
        await device.publishAsync(`v1/devices/${id}/readings`, JSON.stringify(heartRate('emb-1')), { qos: 1 });
        await device.endAsync();
        expect(await countReadings('emb-1')).toBe(1);

        const ready = await fetch(`http://127.0.0.1:${service.ports.http}/readyz`);
        expect(ready.status).toBe(200);

        service.child.kill('SIGTERM');
        expect(await service.exited).toBe(0);
        // The service started the database, so it stopped it.
        expect(existsSync(postmasterPid)).toBe(false);

        // Killed, the service leaves the database running; the next start adopts it.
        service = await startService(env);
        service.child.kill('SIGKILL');
        await service.exited;
        expect(existsSync(postmasterPid)).toBe(true);
        service = await startService(env);
        expect(service.logs.some((l) => l.msg === 'embedded postgres left running by a stopped process, adopted')).toBe(
          true,
        );
        expect(await countReadings('emb-1')).toBe(1);
        service.child.kill('SIGTERM');
        expect(await service.exited).toBe(0);
        expect(existsSync(postmasterPid)).toBe(false);
      } finally {
        service.child.kill('SIGKILL');
      }
    },
  );
});
