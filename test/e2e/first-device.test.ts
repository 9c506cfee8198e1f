/**
 * README, "First device in one minute", run as written: its shell blocks, in order,
 * by bash in the checkout, against `vitalink serve` on the same database. Only the
 * ports change (the README's 1883 and 8080 are other programs' on test machines) and
 * the secret placeholder gets the secret the previous block printed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ROOT, type ServiceProcess, startService } from '../helpers/service.ts';

/** The ```sh blocks of the README section `title`, in order. */
function shellBlocks(title: string): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${title}\n`);
  expect(start, `the README has a section "${title}"`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 3);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function bash(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let database: TestDatabase;
let service: ServiceProcess;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await startService({ DATABASE_URL: database.url });
});

afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

describe('README, "First device in one minute"', () => {
  it(
    'works as written: the patient, the device, a reading stored and read back, a rejection seen with mosquitto_sub and fixed',
    { timeout: 120_000 },
    async () => {
      const blocks = shellBlocks('First device in one minute');
      expect(blocks).toHaveLength(5);
      const ports = (text: string) =>
        text
          .replaceAll('-p 1883', `-p ${service.ports.mqtt}`)
          .replaceAll('127.0.0.1:8080', `127.0.0.1:${service.ports.http}`);
      const env: Record<string, string> = { DATABASE_URL: database.url, LOG_LEVEL: 'warn' };

      const provision = await bash(ports(blocks[0]), env);
      expect(provision.code, provision.stderr).toBe(0);
      expect(provision.stdout).toContain('device cuff-42 added, assigned to patient p-0001 from now.');
      const secret = /^secret: (\S+)$/m.exec(provision.stdout)?.[1];
      expect(secret).toBeDefined();

      // The placeholder line is the only one changed: SECRET=<what the block above printed>.
      const publish = blocks[1].replace(/^SECRET=\S+/m, `SECRET='${secret}'`);
      expect(publish).not.toBe(blocks[1]);
      // A person takes more than a second to type the next block; the reading's time is
      // whole seconds, and the device's assignment began at the millisecond it was added.
      await new Promise((r) => setTimeout(r, 1_100));
      const published = await bash(ports(publish), env);
      expect(published.code, published.stderr).toBe(0);

      const read = await bash(ports(blocks[2]), env);
      expect(read.code, read.stderr).toBe(0);
      const page = JSON.parse(read.stdout);
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({
        id: 'r-1',
        deviceId: 'cuff-42',
        patientId: 'p-0001',
        type: 'blood_pressure',
        unit: 'mm[Hg]',
        systolic: 132,
        diastolic: 84,
        pulse: 71,
      });
      // Stamped now by the block: within the last minutes.
      expect(Date.now() - Date.parse(page.items[0].at)).toBeLessThan(10 * 60_000);

      // The same shell session as a person's: SECRET is still set.
      env.SECRET = secret!;
      const rejected = await bash(ports(blocks[3]), env);
      expect(rejected.code, rejected.stderr).toBe(0);
      const rejection = JSON.parse(rejected.stdout.trim());
      expect(rejection).toMatchObject({ id: 'r-0', reason: 'unassigned' });
      expect(rejection.detail).toContain('device cuff-42 was not assigned to a patient at');

      const fixed = await bash(ports(blocks[4]), env);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.stdout).toContain('assigned to patient p-0001');
      expect(fixed.stdout).toContain('extended into this one');
      expect(fixed.stdout).toContain('1 rejection(s) reprocessed: 1 stored');
      const again = JSON.parse((await bash(ports(blocks[2]), env)).stdout);
      expect(again.items.map((r: { id: string }) => r.id).sort()).toEqual(['r-0', 'r-1']);
    },
  );
});
