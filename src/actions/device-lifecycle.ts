import type { DeviceTransport } from '../domain/device-transports.ts';
import { generateDeviceSecret, hashDeviceSecret } from '../domain/device-secret.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import {
  type DeviceFilter,
  type DeviceState,
  disableDevice as disableInStore,
  enableDevice as enableInStore,
  findDeviceState,
  listDeviceStates,
  rotateDeviceSecret as rotateInStore,
} from '../store/devices.repository.ts';

/**
 * A device's lifecycle after provisioning, shared by the CLI (`vitalink devices
 * list|show|disable|enable|rotate-secret`) and the admin API (README, "Security").
 */

/** Longest grace period of a rotated secret: long enough to reconfigure a device, bounded. */
export const MAX_GRACE_SECONDS = 7 * 86_400;

/** How long disabling waits for the batches being written before it gives up (it then changed nothing). */
const DISABLE_LOCK_TIMEOUT_MS = 5_000;

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

function unknownDevice(id: string): AppError {
  return new AppError(
    'not_found',
    `device ${id} does not exist; \`vitalink devices list\` (or GET /api/v1/devices) shows the devices there are`,
  );
}

export async function showDevice(db: Db, id: string): Promise<DeviceState> {
  const found = await findDeviceState(db, id);
  if (!found) throw unknownDevice(id);
  return found;
}

export async function listDevices(
  db: Db,
  filter: Omit<DeviceFilter, 'limit'> & { limit?: number },
): Promise<{ items: DeviceState[]; next: string | null }> {
  const limit = filter.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_PAGE}`, { field: 'limit' });
  }
  const rows = await listDeviceStates(db, { ...filter, limit: limit + 1 });
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? items[items.length - 1].id : null };
}

/**
 * Disables a device. When this returns, no reading of it is stored any more (on
 * any instance: the check is in the insert's statement), and every instance has
 * been told to close its live session (NOTIFY; within a second).
 */
export async function disableDevice(db: Db, id: string): Promise<DeviceState> {
  let found: boolean;
  try {
    found = await disableInStore(db, id, DISABLE_LOCK_TIMEOUT_MS);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // lock_not_available (the bound above), deadlock_detected (with a maintenance transaction): nothing changed.
    if (code === '55P03' || code === '40P01') {
      throw new AppError(
        'unavailable',
        `device ${id} was not disabled: the readings or rejections table was held by another operation (${code === '55P03' ? `for ${DISABLE_LOCK_TIMEOUT_MS / 1000} s` : 'a deadlock'}); try again`,
      );
    }
    throw error;
  }
  if (!found) throw unknownDevice(id);
  return showDevice(db, id);
}

export async function enableDevice(db: Db, id: string): Promise<DeviceState> {
  if (!(await enableInStore(db, id))) throw unknownDevice(id);
  return showDevice(db, id);
}

export interface RotatedSecret {
  device: DeviceState;
  /** Shown once; only its hash is stored. */
  secret: string;
  /** Until when the previous secret still works (null: it stopped at once). */
  graceUntil: Date | null;
}

/**
 * Gives a device a new secret. Without a grace period the old one stops working
 * at once and the live sessions that used it are closed on every instance; with
 * one, the old secret keeps working (for CONNECT and live sessions) until then.
 */
export async function rotateDeviceSecret(db: Db, keys: KeyRing, id: string, graceSeconds = 0): Promise<RotatedSecret> {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
    throw new AppError(
      'invalid_input',
      `the grace period must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS} (7 days)`,
      { field: 'graceSeconds' },
    );
  }
  const secret = generateDeviceSecret();
  const hash = hashDeviceSecret(keys.current, secret);
  const rotated = await rotateInStore(db, id, { hash, keyId: keys.current.id }, graceSeconds);
  if (!rotated) throw unknownDevice(id);
  return { device: await showDevice(db, id), secret, graceUntil: rotated.graceUntil };
}

/** A device's state as the CLI's --json and the API give it (README, "Security"). */
export interface DeviceView {
  id: string;
  model: string | null;
  enabled: boolean;
  disabledAt: string | null;
  patientId: string | null;
  /** Connected to the instance that answers (the API); null from the CLI, which is no instance. */
  connected: boolean | null;
  lastSeenAt: string | null;
  /** How it reached the service at lastSeenAt: mqtt, https or nightscout (null: not recorded). */
  lastTransport: DeviceTransport | null;
  lastReadingAt: string | null;
  lastRejection: { at: string; reason: string } | null;
  secretRotatedAt: string | null;
  previousSecretValidUntil: string | null;
  createdAt: string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function deviceView(state: DeviceState, connected: boolean | null): DeviceView {
  return {
    id: state.id,
    model: state.model,
    enabled: state.enabled,
    disabledAt: iso(state.disabledAt),
    patientId: state.patientId,
    connected,
    lastSeenAt: iso(state.lastSeenAt),
    lastTransport: state.lastTransport,
    lastReadingAt: iso(state.lastReadingAt),
    lastRejection: state.lastRejection
      ? { at: state.lastRejection.at.toISOString(), reason: state.lastRejection.reason }
      : null,
    secretRotatedAt: iso(state.secretRotatedAt),
    previousSecretValidUntil: iso(state.previousSecretValidUntil),
    createdAt: state.createdAt.toISOString(),
  };
}
