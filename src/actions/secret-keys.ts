import type { ConfiguredKeys } from '../config.ts';
import type { Logger } from '../logger.ts';
import { DATABASE_KEY_ID, KeyRing, SecretKey } from '../domain/secret-keys.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { forgetDatabaseKey as forgetInStore, loadDatabaseKey } from '../store/devices.repository.ts';
import { credentialsUnder, keyCensus, type KeyCensusRow } from '../store/secret-keys.repository.ts';

/**
 * The keys that protect device secrets and API tokens (README, "Security",
 * "Rotating the key"), shared by `serve` and every command that makes or checks a
 * credential: the configured keys, and the database's key while it is there.
 */

export const NO_KEY_MESSAGE =
  'no secret key: the key kept in the database was forgotten (`vitalink keys forget-database-key`), so set VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE to the key the credentials are under';

/**
 * The key ring of this process. With a configured key, it is the current one and
 * the database's key (if still there) verifies like a previous key; without, the
 * database's key is the current one, as before VITALINK_SECRET_KEY existed.
 */
export async function resolveKeyRing(db: Db, configured: ConfiguredKeys): Promise<KeyRing> {
  const stored = await loadDatabaseKey(db);
  const databaseKey = stored ? new SecretKey(stored, 'database', DATABASE_KEY_ID) : undefined;
  if (configured.current) {
    return new KeyRing(configured.current, [...configured.previous, ...(databaseKey ? [databaseKey] : [])]);
  }
  if (!databaseKey) throw new AppError('unavailable', NO_KEY_MESSAGE);
  return new KeyRing(databaseKey, configured.previous);
}

/**
 * What `serve` says about its keys at start: which are in use (ids only), a
 * warning while the key is the database's own, and one about credentials under
 * keys that are not configured (they no longer work). One pass over devices and
 * api_tokens.
 */
export async function announceKeys(db: Db, configured: ConfiguredKeys, ring: KeyRing, log: Logger): Promise<void> {
  log.info({ currentKeyId: ring.current.id, otherKeyIds: ring.keys.slice(1).map((k) => k.id) }, 'secret keys in use');
  if (!configured.current) {
    log.warn(
      { setting: 'VITALINK_SECRET_KEY' },
      'the key of device secrets and API tokens is read from the database, so a copy of the database is enough to check guesses: set VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE (README, "Rotating the key")',
    );
  }
  const lost = (await keyCensus(db)).filter(
    (r) => !ring.get(r.keyId) && r.devices + r.graceSecrets + r.tokens + r.deviceTokens > 0,
  );
  if (lost.length > 0) {
    log.warn(
      {
        keyIds: lost.map((r) => r.keyId),
        devices: lost.reduce((n, r) => n + r.devices + r.graceSecrets, 0),
        tokens: lost.reduce((n, r) => n + r.tokens, 0),
        deviceTokens: lost.reduce((n, r) => n + r.deviceTokens, 0),
      },
      'credentials stored under secret keys that are not configured no longer work: configure the key again as a previous key, or rotate-secret those devices and replace those tokens (`vitalink keys status` lists them)',
    );
  }
}

export type KeyState = 'current' | 'previous' | 'not configured';

export interface KeyStatusRow extends KeyCensusRow {
  state: KeyState;
  /** Where the key comes from (a setting, `database`); null when it is not configured. */
  source: string | null;
}

export interface KeysStatus {
  currentKeyId: string;
  /** Whether the database still holds its key (`vitalink keys forget-database-key` removes it). */
  databaseKeyStored: boolean;
  keys: KeyStatusRow[];
  /** Credentials under a previous key: they move to the current key on their next use. */
  waiting: { deviceIds: string[]; tokenIds: string[] };
  /** Credentials under a key that is not configured: they no longer work (rotate-secret the devices, new tokens). */
  lost: { deviceIds: string[]; tokenIds: string[] };
}

/** How many ids `keys status` lists per kind. */
export const LISTED_IDS = 100;

/** `vitalink keys status`: what is stored under each key, so that the operator knows when a previous key can go. */
export async function keysStatus(db: Db, configured: ConfiguredKeys): Promise<KeysStatus> {
  const ring = await resolveKeyRing(db, configured);
  const census = await keyCensus(db);
  const rows = new Map<string, KeyStatusRow>();
  const empty = { devices: 0, devicesNeverSeen: 0, graceSecrets: 0, tokens: 0, tokensNeverUsed: 0, deviceTokens: 0 };
  for (const key of ring.keys) {
    rows.set(key.id, {
      keyId: key.id,
      ...empty,
      state: ring.isCurrent(key.id) ? 'current' : 'previous',
      source: key.source,
    });
  }
  for (const c of census) {
    const known = rows.get(c.keyId);
    rows.set(c.keyId, { ...c, state: known?.state ?? 'not configured', source: known?.source ?? null });
  }
  const keys = [...rows.values()].filter(
    (r) => r.state !== 'not configured' || r.devices + r.graceSecrets + r.tokens + r.deviceTokens > 0,
  );
  const ids = (state: KeyState) => keys.filter((r) => r.state === state).map((r) => r.keyId);
  return {
    currentKeyId: ring.current.id,
    databaseKeyStored: ring.get(DATABASE_KEY_ID) !== undefined,
    keys,
    waiting: await credentialsUnder(db, ids('previous'), LISTED_IDS),
    lost: await credentialsUnder(db, ids('not configured'), LISTED_IDS),
  };
}

/**
 * `vitalink keys forget-database-key`: once a key from outside the database is
 * configured and nothing still works under the database's key, removes that key
 * from the database, so that a copy of the database verifies nothing. `force`:
 * even when credentials are still under it (they stop working).
 */
export async function forgetTheDatabaseKey(
  db: Db,
  configured: ConfiguredKeys,
  force: boolean,
): Promise<{ forgotten: boolean; stranded: { devices: number; tokens: number } }> {
  if (!configured.current) {
    throw new AppError(
      'conflict',
      'the database key is the only key: set VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE (for this command and for every `vitalink serve`), let the credentials move to it, then forget the database key',
    );
  }
  const under = (await keyCensus(db)).find((r) => r.keyId === DATABASE_KEY_ID);
  // Device tokens (README, "Device tokens") are counted with the API tokens: both are replaced the same way.
  const stranded = {
    devices: (under?.devices ?? 0) + (under?.graceSecrets ?? 0),
    tokens: (under?.tokens ?? 0) + (under?.deviceTokens ?? 0),
  };
  if (!force && stranded.devices + stranded.tokens > 0) {
    throw new AppError(
      'conflict',
      `${stranded.devices} device secrets and ${stranded.tokens} API or device tokens are still under the database key and would stop working; ` +
        'they move to the current key when used (`vitalink keys status` lists them): rotate-secret the devices that will not connect, ' +
        'revoke or replace the tokens, or add --force to forget the key anyway',
    );
  }
  return { forgotten: await forgetInStore(db), stranded };
}
