import type { Config } from '../config.ts';

/**
 * Throttling of CONNECTs (README, "Security", "Limits on the MQTT listeners"), in
 * the manner of EMQX's flapping detection: counts in a fixed window per key, and a
 * ban for a while once a count reaches its maximum.
 *
 * - failed authentications per source address, and per client id from that
 *   address: a device whose id someone else guesses at from elsewhere is not
 *   locked out (the per-client-id key includes the address);
 * - successful CONNECTs per client id (flapping): only the holder of the secret
 *   can make those, so the ban is by client id alone.
 *
 * Memory is bounded: each table keeps at most `maxEntries` keys, the least
 * recently touched evicted first.
 */

/** The limits of src/config.ts (README, "Limits on the MQTT listeners"), and the tables' size. */
export type ThrottleSettings = Config['listenerLimits']['throttle'] & {
  /** Keys per table (default 100,000: a few MB at most). */
  readonly maxEntries?: number;
};

export type ThrottleVerdict = 'throttled_address' | 'throttled_client' | 'flapping' | undefined;

const DEFAULT_MAX_ENTRIES = 100_000;

interface Entry {
  windowStart: number;
  count: number;
  bannedUntil: number;
}

/** Counts per key in a fixed window, with a ban once the count reaches `max`; at most `maxEntries` keys (LRU). */
export class WindowBans {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #banMs: number;
  readonly #maxEntries: number;

  constructor(max: number, windowMs: number, banMs: number, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#banMs = banMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  banned(key: string, now: number): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && e.bannedUntil > now;
  }

  /** Counts one event; returns true when it starts a ban. */
  hit(key: string, now: number): boolean {
    let e = this.#entries.get(key);
    if (e) this.#entries.delete(key); // re-inserted last: most recently touched
    if (!e || now - e.windowStart >= this.#windowMs) {
      e = { windowStart: now, count: 0, bannedUntil: e?.bannedUntil ?? 0 };
    }
    e.count++;
    let started = false;
    if (e.count >= this.#max && e.bannedUntil <= now) {
      e.bannedUntil = now + this.#banMs;
      started = true;
    }
    this.#entries.set(key, e);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return started;
  }
}

export class ConnectThrottle {
  readonly #byAddress: WindowBans;
  readonly #byClient: WindowBans;
  readonly #flapping: WindowBans;

  constructor(s: ThrottleSettings) {
    const max = s.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#byAddress = new WindowBans(s.authFailuresPerAddress, s.authFailureWindowMs, s.authBanMs, max);
    this.#byClient = new WindowBans(s.authFailuresPerClient, s.authFailureWindowMs, s.authBanMs, max);
    this.#flapping = new WindowBans(s.flappingMaxConnects, s.flappingWindowMs, s.flappingBanMs, max);
  }

  /** Keys held in all tables (bounded by three times maxEntries). */
  get entries(): number {
    return this.#byAddress.size + this.#byClient.size + this.#flapping.size;
  }

  /** Whether a CONNECT is to be refused before its credentials are looked up. */
  check(address: string, clientId: string, now: number): ThrottleVerdict {
    if (this.#byAddress.banned(address, now)) return 'throttled_address';
    if (this.#byClient.banned(clientKey(address, clientId), now)) return 'throttled_client';
    if (this.#flapping.banned(clientId, now)) return 'flapping';
    return undefined;
  }

  /** A CONNECT refused for its credentials (or its device's state). */
  failed(address: string, clientId: string, now: number): void {
    this.#byAddress.hit(address, now);
    this.#byClient.hit(clientKey(address, clientId), now);
  }

  /** A CONNECT accepted; returns true when it starts a flapping ban of the client id. */
  connected(clientId: string, now: number): boolean {
    return this.#flapping.hit(clientId, now);
  }
}

const clientKey = (address: string, clientId: string) => `${address}\u0000${clientId}`;
