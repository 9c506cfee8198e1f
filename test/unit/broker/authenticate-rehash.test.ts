import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { ConnectRefused, createAuthenticator, type StoredCredentials } from '../../../src/broker/authenticate.ts';
import { KeyRing, SecretKey } from '../../../src/domain/secret-keys.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';

const A = new SecretKey(Buffer.alloc(32, 1), 'previous');
const B = new SecretKey(Buffer.alloc(32, 2), 'current');
const SECRET = Buffer.from('the-secret');

/** An in-memory credential store that counts its writes, as the database's conditional UPDATE does. */
function store(device: StoredCredentials, keys: KeyRing) {
  const writes: string[] = [];
  return {
    writes,
    device,
    find: async () => ({ ...device }),
    keys: async () => keys,
    rehash: async (_id: string, slot: 'current' | 'previous', from: Buffer, to: { hash: Buffer; keyId: string }) => {
      await new Promise((r) => setTimeout(r, 5));
      writes.push(slot);
      if (slot === 'current' && device.secretHash.equals(from)) {
        device.secretHash = to.hash;
        device.secretKeyId = to.keyId;
        return true;
      }
      return false;
    },
  };
}

const client = { id: 'dev-1' } as Client;

describe('createAuthenticator under a key rotation', () => {
  it('accepts a secret under a previous key and re-hashes it once for a storm of concurrent CONNECTs', async () => {
    const s = store({ secretHash: A.hmac(SECRET), secretKeyId: A.id, enabled: true }, new KeyRing(B, [A]));
    const authenticate = createAuthenticator(s, createLogger('silent'), createMetrics());
    const results = await Promise.all(Array.from({ length: 30 }, () => authenticate(client, 'dev-1', SECRET)));
    expect(s.writes).toEqual(['current']);
    expect(s.device.secretKeyId).toBe(B.id);
    // Each session keeps the matched hash and its re-hash (src/broker/session-revocation.ts).
    for (const hashes of results)
      expect(hashes.map((h) => h.toString('hex'))).toEqual(
        [A.hmac(SECRET), B.hmac(SECRET)].map((h) => h.toString('hex')),
      );
    // Later CONNECTs find it under the current key: no write.
    expect(await authenticate(client, 'dev-1', SECRET)).toEqual([B.hmac(SECRET)]);
    expect(s.writes).toHaveLength(1);
  });

  it('refuses a secret under a key that is not configured with CONNACK 4, and a wrong one the same way', async () => {
    const metrics = createMetrics();
    const s = store({ secretHash: A.hmac(SECRET), secretKeyId: A.id, enabled: true }, new KeyRing(B));
    const authenticate = createAuthenticator(s, createLogger('silent'), metrics);
    const refused = await authenticate(client, 'dev-1', SECRET).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectRefused);
    expect(refused).toMatchObject({ returnCode: 4, reason: 'secret_key_unavailable' });
    const s2 = store({ secretHash: B.hmac(SECRET), secretKeyId: B.id, enabled: true }, new KeyRing(B));
    const wrong = await createAuthenticator(s2, createLogger('silent'), metrics)(
      client,
      'dev-1',
      Buffer.from('x'),
    ).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ returnCode: 4, reason: 'wrong_secret' });
    expect(s.writes).toEqual([]);
  });

  it('still accepts the CONNECT when the re-hash fails; the next one tries again', async () => {
    const s = store({ secretHash: A.hmac(SECRET), secretKeyId: A.id, enabled: true }, new KeyRing(B, [A]));
    let fail = true;
    const rehash = s.rehash;
    s.rehash = async (...args) => {
      if (fail) throw new Error('database down');
      return rehash(...args);
    };
    const authenticate = createAuthenticator(s, createLogger('silent'), createMetrics());
    expect(await authenticate(client, 'dev-1', SECRET)).toHaveLength(2);
    expect(s.device.secretKeyId).toBe(A.id);
    fail = false;
    await authenticate(client, 'dev-1', SECRET);
    expect(s.device.secretKeyId).toBe(B.id);
  });
});
