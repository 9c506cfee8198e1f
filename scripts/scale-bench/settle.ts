/** Waiting for a running service's aggregation job to have nothing left to do. */
import { sql } from 'kysely';
import type { Db } from '../../src/store/database.ts';

/**
 * Resolves once no dirty mark and no due indicator refresh is left. The service's
 * job refreshes every recent patient's indicators when it starts: give it 2 s to mark them.
 */
export async function waitForAggregation(db: Db, timeoutMs: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql<{ n: string }>`
      SELECT (SELECT count(*) FROM aggregation_dirty) + (SELECT count(*) FROM indicators_dirty WHERE marked_at <= now()) AS n
    `.execute(db);
    if (Number(rows[0].n) === 0) return;
    if (Date.now() > deadline) throw new Error('the service did not finish aggregating in time');
    await new Promise((r) => setTimeout(r, 500));
  }
}
