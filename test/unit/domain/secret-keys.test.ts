import { createHash, createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkSecret } from '../../../src/domain/device-secret.ts';
import {
  DATABASE_KEY_ID,
  KeyRing,
  keyIdOf,
  parseKeyText,
  RehashOnce,
  SecretKey,
} from '../../../src/domain/secret-keys.ts';

const bytesA = randomBytes(32);
const bytesB = randomBytes(48);
const A = new SecretKey(bytesA, 'VITALINK_SECRET_KEY_PREVIOUS');
const B = new SecretKey(bytesB, 'VITALINK_SECRET_KEY');

describe('parseKeyText', () => {
  it('reads base64 (as `openssl rand -base64 32` prints it, or URL-safe, unpadded) and hex', () => {
    for (const text of [
      bytesA.toString('base64'),
      bytesA.toString('base64url'),
      ` ${bytesA.toString('base64')}\n`,
      bytesA.toString('hex'),
      bytesA.toString('hex').toUpperCase(),
    ]) {
      const parsed = parseKeyText(text);
      expect(parsed.ok && parsed.bytes.equals(bytesA), text).toBe(true);
    }
  });

  it('refuses fewer than 32 bytes, or text that is neither, saying how to make a key and never quoting it', () => {
    for (const text of [
      randomBytes(16).toString('base64'),
      'short',
      'not a key at all!',
      randomBytes(31).toString('hex'),
    ]) {
      const parsed = parseKeyText(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) {
        expect(parsed.problem).toContain('openssl rand -base64 32');
        expect(parsed.problem).not.toContain(text);
      }
    }
  });
});

describe('SecretKey', () => {
  it('is named by the first 8 bytes of the SHA-256 of the key, in hex', () => {
    expect(A.id).toBe(createHash('sha256').update(bytesA).digest().subarray(0, 8).toString('hex'));
    expect(keyIdOf(bytesA)).toBe(A.id);
    expect(A.id).toMatch(/^[0-9a-f]{16}$/);
    expect(A.id).not.toBe(B.id);
  });

  it('makes HMAC-SHA256 under the key', () => {
    expect(A.hmac('x').equals(createHmac('sha256', bytesA).update('x').digest())).toBe(true);
  });

  it('never shows its bytes when logged or serialised', () => {
    for (const shown of [JSON.stringify(A), JSON.stringify({ keys: [A] }), inspect(A, { showHidden: true })]) {
      expect(shown).not.toContain(bytesA.toString('hex'));
      expect(shown).not.toContain(bytesA.toString('base64'));
    }
    expect(JSON.parse(JSON.stringify(A))).toEqual({ id: A.id, source: 'VITALINK_SECRET_KEY_PREVIOUS' });
  });
});

describe('KeyRing and checkSecret', () => {
  const secret = Buffer.from('device-secret');
  const ring = new KeyRing(B, [A]);

  it('makes new hashes under the current key and finds every key by id', () => {
    expect(ring.current).toBe(B);
    expect(ring.get(A.id)).toBe(A);
    expect(ring.get(DATABASE_KEY_ID)).toBeUndefined();
    expect(ring.keys).toEqual([B, A]);
    expect(ring.isCurrent(B.id)).toBe(true);
    expect(ring.isCurrent(A.id)).toBe(false);
  });

  it('verifies a hash under the key it names, and says which stored hash matched', () => {
    const underA = { hash: A.hmac(secret), keyId: A.id };
    const underB = { hash: B.hmac(secret), keyId: B.id };
    expect(checkSecret(ring, secret, [underA])).toMatchObject({ ok: true, match: { index: 0, key: A } });
    expect(checkSecret(ring, secret, [{ hash: B.hmac('other'), keyId: B.id }, underB])).toMatchObject({
      ok: true,
      match: { index: 1, key: B },
    });
    // The right hash under the wrong key id does not verify.
    expect(checkSecret(ring, secret, [{ hash: A.hmac(secret), keyId: B.id }])).toEqual({
      ok: false,
      unavailableKeyIds: [],
    });
    expect(checkSecret(ring, Buffer.from('wrong'), [underA, underB])).toEqual({ ok: false, unavailableKeyIds: [] });
  });

  it('reports the keys that are not in the ring: a hash under a removed key cannot verify', () => {
    const onlyB = new KeyRing(B);
    expect(checkSecret(onlyB, secret, [{ hash: A.hmac(secret), keyId: A.id }])).toEqual({
      ok: false,
      unavailableKeyIds: [A.id],
    });
  });
});

describe('RehashOnce', () => {
  it('runs the work of one credential once while it runs, and again after', async () => {
    const once = new RehashOnce();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const work = async () => {
      runs++;
      await gate;
      return true;
    };
    const all = Promise.all(Array.from({ length: 50 }, () => once.run('d1', work)));
    const other = once.run('d2', async () => false);
    release();
    expect(await all).toEqual(Array(50).fill(true));
    expect(await other).toBe(false);
    expect(runs).toBe(1);
    await once.run('d1', work);
    expect(runs).toBe(2);
  });

  it('lets the next attempt run after a failure', async () => {
    const once = new RehashOnce();
    await expect(once.run('d', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await once.run('d', async () => true)).toBe(true);
  });
});
