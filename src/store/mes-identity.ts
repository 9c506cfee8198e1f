import { sql } from 'kysely';
import { type IdentityStatus, type InsKind, insSystem, isInsKind, isInsShareable } from '../domain/ins.ts';
import type { Identifier } from '../fhir/types.ts';
import type { Db } from './database.ts';

/**
 * The patient's INS as Observation.subject.identifier of a feeding bundle: only for
 * a qualified identity (RNIV, src/domain/ins.ts isInsShareable); undefined otherwise.
 * Cost: one row by key (patient_identities).
 */
export async function patientInsIdentity(db: Db, patientId: string): Promise<Identifier | undefined> {
  const { rows } = await sql<{ ins_value: string | null; ins_kind: string | null; status: IdentityStatus }>`
    SELECT ins_value, ins_kind, status FROM patient_identities WHERE patient_id = ${patientId}
  `.execute(db);
  const r = rows[0];
  if (!r || r.ins_value === null || r.ins_kind === null || !isInsKind(r.ins_kind)) return undefined;
  if (!isInsShareable(r.status)) return undefined;
  return { system: insSystem(r.ins_kind as InsKind), value: r.ins_value };
}

/**
 * The SQL condition "this patient can be fed" (a qualified identity with an INS),
 * on a column naming the patient: the outbox is fed only for them.
 */
export function feedablePatientSql(patientId: ReturnType<typeof sql.ref>) {
  return sql`EXISTS (SELECT 1 FROM patient_identities i
                     WHERE i.patient_id = ${patientId} AND i.status = 'QUAL' AND i.ins_value IS NOT NULL)`;
}
