import { addDevice, addPatient } from '../../src/actions/provisioning.ts';
import type { Db } from '../../src/store/database.ts';
import { findPatient } from '../../src/store/patients.repository.ts';

const DAY = 86_400_000;

/**
 * A patient and a device assigned to it from `assignedFrom` (default: 100 days
 * ago, so that every reading the protocol accepts is attributed). Returns the secret.
 */
export async function provisionDevice(
  db: Db,
  deviceId: string,
  patientId: string | null = `patient-${deviceId}`,
  assignedFrom = new Date(Date.now() - 100 * DAY),
): Promise<string> {
  if (patientId !== null && !(await findPatient(db, patientId))) await addPatient(db, { id: patientId });
  const { secret } = await addDevice(db, { id: deviceId, patientId: patientId ?? undefined }, assignedFrom);
  return secret;
}
