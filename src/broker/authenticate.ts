import type { Client } from 'aedes';
import { checkSecret } from '../domain/device-secret.ts';
import { type KeyedHash, type KeyRing, RehashOnce } from '../domain/secret-keys.ts';
import { DEVICE_ID_PATTERN } from '../domain/protocol.ts';
import type { RefusalReason } from '../domain/refusal-reasons.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** CONNACK return codes of MQTT 3.1.1 (3.2.2.3) used by device-protocol.md, "Identity". */
export const BAD_USERNAME_OR_PASSWORD = 4;
export const NOT_AUTHORIZED = 5;
export const SERVER_UNAVAILABLE = 3;

export class ConnectRefused extends Error {
  readonly returnCode: number;
  readonly reason: RefusalReason;
  constructor(returnCode: number, reason: RefusalReason) {
    super(reason);
    this.returnCode = returnCode;
    this.reason = reason;
  }
}

export interface StoredCredentials {
  secretHash: Buffer;
  /** The key the hash was made under (src/domain/secret-keys.ts). */
  secretKeyId: string;
  enabled: boolean;
  /** The secret before a rotation, while its grace period lasts (null otherwise). */
  previousSecretHash?: Buffer | null;
  previousSecretKeyId?: string | null;
}

export interface CredentialStore {
  find(deviceId: string): Promise<StoredCredentials | undefined>;
  /** The keys in use (src/actions/secret-keys.ts, resolveKeyRing). */
  keys(): Promise<KeyRing>;
  /** Stores the secret's hash again under the current key, while the stored one is still `from`. */
  rehash(
    deviceId: string,
    slot: 'current' | 'previous',
    from: Buffer,
    to: { hash: Buffer; keyId: string },
  ): Promise<boolean>;
}

/** The stored hashes a presented secret may match: the current one, then the previous one in its grace period. */
export function storedSecrets(device: StoredCredentials): KeyedHash[] {
  const hashes: KeyedHash[] = [{ hash: device.secretHash, keyId: device.secretKeyId }];
  if (device.previousSecretHash && device.previousSecretKeyId) {
    hashes.push({ hash: device.previousSecretHash, keyId: device.previousSecretKeyId });
  }
  return hashes;
}

/**
 * device-protocol.md, "Identity": username = device id, password = secret,
 * client id = device id. Refusals: 4 for unknown device or wrong or missing
 * credentials (not telling which; a secret stored under a key that is no longer
 * configured is refused the same way, and the log says so with the key's id), 5
 * for a disabled device or a client id that is not the username, or a device
 * certificate whose CN is not the device id (the secret is still required with a
 * certificate: README, "Security", "Device certificates"). Nothing about the
 * secret is logged.
 *
 * A secret verified under a key other than the current one is stored again under
 * the current key before the CONNACK (one write per credential: concurrent
 * CONNECTs of the device share it, and the next ones find it under the current
 * key); when that write fails the CONNECT is still accepted and the next one tries
 * again. Resolves with the stored hashes that stand for the secret (the one it
 * matched, and its re-hash), which the broker keeps with the session to close it
 * when that secret stops being valid (src/broker/session-revocation.ts).
 */
export function createAuthenticator(store: CredentialStore, log: Logger, metrics: Metrics) {
  const once = new RehashOnce();
  return async function authenticate(
    /** The MQTT session (its client id); over HTTPS, the device id of the path. */
    client: Pick<Client, 'id'>,
    username: string | undefined,
    password: Buffer | undefined,
    /** The verified device certificate's CN (README, "Security", "Device certificates"); null or absent: none to bind. */
    certificateSubject?: string | null,
  ): Promise<Buffer[]> {
    const refuse = (code: number, reason: RefusalReason, detail: Record<string, unknown> = {}): never => {
      metrics.connectionsRefused.labels(reason).inc();
      log.info({ clientId: client.id, reason, ...detail }, 'connection refused');
      throw new ConnectRefused(code, reason);
    };
    if (!username || !password || password.length === 0) refuse(BAD_USERNAME_OR_PASSWORD, 'missing_credentials');
    if (!DEVICE_ID_PATTERN.test(username as string)) refuse(BAD_USERNAME_OR_PASSWORD, 'invalid_username');
    // A certificate is a second factor bound to one device: its CN must be the username and the client id.
    if (typeof certificateSubject === 'string' && (certificateSubject !== username || client.id !== username)) {
      refuse(NOT_AUTHORIZED, 'device_cert_mismatch');
    }
    let device: StoredCredentials | undefined;
    let keys: KeyRing;
    try {
      device = await store.find(username as string);
      keys = await store.keys();
    } catch (err) {
      log.warn({ err }, 'credential lookup failed');
      metrics.connectionsRefused.labels('database_unavailable').inc();
      throw new ConnectRefused(SERVER_UNAVAILABLE, 'database_unavailable');
    }
    if (!device) return refuse(BAD_USERNAME_OR_PASSWORD, 'unknown_device');
    const check = checkSecret(keys!, password as Buffer, storedSecrets(device));
    if (!check.ok) {
      if (check.unavailableKeyIds.length > 0) {
        refuse(BAD_USERNAME_OR_PASSWORD, 'secret_key_unavailable', { keyIds: check.unavailableKeyIds });
      }
      refuse(BAD_USERNAME_OR_PASSWORD, 'wrong_secret');
    }
    if (!device.enabled) refuse(NOT_AUTHORIZED, 'device_disabled');
    if (client.id !== username) refuse(NOT_AUTHORIZED, 'client_id_mismatch');
    const { match } = check as Extract<typeof check, { ok: true }>;
    if (keys!.isCurrent(match.key.id)) return [match.stored.hash];
    const current = { hash: keys!.current.hmac(password as Buffer), keyId: keys!.current.id };
    const slot = match.index === 0 ? 'current' : 'previous';
    try {
      await once.run(`${username}:${slot}`, async () => {
        const changed = await store.rehash(username as string, slot, match.stored.hash, current);
        if (changed) {
          log.info(
            { clientId: client.id, fromKeyId: match.key.id, toKeyId: current.keyId },
            'device secret re-hashed under the current key',
          );
        }
        return changed;
      });
    } catch (err) {
      log.warn({ err, clientId: client.id }, 'device secret re-hash failed; the next connection tries again');
    }
    return [match.stored.hash, current.hash];
  };
}
