/**
 * The product runs without its tools: an installation as the Dockerfile makes it
 * (bin/, src/, migrations/, package.json and node_modules, no simulators/, scripts/
 * or test/) serves, and its development tools say where to find them.
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startService } from '../../simulators/harness/service-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ROOT } from '../helpers/service.ts';

let database: TestDatabase;
let install: string;
let main: string;

beforeAll(async () => {
  database = await createTestDatabase();
  install = mkdtempSync(path.join(os.tmpdir(), 'vitalink-install-'));
  for (const entry of ['bin', 'src', 'migrations', 'package.json']) {
    cpSync(path.join(ROOT, entry), path.join(install, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(install, 'node_modules'));
  main = path.join(install, 'src', 'main.ts');
});

afterAll(async () => {
  if (install) rmSync(install, { recursive: true, force: true });
  await database?.drop();
});

describe('an installation without simulators/', () => {
  it('starts `vitalink serve` and stops it cleanly', async () => {
    const service = await startService(
      { DATABASE_URL: database.url, VITALINK_DATA_DIR: path.join(install, '.vitalink') },
      { main, cwd: install },
    );
    try {
      expect(service.logs.some((l) => l.msg === 'vitalink started')).toBe(true);
      expect(service.ports.mqtt).toBeGreaterThan(0);
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it('answers `vitalink simulate` and `vitalink bench` with a sentence saying they are development tools', async () => {
    for (const args of [['simulate', '--url', 'mqtt://127.0.0.1:1'], ['bench'], ['simulate', '--help']]) {
      const result = await runCli(args, { DATABASE_URL: database.url }, { main, cwd: install });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/development tool/);
      expect(result.stderr).toMatch(/clone of the repository/);
    }
  });

  it('still runs the admin commands', async () => {
    const result = await runCli(
      ['patients', 'add', '--id', 'no-tools-p1', '--json'],
      { DATABASE_URL: database.url },
      {
        main,
        cwd: install,
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: 'no-tools-p1' });
  });
});
