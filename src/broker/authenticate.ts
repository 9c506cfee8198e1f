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

export interface CredentialStore {
  find(deviceId: string): Promise<{ secretHash: Buffer; enabled: boolean } | undefined>;
  key(): Promise<Buffer>;
}

/**
 * device-protocol.md, "Identity": username = device id, password = secret,
 * client id = device id. Refusals: 4 for unknown device or wrong or missing
 * credentials (not telling which), 5 for a disabled device or a client id that
 * is not the username. Nothing about the secret is logged.
 */
export function createAuthenticator(store: CredentialStore, log: Logger, metrics: Metrics) {
  return async function authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<void> {
    const refuse = (code: number, reason: RefusalReason): never => {
      metrics.connectionsRefused.labels(reason).inc();
      log.info({ clientId: client.id, reason }, 'connection refused');
      throw new ConnectRefused(code, reason);
    };
    if (!username || !password || password.length === 0) refuse(BAD_USERNAME_OR_PASSWORD, 'missing_credentials');
    if (!DEVICE_ID_PATTERN.test(username as string)) refuse(BAD_USERNAME_OR_PASSWORD, 'invalid_username');
    let device: { secretHash: Buffer; enabled: boolean } | undefined;
    let key: Buffer;
    try {
      device = await store.find(username as string);
      key = await store.key();
    } catch (err) {
      log.warn({ err }, 'credential lookup failed');
      metrics.connectionsRefused.labels('database_unavailable').inc();
      throw new ConnectRefused(SERVER_UNAVAILABLE, 'database_unavailable');
    }
    if (!device || !verifyDeviceSecret(key, password as Buffer, device.secretHash)) {
      refuse(BAD_USERNAME_OR_PASSWORD, device ? 'wrong_secret' : 'unknown_device');
    }
    if (!device!.enabled) refuse(NOT_AUTHORIZED, 'device_disabled');
    if (client.id !== username) refuse(NOT_AUTHORIZED, 'client_id_mismatch');
  };
}
