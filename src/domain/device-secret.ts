import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device secrets: 256 random bits, shown once, stored as HMAC-SHA256 under the
 * installation's key and compared in constant time. A slow hash (scrypt,
 * argon2) per CONNECT would turn a reconnect storm into CPU exhaustion, and adds
 * nothing against brute force for secrets this long (architecture.md).
 */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashDeviceSecret(key: Buffer, secret: string | Buffer): Buffer {
  return createHmac('sha256', key).update(secret).digest();
}

export function verifyDeviceSecret(key: Buffer, secret: Buffer, storedHash: Buffer): boolean {
  const candidate = hashDeviceSecret(key, secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}
