import {
  IDENTITY_METHOD_NAMES,
  IDENTITY_STATUS_NAMES,
  identityProblems,
  INS_KIND_NAMES,
  type InsKind,
  insSystem,
  isIdentityMethod,
  isIdentityStatus,
  isInsKind,
  isInsShareable,
  isSex,
  normalizeIns,
  type PatientIdentity,
  SEXES,
} from '../domain/ins.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import {
  findPatientIdByIns,
  findPatientIdentity,
  type PatientIdentityRow,
  upsertPatientIdentity,
} from '../store/patient-identities.repository.ts';
import { findPatient } from '../store/patients.repository.ts';

/**
 * Setting a patient's identity (README, "Patient identity (INS)"): the rules shared
 * by `vitalink patients set-identity` and `PUT /api/v1/patients/{id}/identity`.
 */

/** An identity as a person types it: strings, checked here. */
export interface PatientIdentityInput {
  readonly birthFamilyName: string;
  readonly firstNames: readonly string[];
  readonly birthDate: string;
  readonly sex: string;
  readonly birthplaceCode?: string | null;
  readonly ins?: { readonly value: string; readonly kind: string } | null;
  readonly status: string;
  readonly statusMethod?: string | null;
  /** When the status was set; default: kept when the status does not change, else now. */
  readonly statusSetAt?: Date;
}

function invalid(field: string, problem: string): AppError {
  return new AppError('invalid_input', `${field}: ${problem}`, { field });
}

/** Every value checked; all problems reported in one error, the first naming its field. */
function parseIdentity(
  input: PatientIdentityInput,
  stored: PatientIdentityRow | undefined,
  now: Date,
): PatientIdentity {
  if (!isSex(input.sex)) throw invalid('sex', `is one of ${SEXES.join(', ')}, not "${input.sex}"`);
  const status = input.status.toUpperCase();
  if (!isIdentityStatus(status)) {
    throw invalid('status', `is one of ${IDENTITY_STATUS_NAMES.join(', ')}, not "${input.status}"`);
  }
  const method = input.statusMethod?.toUpperCase() ?? null;
  if (method !== null && !isIdentityMethod(method)) {
    throw invalid('statusMethod', `is one of ${IDENTITY_METHOD_NAMES.join(', ')}, not "${input.statusMethod}"`);
  }
  if (input.ins && !isInsKind(input.ins.kind)) {
    throw invalid('ins.kind', `is one of ${INS_KIND_NAMES.join(', ')}, not "${input.ins.kind}"`);
  }
  // The status keeps its time and method when it does not change (an address of birth corrected, say).
  const sameStatus = stored?.status === status;
  const identity: PatientIdentity = {
    birthFamilyName: input.birthFamilyName.trim(),
    firstNames: input.firstNames.map((n) => n.trim()),
    birthDate: input.birthDate.trim(),
    sex: input.sex,
    birthplaceCode: input.birthplaceCode ? input.birthplaceCode.trim().toUpperCase() : null,
    ins: input.ins ? { value: normalizeIns(input.ins.value), kind: input.ins.kind as InsKind } : null,
    status,
    statusMethod: method ?? (sameStatus ? stored.statusMethod : null),
    statusSetAt: input.statusSetAt ?? (sameStatus ? stored.statusSetAt : now),
  };
  if (identity.statusSetAt.getTime() > now.getTime()) {
    throw invalid('statusSetAt', 'is in the future: give the time the status was set');
  }
  const problems = identityProblems(identity, now.toISOString().slice(0, 10));
  if (problems.length > 0) {
    throw new AppError('invalid_input', problems.map((p) => `${p.field}: ${p.problem}`).join('; '), {
      field: problems[0].field,
    });
  }
  return identity;
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

/** Sets (or replaces) a patient's identity; a 404-like error when there is no such patient. */
export async function setPatientIdentity(
  db: Db,
  patientId: string,
  input: PatientIdentityInput,
  now: Date = new Date(),
): Promise<PatientIdentityRow> {
  if (!(await findPatient(db, patientId))) {
    throw new AppError('not_found', `patient ${patientId} does not exist; add it first (vitalink patients add)`);
  }
  const identity = parseIdentity(input, await findPatientIdentity(db, patientId), now);
  try {
    return await upsertPatientIdentity(db, patientId, identity);
  } catch (error) {
    if (!isUniqueViolation(error) || !identity.ins) throw error;
    const holder = await findPatientIdByIns(db, identity.ins);
    throw new AppError(
      'conflict',
      `INS ${identity.ins.value} (${insSystem(identity.ins.kind)}) is already the identity of patient ${holder ?? 'another'}: ` +
        'one person has one INS; check the INS, or correct the other patient first',
      { field: 'ins.value' },
    );
  }
}

/** An identity as the API and `--json` show it (README, "Patient identity (INS)"). */
export interface PatientIdentityView {
  birthFamilyName: string;
  firstNames: string[];
  birthDate: string;
  sex: PatientIdentity['sex'];
  birthplaceCode: string | null;
  /** The INS: always for an admin; for anyone else only when `insShared`. */
  ins: { value: string; kind: InsKind; system: string } | null;
  /** Whether the INS is shared with clinicians and over FHIR: only for a qualified identity (RNIV). */
  insShared: boolean;
  status: PatientIdentity['status'];
  statusMethod: PatientIdentity['statusMethod'];
  statusSetAt: string;
  updatedAt: string;
}

/**
 * The identity for `audience`: an admin, who keeps the identity, sees the INS
 * whatever the status (with `insShared` saying whether it goes out); a clinician
 * sees it only when the identity is qualified.
 */
export function patientIdentityView(row: PatientIdentityRow, audience: 'admin' | 'clinician'): PatientIdentityView {
  const shared = isInsShareable(row.status);
  const ins = row.ins && (shared || audience === 'admin') ? row.ins : null;
  return {
    birthFamilyName: row.birthFamilyName,
    firstNames: [...row.firstNames],
    birthDate: row.birthDate,
    sex: row.sex,
    birthplaceCode: row.birthplaceCode,
    ins: ins && { value: ins.value, kind: ins.kind, system: insSystem(ins.kind) },
    insShared: shared && row.ins !== null,
    status: row.status,
    statusMethod: row.statusMethod,
    statusSetAt: row.statusSetAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
