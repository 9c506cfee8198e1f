import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * Whether the database answers a trivial query within `timeoutMs` (readiness,
 * GET /readyz). Never rejects: an error or a timeout is `false`.
 */
export async function pingDatabase(db: Db, timeoutMs = 2_000): Promise<boolean> {
  return Promise.race([
    sql`SELECT 1`.execute(db).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()),
  ]);
}
