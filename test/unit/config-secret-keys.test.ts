import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readSecretKeys } from '../../src/config.ts';
import { keyIdOf } from '../../src/domain/secret-keys.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalink-keys-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const A = randomBytes(32);
const B = randomBytes(32);
const C = randomBytes(32);

function keyFile(name: string, text: string, mode = 0o600): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  return file;
}

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('secret keys from the environment (README, "Rotating the key")', () => {
  it('has no key without a setting: the database key is used', () => {
    expect(loadConfig({}).secretKeys).toEqual({ current: undefined, previous: [] });
  });

  it('reads VITALINK_SECRET_KEY and comma-separated VITALINK_SECRET_KEY_PREVIOUS', () => {
    const { secretKeys } = loadConfig({
      VITALINK_SECRET_KEY: A.toString('base64'),
      VITALINK_SECRET_KEY_PREVIOUS: `${B.toString('hex')}, ${C.toString('base64')}`,
    });
    expect(secretKeys.current?.id).toBe(keyIdOf(A));
    expect(secretKeys.current?.source).toBe('VITALINK_SECRET_KEY');
    expect(secretKeys.previous.map((k) => k.id)).toEqual([keyIdOf(B), keyIdOf(C)]);
  });

  it('reads a private key file: the current key first, previous keys after, comments and blank lines skipped', () => {
    const file = keyFile('keys', `# rotated 2026-12-07\n${A.toString('base64')}\n\n${B.toString('base64')}\n`);
    const { secretKeys } = loadConfig({ VITALINK_SECRET_KEY_FILE: file });
    expect(secretKeys.current?.id).toBe(keyIdOf(A));
    expect(secretKeys.previous.map((k) => [k.id, k.source])).toEqual([[keyIdOf(B), 'VITALINK_SECRET_KEY_FILE']]);
  });

  it('refuses a key file that group or others may read, as ssh does, saying how to fix it', () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const file = keyFile(`open-${mode.toString(8)}`, A.toString('base64'), mode);
      const found = problems({ VITALINK_SECRET_KEY_FILE: file });
      expect(found).toHaveLength(1);
      expect(found[0]).toContain('VITALINK_SECRET_KEY_FILE');
      expect(found[0]).toContain(`mode 0${mode.toString(8)}`);
      expect(found[0]).toContain(`chmod 600 ${file}`);
    }
    expect(
      loadConfig({ VITALINK_SECRET_KEY_FILE: keyFile('owner-only', A.toString('base64'), 0o400) }).secretKeys.current
        ?.id,
    ).toBe(keyIdOf(A));
  });

  it('names the setting, says how to make a key and never shows one', () => {
    const short = randomBytes(16).toString('base64');
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ VITALINK_SECRET_KEY: short }, 'VITALINK_SECRET_KEY: must be at least 32 random bytes'],
      [
        { VITALINK_SECRET_KEY: A.toString('base64'), VITALINK_SECRET_KEY_PREVIOUS: short },
        'VITALINK_SECRET_KEY_PREVIOUS: key 1',
      ],
      [{ VITALINK_SECRET_KEY_FILE: keyFile('short', `${A.toString('hex')}\n${short}\n`) }, 'line 2 of'],
      [{ VITALINK_SECRET_KEY_FILE: keyFile('empty', '# nothing yet\n') }, 'holds no key'],
      [{ VITALINK_SECRET_KEY_FILE: path.join(dir, 'missing') }, 'cannot read'],
      [
        { VITALINK_SECRET_KEY: A.toString('base64'), VITALINK_SECRET_KEY_FILE: keyFile('both', A.toString('base64')) },
        'both set',
      ],
      [{ VITALINK_SECRET_KEY_PREVIOUS: A.toString('base64') }, 'need a current key'],
      [{ VITALINK_SECRET_KEY: A.toString('base64'), VITALINK_SECRET_KEY_PREVIOUS: A.toString('hex') }, 'given twice'],
    ];
    for (const [env, expected] of cases) {
      const found = problems(env);
      expect(found.join('\n'), expected).toContain(expected);
      for (const value of Object.values(env)) {
        for (const part of String(value).split(/[,\n]/)) {
          if (part.trim().length >= 16 && !part.startsWith('/')) expect(found.join('\n')).not.toContain(part.trim());
        }
      }
    }
    expect(problems({ VITALINK_SECRET_KEY: short })[0]).toContain('openssl rand -base64 32');
  });

  it('reports key problems with the others, at once', () => {
    const found = readSecretKeys({ VITALINK_SECRET_KEY: 'x', VITALINK_SECRET_KEY_PREVIOUS: 'y' }).problems;
    expect(found).toHaveLength(2);
    expect(problems({ VITALINK_SECRET_KEY: 'x', MQTT_PORT: 'abc' })).toHaveLength(2);
  });
});
