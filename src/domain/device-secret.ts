import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyedHash, KeyRing, SecretKey } from './secret-keys.ts';

/**
 * Device secrets: 256 random bits, shown once, stored as HMAC-SHA256 under the
 * current secret key (src/domain/secret-keys.ts) with that key's id, and compared
 * in constant time. A slow hash (scrypt, argon2) per CONNECT would turn a
 * reconnect storm into CPU exhaustion, and adds nothing against brute force for
 * secrets this long (architecture.md).
 */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashDeviceSecret(key: SecretKey, secret: string | Buffer): Buffer {
  return key.hmac(secret);
}

export function verifyDeviceSecret(key: SecretKey, secret: Buffer, storedHash: Buffer): boolean {
  const candidate = hashDeviceSecret(key, secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}

/** Which stored hash a presented secret matched, under which key. */
export interface SecretMatch {
  /** Index in the hashes given (the current secret first, then the previous one in its grace period). */
  readonly index: number;
  readonly stored: KeyedHash;
  readonly key: SecretKey;
}

export type SecretCheck =
  | { readonly ok: true; readonly match: SecretMatch }
  /** `keyIds`: the keys named by stored hashes that are not in the ring (removed): nothing can verify those. */
  | { readonly ok: false; readonly unavailableKeyIds: readonly string[] };

/**
 * Checks a presented secret against stored hashes, each under the key it names.
 * A hash under a key that is not configured any more cannot match: its key id is
 * reported, so that the refusal can say why.
 */
export function checkSecret(ring: KeyRing, presented: Buffer, stored: readonly KeyedHash[]): SecretCheck {
  const unavailable: string[] = [];
  for (const [index, h] of stored.entries()) {
    const key = ring.get(h.keyId);
    if (!key) {
      unavailable.push(h.keyId);
      continue;
    }
    if (verifyDeviceSecret(key, presented, h.hash)) return { ok: true, match: { index, stored: h, key } };
  }
  return { ok: false, unavailableKeyIds: unavailable };
}
