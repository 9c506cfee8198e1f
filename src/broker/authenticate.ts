import type { Client } from 'aedes';
import { verifyDeviceSecret } from '../domain/device-secret.ts';
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
  enabled: boolean;
  /** The secret before a rotation, while its grace period lasts (null otherwise). */
  previousSecretHash?: Buffer | null;
}

export interface CredentialStore {
  find(deviceId: string): Promise<StoredCredentials | undefined>;
  key(): Promise<Buffer>;
}

/** The stored hash the presented secret matches: the current one, or the previous one in its grace period. */
export function matchingSecretHash(key: Buffer, password: Buffer, device: StoredCredentials): Buffer | undefined {
  if (verifyDeviceSecret(key, password, device.secretHash)) return device.secretHash;
  if (device.previousSecretHash && verifyDeviceSecret(key, password, device.previousSecretHash)) {
    return device.previousSecretHash;
  }
  return undefined;
}

/**
 * device-protocol.md, "Identity": username = device id, password = secret,
 * client id = device id. Refusals: 4 for unknown device or wrong or missing
 * credentials (not telling which), 5 for a disabled device or a client id that
 * is not the username, or a device certificate whose CN is not the device id
 * (the secret is still required with a certificate: README, "Security", "Device
 * certificates"). Nothing about the secret is logged. Resolves with the
 * stored hash the secret matched, which the broker keeps with the session to
 * close it when that secret stops being valid (src/broker/session-revocation.ts).
 */
export function createAuthenticator(store: CredentialStore, log: Logger, metrics: Metrics) {
  return async function authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    /** The verified device certificate's CN (README, "Security", "Device certificates"); null or absent: none to bind. */
    certificateSubject?: string | null,
  ): Promise<Buffer> {
    const refuse = (code: number, reason: RefusalReason): never => {
      metrics.connectionsRefused.labels(reason).inc();
      log.info({ clientId: client.id, reason }, 'connection refused');
      throw new ConnectRefused(code, reason);
    };
    if (!username || !password || password.length === 0) refuse(BAD_USERNAME_OR_PASSWORD, 'missing_credentials');
    if (!DEVICE_ID_PATTERN.test(username as string)) refuse(BAD_USERNAME_OR_PASSWORD, 'invalid_username');
    // A certificate is a second factor bound to one device: its CN must be the username and the client id.
    if (typeof certificateSubject === 'string' && (certificateSubject !== username || client.id !== username)) {
      refuse(NOT_AUTHORIZED, 'device_cert_mismatch');
    }
    let device: StoredCredentials | undefined;
    let key: Buffer;
    try {
      device = await store.find(username as string);
      key = await store.key();
    } catch (err) {
      log.warn({ err }, 'credential lookup failed');
      metrics.connectionsRefused.labels('database_unavailable').inc();
      throw new ConnectRefused(SERVER_UNAVAILABLE, 'database_unavailable');
    }
    const matched = device ? matchingSecretHash(key!, password as Buffer, device) : undefined;
    if (!device || !matched) refuse(BAD_USERNAME_OR_PASSWORD, device ? 'wrong_secret' : 'unknown_device');
    if (!device!.enabled) refuse(NOT_AUTHORIZED, 'device_disabled');
    if (client.id !== username) refuse(NOT_AUTHORIZED, 'client_id_mismatch');
    return matched!;
  };
}
