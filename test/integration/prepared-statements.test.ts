import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { decodeReading } from '../../src/ingest/decode.ts';
import { preparedStatement } from '../../src/store/prepared-statements.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { writeMessages } from '../../src/store/reading-sink.ts';
import { useTestDatabase } from '../fixture.ts';

/**
 * Statements marked with preparedStatement(name) go to PostgreSQL as named
 * statements (src/store/prepared-statements.ts): prepared once per connection and
 * executed again by name; every other statement as before. Real PostgreSQL, one
 * pinned connection, read back from pg_prepared_statements.
 */

const t = useTestDatabase();

describe('prepared statements', () => {
  it('prepares a marked statement once per connection and leaves the others unnamed', async () => {
    const seen = await t.db.connection().execute(async (conn) => {
      for (let i = 0; i < 3; i++) {
        const { rows } = await sql<{
          n: number;
        }>`${sql.raw(preparedStatement('probe_add'))} SELECT ${i}::int + 1 AS n`.execute(conn);
        expect(rows).toEqual([{ n: i + 1 }]);
      }
      await sql`SELECT 1 AS unmarked`.execute(conn);
      return (
        await sql<{ name: string; plans: number }>`
          SELECT name, (generic_plans + custom_plans)::int AS plans FROM pg_prepared_statements ORDER BY name`.execute(
          conn,
        )
      ).rows;
    });
    expect(seen).toEqual([{ name: 'probe_add', plans: 3 }]);
  });

  it('runs the insert of readings as the prepared statement insert_readings, with the same outcomes', async () => {
    await t.addPatient('p-prep');
    await t.provisionDevice('d-prep', 'p-prep');
    const now = Date.now();
    const reading = (id: string, value: number) => {
      const decoded = decodeReading(
        { id, type: 'heart_rate', at: now - 1000, value, unit: '/min' },
        { now, maxAgeMs: 86_400_000, maxFutureMs: 300_000 },
      );
      if (!decoded.ok) throw new Error('test reading rejected');
      return decoded.reading;
    };
    await new Partitions(t.db).ensureFor([now]);
    const outcomes = await t.db.connection().execute(async (conn) => {
      const results = [];
      // More executions than PostgreSQL's five custom plans: the generic plan's outcomes too.
      for (let i = 0; i < 7; i++) {
        const [outcome] = await writeMessages(conn, [
          {
            deviceId: 'd-prep',
            receivedAt: now,
            readings: [reading(`r${i}`, 60), reading('r0', 60 + i)],
            rejections: [],
          },
        ]);
        results.push({ stored: outcome.stored, duplicates: outcome.duplicates, rejections: outcome.rejections.length });
      }
      const { rows } = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(conn);
      expect(rows.map((r) => r.name)).toContain('insert_readings');
      return results;
    });
    // r0 first stored, then sent again with the same value (duplicate) and other values (conflicts).
    expect(outcomes).toEqual([
      { stored: 1, duplicates: 1, rejections: 0 },
      ...Array.from({ length: 6 }, () => ({ stored: 1, duplicates: 0, rejections: 1 })),
    ]);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM readings WHERE device_id = 'd-prep'`);
    expect(rows[0].n).toBe(7);
  });
});
