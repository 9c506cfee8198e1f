import type { FastifyRequest } from 'fastify';
import { normalizeIP } from '@fastify/rate-limit';
import { BAD_USERNAME_OR_PASSWORD, ConnectRefused, SERVER_UNAVAILABLE } from '../broker/authenticate.ts';
import type { ThrottleVerdict } from '../broker/connect-throttle.ts';
import { AppError } from '../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { VerifiedCredentials } from './verified-credentials.ts';

/** How long a device is told to wait before trying again while the database is unreachable. */
export const DATABASE_RETRY_AFTER_S = 5;

export interface DeviceAuthDeps {
  /**
   * The broker's CONNECT check (src/broker/authenticate.ts, createAuthenticator):
   * the same key ring, the same refusals, the same re-hash under the current key.
   */
  readonly authenticate: (client: { id: string }, username: string, password: Buffer) => Promise<unknown>;
  /** The broker's throttle of failed authentications (src/broker/connect-throttle.ts): one count for both transports. */
  readonly throttle: {
    check(address: string, clientId: string, now: number): ThrottleVerdict;
    failed(address: string, clientId: string, now: number): void;
  };
  /** How long a throttled address or device id is refused (VITALINK_MQTT_AUTH_BAN_S), for Retry-After. */
  readonly banSeconds: number;
  readonly metrics: Metrics;
  readonly now: () => number;
  /** Secrets verified lately (src/http/verified-credentials.ts); none: every request is looked up. */
  readonly verified?: VerifiedCredentials;
}

/** The realm of the Basic challenge of a 401. */
export const DEVICE_REALM = 'Basic realm="vitalink devices", charset="UTF-8"';

/**
 * The device of an HTTPS request (device-protocol.md, "Over HTTPS"), checked as a
 * CONNECT (device-protocol.md, "Identity"): `Authorization: Basic` with the device
 * id and secret. The refusals map the CONNACK codes: 4 (bad user name or
 * password) is a 401, 5 (not authorized: a disabled device) a 403, 3 (server
 * unavailable: the credential lookup failed) a 503 with Retry-After. A failed
 * authentication counts against the source address and the device id from that
 * address, as a failed CONNECT does, and both throttles answer 429 with
 * Retry-After before the credentials are looked up. Reconnect storms (flapping)
 * are an MQTT matter: each HTTPS request is not a new session. A secret verified
 * lately is not looked up again (`verified`), as a live MQTT session is not.
 */
export async function authenticateDevice(deps: DeviceAuthDeps, request: FastifyRequest): Promise<string> {
  const credentials = basicCredentials(request.headers.authorization);
  if (!credentials) {
    deps.metrics.connectionsRefused.labels('missing_credentials').inc();
    throw new AppError(
      'unauthorized',
      'send the device id and secret as "Authorization: Basic base64(id:secret)" (the secret printed by `vitalink devices add`)',
    );
  }
  const address = normalizeIP(request.ip);
  const { username, password } = credentials;
  const throttled = deps.throttle.check(address, username, deps.now());
  if (throttled) {
    deps.metrics.connectionsRefused.labels(throttled).inc();
    request.log.info({ reason: throttled }, 'device request refused');
    throw new AppError(
      'rate_limited',
      `too many refused device credentials from this address lately; try again in ${deps.banSeconds} s`,
      { retryAfterSeconds: deps.banSeconds },
    );
  }
  if (deps.verified?.has(username, password, deps.now())) return username;
  try {
    await deps.authenticate({ id: username }, username, password);
    deps.verified?.remember(username, password, deps.now());
    return username;
  } catch (error) {
    if (!(error instanceof ConnectRefused)) throw error;
    if (error.returnCode === SERVER_UNAVAILABLE) {
      throw new AppError(
        'unavailable',
        `the service cannot reach its database now; send the readings again in ${DATABASE_RETRY_AFTER_S} s`,
        { retryAfterSeconds: DATABASE_RETRY_AFTER_S },
      );
    }
    deps.throttle.failed(address, username, deps.now());
    if (error.returnCode === BAD_USERNAME_OR_PASSWORD) {
      throw new AppError(
        'unauthorized',
        'the device id or secret is not accepted (unknown device, wrong or rotated secret); check the credentials the device was provisioned with',
      );
    }
    throw new AppError(
      'forbidden',
      'this device is disabled; an administrator can enable it again (`vitalink devices enable`)',
    );
  }
}

/** `Authorization: Basic base64(id:secret)`; the secret may contain colons. */
export function basicCredentials(header: string | undefined): { username: string; password: Buffer } | undefined {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { username: decoded.slice(0, colon), password: Buffer.from(decoded.slice(colon + 1), 'utf8') };
}
