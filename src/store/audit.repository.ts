import type { Db } from './database.ts';

/** One line of the audit log: who read which patient's data, doing what. */
export interface AuditEntry {
  tokenId: string | null;
  role: string;
  patientId: string;
  action: string;
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
        patient_id: e.patientId,
        action: e.action,
        detail: e.detail ? JSON.stringify(e.detail) : null,
      })),
    )
    .execute();
}
