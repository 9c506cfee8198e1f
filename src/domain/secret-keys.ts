import { createHash, createHmac } from 'node:crypto';

/**
 * The keys of the keyed hash (HMAC-SHA256) under which device secrets and API
 * tokens are stored (README, "Security", "Rotating the key"). A key comes from
 * outside the database (VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE; previous
 * keys while a rotation lasts) or, on installations from before that setting,
 * from the database itself (`database`). Each stored hash names the key that made
 * it, by key id.
 */

/** The key id of the key kept in the database (installations from before VITALINK_SECRET_KEY). */
export const DATABASE_KEY_ID = 'database';

/** Shortest key accepted: 256 bits, as the secrets and tokens it protects. */
export const MIN_KEY_BYTES = 32;

export const GENERATE_KEY_HINT = 'generate one with `openssl rand -base64 32`';

/**
 * A key's id: the first 8 bytes of the SHA-256 of the key, in hex. It names the
 * key in the database and in logs and tells nothing about the key itself.
 */
export function keyIdOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest().subarray(0, 8).toString('hex');
}

/**
 * One key. Its bytes are private: logging the object or serialising it to JSON
 * shows its id and where it came from, never the key.
 */
export class SecretKey {
  readonly id: string;
  /** Where it came from: a setting's name, or `database`. */
  readonly source: string;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer, source: string, id: string = keyIdOf(bytes)) {
    this.#bytes = Buffer.from(bytes);
    this.source = source;
    this.id = id;
  }

  /** HMAC-SHA256 of a secret or token under this key. */
  hmac(data: string | Buffer): Buffer {
    return createHmac('sha256', this.#bytes).update(data).digest();
  }

  toJSON(): { id: string; source: string } {
    return { id: this.id, source: this.source };
  }
}

export type KeyParse = { ok: true; bytes: Buffer } | { ok: false; problem: string };

/**
 * A key as written in a setting or a key file: hex (64 digits or more) or base64
 * (standard or URL-safe, padded or not) of at least 32 bytes. The problem never
 * quotes the text.
 */
export function parseKeyText(text: string): KeyParse {
  const t = text.trim();
  let bytes: Buffer;
  // Hex digits only (an even number): hex. Base64 of 32 bytes ends in `=`, so it is never read as hex.
  if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) {
    bytes = Buffer.from(t, 'hex');
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) {
    bytes = Buffer.from(t, 'base64');
  } else {
    return { ok: false, problem: `must be a key in base64 or hex (it is neither); ${GENERATE_KEY_HINT}` };
  }
  if (bytes.length < MIN_KEY_BYTES) {
    return {
      ok: false,
      problem: `must be at least ${MIN_KEY_BYTES} random bytes in base64 or hex (it holds ${bytes.length}); ${GENERATE_KEY_HINT}`,
    };
  }
  return { ok: true, bytes };
}

/**
 * The keys in use: the current one, which makes every new hash, and the others
 * that still verify (previous keys, the database's key). Verification uses the
 * key a hash names; an id not in the ring is a key that was removed.
 */
export class KeyRing {
  readonly current: SecretKey;
  readonly #byId: Map<string, SecretKey>;

  constructor(current: SecretKey, others: readonly SecretKey[] = []) {
    this.current = current;
    this.#byId = new Map([current, ...others].map((k) => [k.id, k]));
  }

  get(id: string): SecretKey | undefined {
    return this.#byId.get(id);
  }

  /** Every key, the current one first. */
  get keys(): SecretKey[] {
    return [...this.#byId.values()];
  }

  isCurrent(id: string): boolean {
    return id === this.current.id;
  }
}

/** A stored hash and the id of the key that made it. */
export interface KeyedHash {
  readonly hash: Buffer;
  readonly keyId: string;
}

/**
 * Runs the re-hash of one credential at most once at a time: a storm of CONNECTs
 * (or requests) of one credential under a previous key makes one write, and the
 * ones after it find the hash under the current key.
 */
export class RehashOnce {
  readonly #running = new Map<string, Promise<boolean>>();

  run(credential: string, work: () => Promise<boolean>): Promise<boolean> {
    const running = this.#running.get(credential);
    if (running) return running;
    const p = work().finally(() => this.#running.delete(credential));
    this.#running.set(credential, p);
    return p;
  }
}
