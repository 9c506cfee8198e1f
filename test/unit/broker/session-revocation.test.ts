import { describe, expect, it } from 'vitest';
import { type LiveSession, revocationOf, SessionRevocation } from '../../../src/broker/session-revocation.ts';
import type { StoredCredentials } from '../../../src/broker/authenticate.ts';
import { createLogger } from '../../../src/logger.ts';

const A = Buffer.alloc(32, 1);
const B = Buffer.alloc(32, 2);

function session(deviceId: string, secretHash: Buffer, closed: string[]): LiveSession {
  return { deviceId, secretHashes: [secretHash], close: (reason) => closed.push(`${deviceId}:${reason}`) };
}

describe('revocationOf', () => {
  it('keeps a session while its device is enabled and its secret is current or in its grace period', () => {
    const s = session('d', A, []);
    expect(revocationOf(s, { secretHash: A, enabled: true })).toBeUndefined();
    expect(revocationOf(s, { secretHash: B, enabled: true, previousSecretHash: A })).toBeUndefined();
  });

  it('ends it when the device is disabled or unknown, or its secret was rotated away', () => {
    const s = session('d', A, []);
    expect(revocationOf(s, { secretHash: A, enabled: false })).toBe('device_disabled');
    expect(revocationOf(s, undefined)).toBe('device_disabled');
    expect(revocationOf(s, { secretHash: B, enabled: true })).toBe('secret_rotated');
    expect(revocationOf(s, { secretHash: B, enabled: true, previousSecretHash: null })).toBe('secret_rotated');
  });

  it('keeps a session whose secret was re-hashed under the current key at CONNECT (README, "Rotating the key")', () => {
    const s: LiveSession = { deviceId: 'd', secretHashes: [A, B], close: () => {} };
    expect(revocationOf(s, { secretHash: B, enabled: true })).toBeUndefined();
    expect(revocationOf(s, { secretHash: A, enabled: true })).toBeUndefined();
    expect(revocationOf(s, { secretHash: Buffer.alloc(32, 3), enabled: true })).toBe('secret_rotated');
  });
});

describe('SessionRevocation', () => {
  it('checks the sessions asked for against the stored credentials, and closes only those that no longer hold', async () => {
    const closed: string[] = [];
    const sessions = [session('ok', A, closed), session('off', A, closed), session('rekeyed', A, closed)];
    const stored = new Map<string, Pick<StoredCredentials, 'secretHash' | 'enabled' | 'previousSecretHash'>>([
      ['ok', { secretHash: A, enabled: true }],
      ['off', { secretHash: A, enabled: false }],
      ['rekeyed', { secretHash: B, enabled: true }],
    ]);
    const asked: string[][] = [];
    const revocation = new SessionRevocation({
      sessions: (ids) => (ids ? sessions.filter((s) => ids.includes(s.deviceId)) : sessions),
      credentials: async (ids) => {
        asked.push([...ids]);
        return stored;
      },
      log: createLogger('silent'),
    });
    expect(await revocation.check(['ok'])).toBe(0);
    expect(await revocation.check()).toBe(2);
    expect(closed).toEqual(['off:device_disabled', 'rekeyed:secret_rotated']);
    expect(asked).toEqual([['ok'], ['ok', 'off', 'rekeyed']]);
  });

  it('closes nothing when the credentials cannot be read (the next check retries)', async () => {
    const closed: string[] = [];
    const revocation = new SessionRevocation({
      sessions: () => [session('d', A, closed)],
      credentials: async () => {
        throw new Error('database unreachable');
      },
      log: createLogger('silent'),
    });
    expect(await revocation.check()).toBe(0);
    expect(closed).toEqual([]);
  });
});
