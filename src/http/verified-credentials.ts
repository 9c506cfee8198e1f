import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Device secrets verified lately over HTTPS, so that a device sending every few
 * seconds is not looked up in the database on every request (the lookup halved
 * the rate of single-reading requests: scripts/https-load.ts). It holds what a
 * live MQTT session holds, with the same revocation: an entry is forgotten when
 * the device's credentials change (the NOTIFY of a disable, enable or rotation,
 * src/store/credential-events.ts, on every instance), all of them when that
 * channel was lost, and each after `ttlMs` anyway (VITALINK_SESSION_RECHECK_MS,
 * the live sessions' re-check). A disabled device's readings are refused by the
 * statement that stores them whatever this says. Only a SHA-256 of the secret is
 * kept; at most `maxEntries` devices (the oldest verified forgotten first).
 */
export class VerifiedCredentials {
  readonly #entries = new Map<string, { digest: Buffer; until: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(ttlMs: number, maxEntries = 100_000) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** Whether this device's secret was verified less than `ttlMs` ago and not changed since. */
  has(deviceId: string, secret: Buffer, now: number): boolean {
    const entry = this.#entries.get(deviceId);
    if (!entry) return false;
    if (entry.until <= now) {
      this.#entries.delete(deviceId);
      return false;
    }
    return timingSafeEqual(entry.digest, digest(secret));
  }

  remember(deviceId: string, secret: Buffer, now: number): void {
    this.#entries.delete(deviceId);
    this.#entries.set(deviceId, { digest: digest(secret), until: now + this.#ttlMs });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** The device's credentials changed (or, without an id, any may have): verify again. */
  forget(deviceId?: string): void {
    if (deviceId === undefined) this.#entries.clear();
    else this.#entries.delete(deviceId);
  }
}

const digest = (secret: Buffer) => createHash('sha256').update(secret).digest();
