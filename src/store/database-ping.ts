import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * Whether the database answers within `timeoutMs` and would accept writes
 * (readiness, GET /readyz): a standby, or a primary made read-only
 * (`default_transaction_read_only`), is not ready, since no reading could be
 * stored. Never rejects: an error or a timeout is `false`.
 */
export async function pingDatabase(db: Db, timeoutMs = 2_000): Promise<boolean> {
  return Promise.race([
    sql<{ writable: boolean }>`SELECT current_setting('transaction_read_only') = 'off' AS writable`.execute(db).then(
      (r) => r.rows[0]?.writable === true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()),
  ]);
}
