import { randomBytes } from 'node:crypto';
import { apiSecretHash, normaliseApiSecret } from '../domain/nightscout.ts';
import { DEVICE_ID_PATTERN } from '../domain/protocol.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import { AppError } from '../errors.ts';
import { listAssignments } from '../store/assignments.repository.ts';
import type { Db } from '../store/database.ts';
import { findDevice } from '../store/devices.repository.ts';
import { findUploader, type NightscoutUploader, upsertUploader } from '../store/nightscout.repository.ts';
import { findPatient } from '../store/patients.repository.ts';
import { addDevice } from './provisioning.ts';

export interface EnabledUploader {
  deviceId: string;
  patientId: string;
  /** Shown once: the app's API secret. */
  secret: string;
  /** Whether the device was made for it (no --device). */
  deviceCreated: boolean;
}

/** The device made for a patient's uploads when none is named. */
export function uploaderDeviceId(patientId: string): string {
  return `nightscout-${patientId}`;
}

/**
 * `vitalink nightscout enable --patient ID [--device ID]`: a new upload secret
 * for the patient's Nightscout-style app, mapped to a device of that patient (the
 * one named, which must be assigned to the patient now, else `nightscout-<patient>`,
 * made and assigned from now if need be). A secret made before for that device is
 * replaced. Stored only as a keyed hash of its SHA-1 hex (what apps send).
 */
export async function enableNightscout(
  db: Db,
  keys: KeyRing,
  input: { patientId: string; deviceId?: string },
  now: Date,
): Promise<EnabledUploader> {
  if (!(await findPatient(db, input.patientId))) {
    throw new AppError(
      'not_found',
      `patient ${input.patientId} does not exist; add it with \`vitalink patients add\` first`,
    );
  }
  const deviceId = input.deviceId ?? uploaderDeviceId(input.patientId);
  if (!DEVICE_ID_PATTERN.test(deviceId)) {
    throw new AppError(
      'invalid_input',
      `"${deviceId}" is not a device id (1 to 64 characters of A-Z a-z 0-9 . _ -): name a device of the patient with --device`,
    );
  }
  let deviceCreated = false;
  if (!(await findDevice(db, deviceId))) {
    if (input.deviceId !== undefined) {
      throw new AppError('not_found', `device ${deviceId} does not exist; add it with \`vitalink devices add\` first`);
    }
    await addDevice(db, keys, { id: deviceId, model: 'Nightscout uploader', patientId: input.patientId }, now);
    deviceCreated = true;
  }
  const assignedNow = (await listAssignments(db, deviceId)).find(
    (a) => a.patientId === input.patientId && a.validFrom <= now && (a.validTo === null || now < a.validTo),
  );
  if (!assignedNow) {
    throw new AppError(
      'conflict',
      `device ${deviceId} is not assigned to patient ${input.patientId} now; assign it with \`vitalink devices assign\` first`,
    );
  }
  const secret = randomBytes(18).toString('base64url');
  await upsertUploader(db, {
    deviceId,
    patientId: input.patientId,
    secretHash: keys.current.hmac(apiSecretHash(secret)),
    secretKeyId: keys.current.id,
  });
  return { deviceId, patientId: input.patientId, secret, deviceCreated };
}

/**
 * The uploader of an `api-secret` header (SHA-1 hex, or the secret itself) or a
 * `token` parameter (the secret): undefined when none matches under the key the
 * row names.
 */
export async function findNightscoutUploader(
  db: Db,
  keys: KeyRing,
  presented: string,
): Promise<NightscoutUploader | undefined> {
  if (presented.length === 0 || presented.length > 200) return undefined;
  const sha1 = normaliseApiSecret(presented);
  const hashes = keys.keys.map((key) => ({ key, hash: key.hmac(sha1) }));
  const row = await findUploader(
    db,
    hashes.map((h) => h.hash),
  );
  const under = row && hashes.find((h) => h.hash.equals(row.secretHash));
  if (!row || !under || under.key.id !== row.secretKeyId) return undefined;
  return row;
}
