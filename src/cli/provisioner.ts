import { setPatientThresholds } from '../actions/alerts.ts';
import { addDevice, addPatient, DEFAULT_TIME_ZONE } from '../actions/provisioning.ts';
import { resolveKeyRing } from '../actions/secret-keys.ts';
import { createApiToken, type Role } from '../actions/tokens.ts';
import type { ConfiguredKeys } from '../config.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import type { Logger } from '../logger.ts';
import { createDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrations.ts';
import { countStoredReadingsOfDevices } from '../store/readings.repository.ts';
import { countRejectionsOfDevices } from '../store/rejections.repository.ts';

/**
 * The product's provisioning actions behind the narrow interface the tools
 * declare (simulators/provisioner.ts, matched structurally: src/ does not import
 * simulators/). Built by `vitalink simulate` and `vitalink bench`, and by tests.
 */
export interface ActionsProvisioner {
  readonly defaultTimeZone: string;
  addPatient(patient: { id: string; timeZone?: string; displayName?: string }): Promise<void>;
  addDevice(device: { id: string; patientId: string; model?: string }, from: Date): Promise<{ secret: string }>;
  setThresholds(patientId: string, thresholds: Record<string, unknown>): Promise<void>;
  countStored(deviceIds: readonly string[]): Promise<{ readings: number; rejections: number }>;
  createClinicianToken(patientIds: readonly string[]): Promise<{ token: string; expiresAt: Date | null }>;
  close(): Promise<void>;
}

/**
 * A provisioner on `databaseUrl`, migrated to the latest schema first when
 * `migrate` is set (a fresh database). Device secrets are stored under the
 * current key of `secretKeys` (the same settings as the `serve` the devices
 * connect to: README, "Rotating the key").
 */
export async function openProvisioner(
  databaseUrl: string,
  log: Logger,
  options: {
    migrate?: boolean;
    secretKeys: ConfiguredKeys;
    /** VITALINK_TOKEN_TTL_*_DAYS, for createClinicianToken (default: the built-in lifetimes). */
    tokenTtlDays?: Readonly<Record<Role, number>>;
  },
): Promise<ActionsProvisioner> {
  const { db } = createDatabase(databaseUrl, 4, log);
  try {
    if (options.migrate) await migrateToLatest(db, log);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let keys: KeyRing | undefined;
  const keyRing = async () => (keys ??= await resolveKeyRing(db, options.secretKeys));
  return {
    defaultTimeZone: DEFAULT_TIME_ZONE,
    async addPatient(patient) {
      await addPatient(db, patient);
    },
    async addDevice(device, from) {
      const { secret } = await addDevice(db, await keyRing(), device, from);
      return { secret };
    },
    setThresholds: (patientId, thresholds) => setPatientThresholds(db, patientId, thresholds),
    async countStored(deviceIds) {
      const [readings, rejections] = await Promise.all([
        countStoredReadingsOfDevices(db, deviceIds),
        countRejectionsOfDevices(db, deviceIds),
      ]);
      return { readings, rejections };
    },
    async createClinicianToken(patientIds) {
      const { token, expiresAt } = await createApiToken(db, await keyRing(), {
        role: 'clinician',
        patientIds: [...patientIds],
        label: 'vitalink simulate',
        ttlDays: options.tokenTtlDays,
      });
      return { token, expiresAt };
    },
    close: () => db.destroy(),
  };
}
