import { randomBytes } from 'node:crypto';
import { hashDeviceSecret } from '../domain/device-secret.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { loadInstallationKey } from '../store/devices.repository.ts';
import { existingPatientIds } from '../store/patients.repository.ts';
import { findActiveToken, insertApiToken } from '../store/tokens.repository.ts';

export const ROLES = ['admin', 'operator', 'clinician'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling the API. */
export interface Principal {
  role: Role;
  /** null for the bootstrap token of VITALINK_ADMIN_TOKEN. */
  tokenId: string | null;
  /** Clinician tokens: the patients they may read. */
  patientIds: ReadonlySet<string> | null;
}

/** Tokens are 256 random bits; like device secrets they are stored as an HMAC under the installation key. */
export function generateApiToken(): string {
  return `vlk_${randomBytes(32).toString('base64url')}`;
}

export async function createApiToken(
  db: Db,
  input: { role: string; patientIds?: string[]; label?: string },
): Promise<{ token: string; role: Role; id: string }> {
  if (!(ROLES as readonly string[]).includes(input.role)) {
    throw new AppError('invalid_input', `role must be one of ${ROLES.join(', ')}`);
  }
  const role = input.role as Role;
  const patientIds = input.patientIds ?? [];
  if (role === 'clinician' && patientIds.length === 0) {
    throw new AppError('invalid_input', 'a clinician token needs --patients with the ids of the patients it may read');
  }
  if (role !== 'clinician' && patientIds.length > 0) {
    throw new AppError('invalid_input', '--patients is only for clinician tokens');
  }
  if (patientIds.length > 0) {
    const found = await existingPatientIds(db, patientIds);
    const missing = patientIds.filter((id) => !found.includes(id));
    if (missing.length > 0) {
      throw new AppError(
        'not_found',
        `patient ${missing.join(', ')} does not exist; add it with \`vitalink patients add\``,
      );
    }
  }
  const token = generateApiToken();
  const key = await loadInstallationKey(db);
  const id = await insertApiToken(db, {
    tokenHash: hashDeviceSecret(key, token),
    role,
    patientIds: role === 'clinician' ? [...new Set(patientIds)] : null,
    label: input.label ?? null,
  });
  return { token, role, id };
}

/** The principal of a presented token, or undefined when it is unknown or revoked. */
export async function findPrincipal(db: Db, key: Buffer, token: string): Promise<Principal | undefined> {
  if (token.length < 16 || token.length > 200) return undefined;
  const row = await findActiveToken(db, hashDeviceSecret(key, token));
  if (!row) return undefined;
  return {
    role: row.role,
    tokenId: row.id,
    patientIds: row.role === 'clinician' ? new Set(row.patientIds ?? []) : null,
  };
}
