import { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { normalizeIP } from '@fastify/rate-limit';
import { BAD_USERNAME_OR_PASSWORD, ConnectRefused, SERVER_UNAVAILABLE } from '../broker/authenticate.ts';
import type { ThrottleVerdict } from '../broker/connect-throttle.ts';
import type { DeviceTokenCheck } from '../actions/device-tokens.ts';
import { DEVICE_ID_PATTERN } from '../domain/protocol.ts';
import type { RefusalReason } from '../domain/refusal-reasons.ts';
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
  /** Device tokens (src/actions/device-tokens.ts, createDeviceTokenCheck); none: Bearer is refused. */
  readonly checkToken?: (token: string) => Promise<DeviceTokenCheck>;
  /**
   * Client certificates on the HTTPS listener (VITALINK_DEVICE_CERTS): the mode, and
   * the device a verified certificate names (its state). None: certificates are off.
   */
  readonly certificates?: {
    readonly mode: 'optional' | 'required';
    find(deviceId: string): Promise<{ enabled: boolean } | undefined>;
  };
}

/** The realm of the Basic challenge of a 401. */
export const DEVICE_REALM = 'Basic realm="vitalink devices", charset="UTF-8"';

/** What the HTTPS listener learnt of the client certificate of a request's connection. */
export type PresentedCertificate = { verified: true; subject: string } | { verified: false; code: string } | undefined;

/**
 * The client certificate of a request's TLS connection, when the HTTPS listener
 * asks for one (VITALINK_DEVICE_CERTS, src/http/https-listener.ts): verified
 * against VITALINK_DEVICE_CA_FILE and VITALINK_DEVICE_CRL_FILE during the
 * handshake (which never fails for it: browsers and API clients have none), its
 * subject CN when it verified, OpenSSL's code when it did not. Undefined: no
 * certificate, or a plaintext connection.
 */
export function presentedCertificate(request: FastifyRequest): PresentedCertificate {
  const socket = request.raw.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!socket.authorized) return { verified: false, code: String(socket.authorizationError ?? 'UNKNOWN') };
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN;
  // A certificate with no CN, or several, is bound to no device.
  return { verified: true, subject: typeof cn === 'string' ? cn : '' };
}

/**
 * The device of an HTTPS request (device-protocol.md, "Over HTTPS"; README, "Over
 * HTTPS"), by the first of:
 *
 * - **a client certificate** (mutual TLS on HTTPS_PORT, VITALINK_DEVICE_CERTS
 *   `optional` or `required`): one that does not verify is a 401 whatever else the
 *   request carries; one that verifies names the device by its subject CN, which
 *   must be an enabled device (unknown: 401, disabled: 403). With an
 *   `Authorization` header as well, that one is checked too and must be of the
 *   same device (403 otherwise, `device_cert_mismatch`, as a CONNECT's username).
 *   With `required`, a request on the HTTPS listener without a verified
 *   certificate is a 401.
 * - **a device token** (`Authorization: Bearer vdt_...`, src/actions/device-tokens.ts):
 *   unknown, revoked or expired: 401; of a disabled device: 403. Looked up on
 *   every request.
 * - **the device secret** (`Authorization: Basic`), checked as a CONNECT
 *   (device-protocol.md, "Identity"), by the broker's code.
 *
 * The refusals map the CONNACK codes: 4 (bad user name or password) is a 401, 5
 * (not authorized: a disabled device) a 403, 3 (server unavailable: the lookup
 * failed) a 503 with Retry-After. A failed authentication counts against the
 * source address and the device id from that address (the Basic user name, else
 * the path's device), as a failed CONNECT does, and both throttles answer 429 with
 * Retry-After before anything is looked up. Reconnect storms (flapping) are an
 * MQTT matter: each HTTPS request is not a new session. A secret verified lately
 * is not looked up again (`verified`), as a live MQTT session is not.
 */
export async function authenticateDevice(
  deps: DeviceAuthDeps,
  request: FastifyRequest,
  pathId: string,
): Promise<string> {
  const header = request.headers.authorization;
  const bearer = header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  const basic = basicCredentials(header);
  const certificates = deps.certificates;
  const certificate = certificates ? presentedCertificate(request) : undefined;
  const overTls = request.raw.socket instanceof TLSSocket;
  // An Authorization header that is neither Basic nor Bearer is no credential, certificate or not.
  if ((!certificate && !bearer && !basic) || (header !== undefined && !bearer && !basic)) {
    if (certificates?.mode === 'required' && overTls) {
      throw refused(deps, 'device_cert_missing', requiredMessage());
    }
    deps.metrics.connectionsRefused.labels('missing_credentials').inc();
    throw new AppError(
      'unauthorized',
      'send the device id and secret as "Authorization: Basic base64(id:secret)" (the secret printed by `vitalink devices add`), or a device token as "Authorization: Bearer <token>" (`vitalink devices token create`)',
    );
  }
  const address = normalizeIP(request.ip);
  const claimed = basic?.username ?? pathId;
  const throttled = deps.throttle.check(address, claimed, deps.now());
  if (throttled) {
    deps.metrics.connectionsRefused.labels(throttled).inc();
    request.log.info({ reason: throttled }, 'device request refused');
    throw new AppError(
      'rate_limited',
      `too many refused device credentials from this address lately; try again in ${deps.banSeconds} s`,
      { retryAfterSeconds: deps.banSeconds },
    );
  }
  const failed = (reason: RefusalReason, message: string): AppError => {
    deps.throttle.failed(address, claimed, deps.now());
    return refused(deps, reason, message, request);
  };

  if (certificate && !certificate.verified) {
    throw failed(
      'device_cert_invalid',
      `the client certificate is not accepted (${certificate.code}): it must be issued by the device CA, within its validity period and not revoked; ask the operator for a new one`,
    );
  }
  if (certificates?.mode === 'required' && overTls && !certificate) {
    throw failed('device_cert_missing', requiredMessage());
  }
  let byHeader: string | undefined;
  if (bearer) byHeader = await byDeviceToken(deps, request, bearer, failed);
  else if (basic) byHeader = await bySecret(deps, basic, () => deps.throttle.failed(address, claimed, deps.now()));
  if (!certificate) return byHeader!;

  const subject = certificate.subject;
  if (byHeader !== undefined) {
    if (byHeader !== subject) {
      throw failed(
        'device_cert_mismatch',
        `the client certificate is that of ${subject ? `device ${subject}` : 'no device (no single CN)'}, the credentials of device ${byHeader}: send one device's credentials`,
      );
    }
    return subject;
  }
  if (!DEVICE_ID_PATTERN.test(subject)) {
    throw failed(
      'invalid_username',
      'the client certificate names no device: its subject CN must be the device id (1 to 64 characters of A-Z a-z 0-9 . _ -)',
    );
  }
  let device: { enabled: boolean } | undefined;
  try {
    device = await certificates!.find(subject);
  } catch (err) {
    request.log.warn({ err }, 'credential lookup failed');
    deps.metrics.connectionsRefused.labels('database_unavailable').inc();
    throw databaseUnavailable();
  }
  if (!device) {
    throw failed(
      'unknown_device',
      `the client certificate names device ${subject}, which does not exist; provision it with \`vitalink devices add\``,
    );
  }
  if (!device.enabled) throw failed('device_disabled', DISABLED);
  return subject;
}

const DISABLED = 'this device is disabled; an administrator can enable it again (`vitalink devices enable`)';

function requiredMessage(): string {
  return 'this service requires a device certificate on HTTPS (VITALINK_DEVICE_CERTS=required): present the client certificate whose CN is the device id';
}

function databaseUnavailable(): AppError {
  return new AppError(
    'unavailable',
    `the service cannot reach its database now; send the readings again in ${DATABASE_RETRY_AFTER_S} s`,
    { retryAfterSeconds: DATABASE_RETRY_AFTER_S },
  );
}

/** A refusal: counted under `reason`, logged without the credential; 403 for a disabled device or a mismatch, else 401. */
function refused(deps: DeviceAuthDeps, reason: RefusalReason, message: string, request?: FastifyRequest): AppError {
  deps.metrics.connectionsRefused.labels(reason).inc();
  request?.log.info({ reason }, 'device request refused');
  const forbidden = reason === 'device_disabled' || reason === 'device_cert_mismatch';
  return new AppError(forbidden ? 'forbidden' : 'unauthorized', message);
}

async function byDeviceToken(
  deps: DeviceAuthDeps,
  request: FastifyRequest,
  token: string,
  failed: (reason: RefusalReason, message: string) => AppError,
): Promise<string> {
  if (!deps.checkToken) {
    throw failed('device_token_refused', 'device tokens are not accepted here; send the device secret with Basic');
  }
  let found: DeviceTokenCheck;
  try {
    found = await deps.checkToken(token);
  } catch (err) {
    request.log.warn({ err }, 'credential lookup failed');
    deps.metrics.connectionsRefused.labels('database_unavailable').inc();
    throw databaseUnavailable();
  }
  if ('refused' in found) {
    request.log.info({ reason: found.refused, tokenId: found.tokenId }, 'device token refused');
    if (found.refused === 'device_disabled') throw failed('device_disabled', DISABLED);
    throw failed(
      'device_token_refused',
      'the device token is not accepted (unknown, revoked or expired); ask an administrator for a new one (`vitalink devices token create`)',
    );
  }
  return found.deviceId;
}

async function bySecret(
  deps: DeviceAuthDeps,
  credentials: { username: string; password: Buffer },
  throttleFailed: () => void,
): Promise<string> {
  const { username, password } = credentials;
  if (deps.verified?.has(username, password, deps.now())) return username;
  try {
    await deps.authenticate({ id: username }, username, password);
    deps.verified?.remember(username, password, deps.now());
    return username;
  } catch (error) {
    if (!(error instanceof ConnectRefused)) throw error;
    if (error.returnCode === SERVER_UNAVAILABLE) throw databaseUnavailable();
    // The authenticator counted and logged the refusal.
    throttleFailed();
    if (error.returnCode === BAD_USERNAME_OR_PASSWORD) {
      throw new AppError(
        'unauthorized',
        'the device id or secret is not accepted (unknown device, wrong or rotated secret); check the credentials the device was provisioned with',
      );
    }
    throw new AppError('forbidden', DISABLED);
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
