import { randomBytes } from 'node:crypto';
import type { KeyRing, RehashOnce } from '../domain/secret-keys.ts';
import { parseTokenExpiry, tokenState } from '../domain/token-expiry.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import {
  findDeviceToken,
  findListedDeviceToken,
  insertDeviceToken,
  type ListedDeviceToken,
  listDeviceTokens,
  revokeDeviceToken,
} from '../store/device-tokens.repository.ts';
import { findDevice } from '../store/devices.repository.ts';
import { rehashToken } from '../store/tokens.repository.ts';
import { createTokenUsage } from './tokens.ts';

/**
 * Device tokens (README, "Over HTTPS", "Device tokens"): a bearer credential of
 * one device, for `POST /api/v1/devices/{id}/readings` only. An app or a gateway
 * can hold one instead of the device secret: it expires, is revoked alone, and
 * leaves the secret (and the device's MQTT session) untouched. Not accepted as
 * an MQTT password: over MQTT the protocol's password is the device secret.
 */

/** The prefix of a device token: it tells a device token from an API token (`vlk_`) at a glance. */
export const DEVICE_TOKEN_PREFIX = 'vdt_';

/** Lifetime of a device token made without --expires: one year. */
export const DEVICE_TOKEN_TTL_DAYS = 365;

/** 256 random bits; stored as an HMAC under the current secret key, as API tokens are. */
export function generateDeviceToken(): string {
  return `${DEVICE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export interface DeviceTokenView {
  id: string;
  deviceId: string;
  label: string | null;
  state: 'active' | 'revoked' | 'expired';
  createdAt: string;
  /** null: never expires. */
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function deviceTokenView(t: ListedDeviceToken, now: Date): DeviceTokenView {
  return {
    id: t.id,
    deviceId: t.deviceId,
    label: t.label,
    state: tokenState(t, now),
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

async function requireDevice(db: Db, deviceId: string): Promise<void> {
  if (!(await findDevice(db, deviceId))) {
    throw new AppError('not_found', `device ${deviceId} does not exist; \`vitalink devices list\` shows the devices`);
  }
}

/**
 * `vitalink devices token create --id ID [--expires ...]` and
 * POST /api/v1/devices/{id}/tokens: a new token of the device, returned once.
 * `expires` as for API tokens (src/domain/token-expiry.ts); default one year.
 */
export async function createDeviceToken(
  db: Db,
  keys: KeyRing,
  input: { deviceId: string; expires?: string; label?: string },
  now: Date = new Date(),
): Promise<{ token: string; id: string; deviceId: string; expiresAt: Date | null }> {
  let expiresAt: Date | null;
  if (input.expires === undefined) {
    expiresAt = new Date(now.getTime() + DEVICE_TOKEN_TTL_DAYS * 86_400_000);
  } else {
    const parsed = parseTokenExpiry(input.expires, now);
    if (!parsed.ok) throw new AppError('invalid_input', parsed.message, { field: 'expires' });
    expiresAt = parsed.expiresAt;
  }
  await requireDevice(db, input.deviceId);
  const token = generateDeviceToken();
  const id = await insertDeviceToken(db, {
    deviceId: input.deviceId,
    tokenHash: keys.current.hmac(token),
    secretKeyId: keys.current.id,
    label: input.label ?? null,
    expiresAt,
  });
  return { token, id, deviceId: input.deviceId, expiresAt };
}

/** A device's tokens, with their state, never their text. */
export async function listTokensOfDevice(db: Db, deviceId: string, now: Date): Promise<DeviceTokenView[]> {
  await requireDevice(db, deviceId);
  return (await listDeviceTokens(db, deviceId)).map((t) => deviceTokenView(t, now));
}

/** Revokes one token of a device: refused from its next request, on every instance. */
export async function revokeTokenOfDevice(
  db: Db,
  deviceId: string,
  tokenId: string,
  now: Date,
): Promise<DeviceTokenView> {
  const unknown = () =>
    new AppError(
      'not_found',
      `device ${deviceId} has no token ${tokenId}; \`vitalink devices token list --id ${deviceId}\` shows its tokens`,
    );
  if (!/^\d{1,18}$/.test(tokenId)) throw unknown();
  if (!(await revokeDeviceToken(db, deviceId, tokenId))) throw unknown();
  const found = await findListedDeviceToken(db, tokenId);
  if (!found) throw unknown();
  return deviceTokenView(found, now);
}

/** Why a presented device token was refused: for the log and the status, never told apart to the caller beyond 401/403. */
export type DeviceTokenRefusal = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'device_disabled';

export type DeviceTokenCheck =
  | { deviceId: string; tokenId: string }
  | { refused: DeviceTokenRefusal; tokenId: string | null; deviceId: string | null };

/**
 * The device of a presented token, or why it is refused. Looked up on every
 * request (no cache), as API tokens are: a revocation, an expiry or a disable
 * holds on the next request, on every instance. A token found under a key other
 * than the current one is stored again under the current key (once), as API
 * tokens are. The last use is written at most once a minute per token, in the
 * background (createTokenUsage, as API tokens').
 */
export function createDeviceTokenCheck(
  db: Db,
  keys: KeyRing,
  rehash: {
    once: RehashOnce;
    onRehashed: (tokenId: string, fromKeyId: string, toKeyId: string) => void;
    onError: (err: unknown) => void;
  },
): (token: string) => Promise<DeviceTokenCheck> {
  const touched = createTokenUsage(db, rehash.onError, 'device_tokens');
  return async (token) => {
    if (!token.startsWith(DEVICE_TOKEN_PREFIX) || token.length < 20 || token.length > 200) {
      return { refused: 'malformed', tokenId: null, deviceId: null };
    }
    const hashes = keys.keys.map((key) => ({ key, hash: key.hmac(token) }));
    const row = await findDeviceToken(
      db,
      hashes.map((h) => h.hash),
    );
    const under = row && hashes.find((h) => h.hash.equals(row.tokenHash));
    if (!row || !under || under.key.id !== row.secretKeyId)
      return { refused: 'unknown', tokenId: null, deviceId: null };
    const who = { tokenId: row.id, deviceId: row.deviceId };
    if (row.revoked) return { refused: 'revoked', ...who };
    if (row.expired) return { refused: 'expired', ...who };
    if (!row.deviceEnabled) return { refused: 'device_disabled', ...who };
    if (!keys.isCurrent(row.secretKeyId)) {
      const current = { hash: keys.current.hmac(token), keyId: keys.current.id };
      await rehash.once
        .run(`device-token:${row.id}`, async () => {
          const changed = await rehashToken(db, 'device_tokens', row.id, row.tokenHash, current);
          if (changed) rehash.onRehashed(row.id, row.secretKeyId, current.keyId);
          return changed;
        })
        .catch((err: unknown) => rehash.onError(err));
    }
    touched(row.id);
    return who;
  };
}
