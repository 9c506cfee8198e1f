import type { PatientIdentity } from '../domain/ins.ts';
import type { Selectable } from 'kysely';
import type { Database, Db } from './database.ts';

/** A patient's identity as stored (migration 2026-12-07T1900-patient-identity). */
export interface PatientIdentityRow extends PatientIdentity {
  readonly patientId: string;
  readonly updatedAt: Date;
}

type Row = Selectable<Database['patient_identities']>;

function toRow(r: Row): PatientIdentityRow {
  return {
    patientId: r.patient_id,
    birthFamilyName: r.birth_family_name,
    firstNames: r.first_names,
    birthDate: r.birth_date,
    sex: r.sex,
    birthplaceCode: r.birthplace_code,
    ins: r.ins_value !== null && r.ins_kind !== null ? { value: r.ins_value, kind: r.ins_kind } : null,
    status: r.status,
    statusMethod: r.status_method,
    statusSetAt: r.status_set_at,
    updatedAt: r.updated_at,
  };
}

const COLUMNS = [
  'patient_id',
  'birth_family_name',
  'first_names',
  'birth_date',
  'sex',
  'birthplace_code',
  'ins_value',
  'ins_kind',
  'status',
  'status_method',
  'status_set_at',
  'updated_at',
] as const;

/** Writes a patient's identity, replacing the one stored. */
export async function upsertPatientIdentity(
  db: Db,
  patientId: string,
  identity: PatientIdentity,
): Promise<PatientIdentityRow> {
  const values = {
    birth_family_name: identity.birthFamilyName,
    first_names: [...identity.firstNames],
    birth_date: identity.birthDate,
    sex: identity.sex,
    birthplace_code: identity.birthplaceCode,
    ins_value: identity.ins?.value ?? null,
    ins_kind: identity.ins?.kind ?? null,
    status: identity.status,
    status_method: identity.statusMethod,
    status_set_at: identity.statusSetAt,
  };
  const row = await db
    .insertInto('patient_identities')
    .values({ patient_id: patientId, ...values })
    .onConflict((oc) => oc.column('patient_id').doUpdateSet({ ...values, updated_at: new Date() }))
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toRow(row);
}

export async function findPatientIdentity(db: Db, patientId: string): Promise<PatientIdentityRow | undefined> {
  const row = await db
    .selectFrom('patient_identities')
    .select(COLUMNS)
    .where('patient_id', '=', patientId)
    .executeTakeFirst();
  return row ? toRow(row) : undefined;
}

/** The patient holding an INS of a kind (the unique index patient_identities_ins), if any. */
export async function findPatientIdByIns(
  db: Db,
  ins: { value: string; kind: NonNullable<PatientIdentity['ins']>['kind'] },
): Promise<string | undefined> {
  const row = await db
    .selectFrom('patient_identities')
    .select('patient_id')
    .where('ins_kind', '=', ins.kind)
    .where('ins_value', '=', ins.value)
    .executeTakeFirst();
  return row?.patient_id;
}
