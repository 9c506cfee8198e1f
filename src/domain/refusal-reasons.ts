/**
 * Why the service refused a CONNECT (device-protocol.md, "Identity") or a
 * SUBSCRIBE: the `reason` label of `vitalink_connections_refused_total` and of
 * the broker's log lines. A reason outside this catalogue does not compile.
 */
export const REFUSAL_REASONS = [
  'missing_credentials',
  'invalid_username',
  'unknown_device',
  'wrong_secret',
  /** The secret is stored under a key that is not configured any more (README, "Rotating the key"): CONNACK 4. */
  'secret_key_unavailable',
  'device_disabled',
  'client_id_mismatch',
  /** The device certificate's CN is not the CONNECT's username and client id (README, "Security", "Device certificates"): CONNACK 5. */
  'device_cert_mismatch',
  /** Over HTTPS: a device token that is unknown, revoked, expired or malformed (README, "Device tokens"): 401. */
  'device_token_refused',
  /** Over HTTPS: a client certificate that does not verify (unknown issuer, expired, revoked): 401. */
  'device_cert_invalid',
  /** Over HTTPS with VITALINK_DEVICE_CERTS=required: a device request without a verified certificate: 401. */
  'device_cert_missing',
  /** The credential lookup failed: CONNACK 3, server unavailable. */
  'database_unavailable',
  /** The authenticator failed in an unexpected way (never counted: a fallback for the CONNACK). */
  'authentication_failed',
  /** Too many failed authentications from the source address lately: CONNACK 3, try later. */
  'throttled_address',
  /** Too many failed authentications of this client id from the source address lately: CONNACK 3. */
  'throttled_client',
  /** Too many successful CONNECTs of this client id lately (a reconnect storm): CONNACK 3. */
  'flapping',
  /** A subscription outside the device's namespace (SUBACK 0x80; the connection stays open). */
  'subscribe_not_authorized',
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];
