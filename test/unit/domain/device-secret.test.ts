import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateDeviceSecret, hashDeviceSecret, verifyDeviceSecret } from '../../../src/domain/device-secret.ts';
import { SecretKey } from '../../../src/domain/secret-keys.ts';

const key = new SecretKey(Buffer.alloc(32, 7), 'test');
const otherKey = new SecretKey(Buffer.alloc(32, 8), 'test');

describe('generateDeviceSecret', () => {
  it('is at least 256 random bits in base64url, with no padding', () => {
    const secret = generateDeviceSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
    const bytes = Buffer.from(secret, 'base64url');
    expect(bytes.length * 8).toBeGreaterThanOrEqual(256);
    expect(bytes.toString('base64url')).toBe(secret);
  });

  it('differs every time', () => {
    const secrets = new Set(Array.from({ length: 200 }, () => generateDeviceSecret()));
    expect(secrets.size).toBe(200);
  });
});

describe('hashDeviceSecret', () => {
  it('is HMAC-SHA256 of the secret under the key', () => {
    const hash = hashDeviceSecret(key, 'secret-1');
    expect(hash).toHaveLength(32);
    expect(hash.equals(createHmac('sha256', Buffer.alloc(32, 7)).update('secret-1').digest())).toBe(true);
  });

  it('hashes a string and its UTF-8 bytes alike (devices send the password as bytes)', () => {
    const secret = generateDeviceSecret();
    expect(hashDeviceSecret(key, secret).equals(hashDeviceSecret(key, Buffer.from(secret)))).toBe(true);
  });

  it('gives different hashes under different keys and for different secrets', () => {
    const secret = generateDeviceSecret();
    expect(hashDeviceSecret(key, secret).equals(hashDeviceSecret(otherKey, secret))).toBe(false);
    expect(hashDeviceSecret(key, secret).equals(hashDeviceSecret(key, generateDeviceSecret()))).toBe(false);
  });

  it('does not contain the secret', () => {
    const secret = generateDeviceSecret();
    const hash = hashDeviceSecret(key, secret);
    expect(hash.includes(Buffer.from(secret))).toBe(false);
    expect(hash.toString('base64url')).not.toBe(secret);
  });
});

describe('verifyDeviceSecret', () => {
  const secret = generateDeviceSecret();
  const stored = hashDeviceSecret(key, secret);

  it('accepts the right secret', () => {
    expect(verifyDeviceSecret(key, Buffer.from(secret), stored)).toBe(true);
  });

  it('refuses a wrong secret, a truncated one and an empty one', () => {
    expect(verifyDeviceSecret(key, Buffer.from(generateDeviceSecret()), stored)).toBe(false);
    expect(verifyDeviceSecret(key, Buffer.from(secret.slice(0, -1)), stored)).toBe(false);
    expect(verifyDeviceSecret(key, Buffer.from(`${secret}x`), stored)).toBe(false);
    expect(verifyDeviceSecret(key, Buffer.alloc(0), stored)).toBe(false);
  });

  it('refuses the right secret under another key', () => {
    expect(verifyDeviceSecret(otherKey, Buffer.from(secret), stored)).toBe(false);
  });

  it('refuses, without throwing, a stored hash of the wrong length', () => {
    expect(verifyDeviceSecret(key, Buffer.from(secret), stored.subarray(0, 16))).toBe(false);
    expect(verifyDeviceSecret(key, Buffer.from(secret), Buffer.alloc(0))).toBe(false);
  });
});
