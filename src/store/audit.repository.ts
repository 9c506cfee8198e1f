import { sql } from 'kysely';
import type { Db } from './database.ts';

export type AuditOutcome = 'allowed' | 'denied' | 'not_found';

/**
 * One line of the audit log: who (principal, role, request, source address) asked
 * for which patient's data, doing what, and with what outcome. Never clinical values.
 */
export interface AuditEntry {
  tokenId: string | null;
  role: string;
  /** `token:<id>`, or `admin-token` for VITALINK_ADMIN_TOKEN. */
  principal: string;
  patientId: string;
  action: string;
  outcome: AuditOutcome;
  requestId: string;
  sourceAddress: string | null;
  detail: Record<string, unknown> | null;
}

/** Writes audit lines in one statement, in the caller's transaction if one is passed. */
export async function insertAuditEntries(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('audit_log')
    .values(
      entries.map((e) => ({
        token_id: e.tokenId,
        role: e.role,
        principal: e.principal,
        patient_id: e.patientId,
        action: e.action,
        outcome: e.outcome,
        request_id: e.requestId,
        source_address: e.sourceAddress,
        detail: e.detail ? JSON.stringify(e.detail) : null,
      })),
    )
    .execute();
}

/** One exported audit row (rows from before 2026-12-07T1340 have the newer fields null). */
export interface AuditRow {
  id: string;
  at: Date;
  patientId: string;
  role: string;
  tokenId: string | null;
  principal: string | null;
  action: string;
  outcome: string | null;
  requestId: string | null;
  sourceAddress: string | null;
  detail: unknown;
}

/** Where a page of a patient's audit rows ends: the next page starts after it. */
export interface AuditPosition {
  at: Date;
  id: string;
}

/**
 * One page of a patient's audit rows, oldest first, after `after` (keyset over the
 * index audit_log_patient_at_id), within [from, to).
 */
export async function auditPage(
  db: Db,
  q: { patientId: string; from?: Date; to?: Date; after?: AuditPosition; limit: number },
): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_log')
    .select([
      'id',
      'at',
      'patient_id as patientId',
      'role',
      'token_id as tokenId',
      'principal',
      'action',
      'outcome',
      'request_id as requestId',
      'source_address as sourceAddress',
      'detail',
    ])
    .where('patient_id', '=', q.patientId);
  if (q.from) query = query.where('at', '>=', q.from);
  if (q.to) query = query.where('at', '<', q.to);
  if (q.after) query = query.where(sql<boolean>`(at, id) > (${q.after.at}, ${q.after.id}::bigint)`);
  return query.orderBy('at').orderBy('id').limit(q.limit).execute();
}
