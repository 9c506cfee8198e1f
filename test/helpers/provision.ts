import { addDevice, addPatient } from '../../src/actions/provisioning.ts';
import { resolveKeyRing } from '../../src/actions/secret-keys.ts';
import { NO_CONFIGURED_KEYS } from '../../src/config.ts';
import type { KeyRing } from '../../src/domain/secret-keys.ts';
import type { Db } from '../../src/store/database.ts';
import { findPatient } from '../../src/store/patients.repository.ts';

const DAY = 86_400_000;

/**
 * A patient and a device assigned to it from `assignedFrom` (default: 100 days
 * ago, so that every reading the protocol accepts is attributed). The secret is
 * stored under `keys` (default: the database's key, that of a service with no
 * VITALINK_SECRET_KEY). Returns the secret.
 */
export async function provisionDevice(
  db: Db,
  deviceId: string,
  patientId: string | null = `patient-${deviceId}`,
  assignedFrom = new Date(Date.now() - 100 * DAY),
  keys?: KeyRing,
): Promise<string> {
  if (patientId !== null && !(await findPatient(db, patientId))) await addPatient(db, { id: patientId });
  const { secret } = await addDevice(
    db,
    keys ?? (await resolveKeyRing(db, NO_CONFIGURED_KEYS)),
    { id: deviceId, patientId: patientId ?? undefined },
    assignedFrom,
  );
  return secret;
}
