import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * The privileges of the service's database role when migrations run as another
 * role, the owner (README, "Security", "Database roles"). The migration runner
 * applies them after every run, from the catalogue: every table of the schema gets
 * what this file says, so a table that a new migration creates without a GRANT is
 * usable by the service at once, and a privilege granted by hand is taken back.
 * The service's role owns nothing, so it cannot drop a trigger, alter or truncate
 * a table, or grant itself more.
 */

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/** Every table not named below: the service reads and writes its rows. */
export const DEFAULT_TABLE_PRIVILEGES: readonly TablePrivilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

/**
 * Tables the service may change less of than the default (never TRUNCATE,
 * REFERENCES or TRIGGER on any table).
 */
export const SERVICE_TABLE_PRIVILEGES: Readonly<Record<string, readonly TablePrivilege[]>> = {
  // Append-only for the service: retention goes through vitalink_delete_audit_before.
  audit_log: ['SELECT', 'INSERT'],
  // Readings are never changed; retention drops whole months through vitalink_drop_reading_partition.
  readings: ['SELECT', 'INSERT'],
  // Alert history: appended to, never rewritten.
  alert_events: ['SELECT', 'INSERT'],
  // Reviewed marks: a record of who reviewed what, never changed (migration 2026-12-07T1760).
  patient_reviews: ['SELECT', 'INSERT'],
  // The key kept in the database by installations from before VITALINK_SECRET_KEY: read while
  // it verifies credentials, set to NULL once by `vitalink keys forget-database-key` (README,
  // "Rotating the key"), which runs as this role. Never written otherwise.
  installation: ['SELECT', 'UPDATE'],
  // Duplicate keys: claimed by ingestion, removed by retention, never changed.
  reading_keys: ['SELECT', 'INSERT', 'DELETE'],
  // The months whose keys retention removed (INSERT … ON CONFLICT DO UPDATE).
  reading_keys_pruned: ['SELECT', 'INSERT', 'UPDATE'],
  // The migration runner's bookkeeping: read to find that nothing is pending.
  vitalink_migrations: ['SELECT'],
  vitalink_migrations_lock: ['SELECT'],
};

/** What a month partition of readings gets: retention reads a partition's heap directly. */
export const PARTITION_PRIVILEGES: readonly TablePrivilege[] = ['SELECT'];

/** The SECURITY DEFINER functions of migration 2026-12-07T1400-service-role-functions. */
export const SERVICE_FUNCTIONS: readonly string[] = [
  'vitalink_ensure_reading_partition(timestamptz)',
  'vitalink_drop_reading_partition(text, integer)',
  'vitalink_delete_audit_before(timestamptz, integer)',
  'vitalink_hold_ingest()',
];

/** pg_advisory_xact_lock key of grantServiceRole: "vitalgrn". */
const GRANTS_LOCK_KEY = 0x7669_7461_6c67_726en;

export function privilegesOf(table: { name: string; partition: boolean }): readonly TablePrivilege[] {
  if (table.partition) return PARTITION_PRIVILEGES;
  return SERVICE_TABLE_PRIVILEGES[table.name] ?? DEFAULT_TABLE_PRIVILEGES;
}

/** Who connects and who owns the tables, as the service's connection sees it. */
export interface DatabaseRoles {
  /** The role of DATABASE_URL (current_user of the service's connection). */
  readonly service: string;
  /** The owner of audit_log. */
  readonly owner: string;
  /**
   * The service's role is neither the owner nor a member of it, nor a superuser:
   * the table privileges hold against it.
   */
  readonly split: boolean;
}

export async function describeDatabaseRoles(db: Db): Promise<DatabaseRoles> {
  const { rows } = await sql<{ service: string; owner: string; owns: boolean }>`
    SELECT current_user AS service, pg_get_userbyid(c.relowner) AS owner,
           pg_has_role(current_user, c.relowner, 'USAGE') AS owns
    FROM pg_class c WHERE c.oid = 'audit_log'::regclass`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('the database has no audit_log table; run `vitalink migrate` and try again');
  return { service: row.service, owner: row.owner, split: !row.owns };
}

/**
 * Gives `role` exactly the privileges above on every table of the current schema
 * (what it had before is revoked first), USAGE on its sequences, EXECUTE on the
 * service functions, and SELECT by default on the tables the owner creates later
 * (the month partitions that vitalink_ensure_reading_partition makes). Run by the
 * owner, in one transaction; idempotent.
 */
export async function grantServiceRole(owner: Db, role: string): Promise<void> {
  const grantee = sql.id(role);
  await owner.transaction().execute(async (trx) => {
    // Instances starting together would otherwise GRANT on the same rows at once
    // ("tuple concurrently updated"): one at a time, until this transaction ends.
    await sql`SELECT pg_advisory_xact_lock(${GRANTS_LOCK_KEY}::bigint)`.execute(trx);
    const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(trx);
    const schema = sql.id(rows[0]!.schema);
    const { rows: tables } = await sql<{ name: string; partition: boolean }>`
      SELECT c.relname AS name, c.relispartition AS partition
      FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
      ORDER BY 1`.execute(trx);
    await sql`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${grantee}`.execute(trx);
    for (const table of tables) {
      const privileges = sql.raw(privilegesOf(table).join(', '));
      await sql`GRANT ${privileges} ON TABLE ${sql.id(table.name)} TO ${grantee}`.execute(trx);
    }
    await sql`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${grantee}`.execute(trx);
    for (const fn of SERVICE_FUNCTIONS) await sql`GRANT EXECUTE ON FUNCTION ${sql.raw(fn)} TO ${grantee}`.execute(trx);
    const partitions = sql.raw(PARTITION_PRIVILEGES.join(', '));
    await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ${partitions} ON TABLES TO ${grantee}`.execute(trx);
  });
}
