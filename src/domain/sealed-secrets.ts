import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing, SecretKey } from './secret-keys.ts';

/**
 * Secrets the service must use again, not only check (a webhook's signing secret),
 * stored sealed: AES-256-GCM under a key derived from the service's secret key
 * (HMAC of a fixed label under it), so that a copy of the database without
 * VITALINK_SECRET_KEY does not give them away. The sealed bytes are IV (12) | tag
 * (16) | ciphertext, and name the key they are under by its id, so that they still
 * open while that key is a previous one (README, "Rotating the key"). `context`
 * (the channel's team and URL) is bound as associated data: a sealed secret copied
 * to another row does not open.
 */

const LABEL = 'vitalink sealed secret v1';

function derive(key: SecretKey): Buffer {
  return key.hmac(LABEL);
}

export interface Sealed {
  readonly sealed: Buffer;
  readonly keyId: string;
}

export function sealSecret(key: SecretKey, secret: string, context: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(key), iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { sealed: Buffer.concat([iv, cipher.getAuthTag(), body]), keyId: key.id };
}

export type Opened = { ok: true; secret: string } | { ok: false; problem: string };

export function openSecret(ring: KeyRing, sealed: Sealed, context: string): Opened {
  const key = ring.get(sealed.keyId);
  if (!key) {
    return {
      ok: false,
      problem: `the webhook secret is under secret key ${sealed.keyId}, which is not configured: configure it again as a previous key (VITALINK_SECRET_KEY_PREVIOUS), or remove the channel and add it again`,
    };
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', derive(key), sealed.sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.sealed.subarray(12, 28));
    const secret = Buffer.concat([decipher.update(sealed.sealed.subarray(28)), decipher.final()]).toString('utf8');
    return { ok: true, secret };
  } catch {
    return {
      ok: false,
      problem: 'the webhook secret does not open (altered in the database?): remove the channel and add it again',
    };
  }
}
