/**
 * `npm start`, the `vitalink` command and `npm install` check Node.js before anything
 * else. No old Node.js is installed for the tests, so they run this Node.js with
 * process.versions.node made to say an older version before the launcher reads it
 * (node --import): what is checked is that the launcher reads it, stops with the
 * minimum and the fixing command, and does not load the TypeScript sources.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/service.ts';

function runNode(version: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fake = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:${JSON.stringify(version)}})`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', fake, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: 'postgres://127.0.0.1:1/never' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the Node.js check before anything else', () => {
  it.each(['20.18.0', '22.18.0'])(
    'bin/vitalink.js serve (npm start) on Node.js %s: the minimum and the fix, exit 2',
    async (version) => {
      const run = await runNode(version, ['bin/vitalink.js', 'serve']);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`vitalink: Node.js ${version} cannot run Vitalink: it needs Node.js 22.22 or newer`);
      expect(run.stderr).toContain('. scripts/ensure-node.sh');
      // Neither the sources nor the service were loaded: no database was tried.
      expect(run.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
      expect(run.stderr).not.toContain('database');
    },
  );

  it('bin/check-node.js (the preinstall of npm install) stops the install the same way', async () => {
    const run = await runNode('20.18.0', ['bin/check-node.js']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('it needs Node.js 22.22 or newer');
  });

  it('on a supported version the launcher runs the command', async () => {
    const run = await runNode('22.22.0', ['bin/vitalink.js', 'devices', 'add', '--help']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('vitalink devices add: provisions a device');
    expect((await runNode('22.22.0', ['bin/check-node.js'])).code).toBe(0);
  });
});
