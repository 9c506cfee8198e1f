import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { deleteAuditBefore } from '../../src/store/retention.repository.ts';
import { useTestDatabase } from '../fixture.ts';

/**
 * audit_log is append-only against mistakes even for a role that owns it, or a
 * superuser (this file's database is the template's, owned by the test server's
 * user): the trigger of migration 2026-12-07T1340 refuses UPDATE and TRUNCATE, and
 * DELETE unless the transaction set vitalink.retention, which only
 * vitalink_delete_audit_before (migration 2026-12-07T1400), the retention job's path,
 * does, for its own statement. Against the service's role on the role split, the
 * privileges refuse them before the trigger: test/integration/database-roles.test.ts.
 * Real PostgreSQL.
 */

const t = useTestDatabase();

async function rows(): Promise<{ patient_id: string; action: string }[]> {
  return (await t.query(`SELECT patient_id, action FROM audit_log ORDER BY id`)).rows;
}

describe('audit_log is append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, and leaves the rows as they were', async () => {
    await t.query(
      `INSERT INTO audit_log (at, role, patient_id, action, outcome)
       VALUES (now() - interval '400 days', 'clinician', 'p-ao-1', 'readings.read', 'allowed'),
              (now(), 'clinician', 'p-ao-2', 'patients.read', 'denied')`,
    );
    const before = await rows();
    for (const statement of [
      `UPDATE audit_log SET action = 'nothing.happened'`,
      `UPDATE audit_log SET outcome = 'allowed' WHERE patient_id = 'p-ao-2'`,
      `DELETE FROM audit_log WHERE patient_id = 'p-ao-2'`,
      `TRUNCATE audit_log`,
    ]) {
      await expect(t.query(statement), statement).rejects.toThrow(/audit_log is append-only/);
    }
    // Only 'on' lets a DELETE through.
    await expect(
      t.query(`DO $$ BEGIN PERFORM set_config('vitalink.retention', 'off', true); DELETE FROM audit_log; END $$`),
    ).rejects.toThrow(/append-only: DELETE refused/);
    expect(await rows()).toEqual(before);
  });

  it("lets the retention job's path delete old entries, and only those", async () => {
    await t.query(
      `INSERT INTO audit_log (at, role, patient_id, action)
       SELECT now() - interval '500 days' - g * interval '1 minute', 'clinician', 'p-ao-old', 'readings.read'
       FROM generate_series(1, 12) g`,
    );
    const { removed, after } = await t.db.connection().execute(async (conn) => {
      const removed = await deleteAuditBefore(conn, new Date(Date.now() - 365 * 86_400_000));
      // The function sets vitalink.retention for its own DELETE only, not on the connection.
      const after = await sql`DELETE FROM audit_log`.execute(conn).then(
        () => 'deleted',
        (err: Error) => err.message,
      );
      return { removed, after };
    });
    expect(removed).toBe(13);
    expect(after).toMatch(/append-only: DELETE refused/);
    expect(await rows()).toEqual([{ patient_id: 'p-ao-2', action: 'patients.read' }]);
  });
});
