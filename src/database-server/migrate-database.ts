import { sql } from 'kysely';
import type { Logger } from '../logger.ts';
import { createDatabase } from '../store/database.ts';
import { migrateToLatest } from '../store/migrations.ts';
import { type DatabaseRoles, describeDatabaseRoles, grantServiceRole } from '../store/service-grants.ts';
import { describeUrl, type OpenDatabase } from './open-database.ts';

export interface DatabaseMigration {
  /** The migrations applied by this run. */
  readonly applied: string[];
  /** Who runs the service and who owns the tables, after the run. */
  readonly roles: DatabaseRoles;
  /** The migrations ran on DATABASE_MIGRATION_URL, and the service role's privileges were applied. */
  readonly granted: boolean;
}

/**
 * Applies the pending migrations (README, "Security", "Database roles"). With
 * `migrationUrl` (DATABASE_MIGRATION_URL, or the embedded database's superuser)
 * they run on the owner's connection, opened for this and closed after, and the
 * privileges of the service's role (the user of `db`, DATABASE_URL) are applied
 * again, whatever the run changed. Without it they run on `db` itself: when that
 * role owns the tables, as a single-role installation does, that is the behaviour
 * before the split; when it does not (the owner migrated), nothing is pending and
 * the run only reads the migrations' table.
 */
export async function migrateDatabase(
  database: Pick<OpenDatabase, 'db' | 'migrationUrl'> & { readonly url?: string },
  log: Logger,
): Promise<DatabaseMigration> {
  const { db: service, migrationUrl } = database;
  if (!migrationUrl) {
    // A connection of its own, without the service's session bounds (README, "Database
    // sessions"): a migration may build an index for minutes, or wait for another
    // instance's migrations on the lock.
    const own = database.url ? createDatabase(database.url, 1, log, 'vitalink:migrate').db : undefined;
    try {
      const { applied } = await migrateToLatest(own ?? service, log).catch((error: unknown) => {
        throw explainPermission(error);
      });
      return { applied, roles: await describeDatabaseRoles(service), granted: false };
    } finally {
      await own?.destroy();
    }
  }
  const { db: owner } = createDatabase(migrationUrl, 1, log);
  try {
    await sql`SELECT 1`.execute(owner).catch((error: unknown) => {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(
        `could not connect to PostgreSQL at ${describeUrl(migrationUrl)} (DATABASE_MIGRATION_URL): ${why}. Check DATABASE_MIGRATION_URL (the owner role of the database of DATABASE_URL), or unset it to migrate with DATABASE_URL`,
        { cause: error },
      );
    });
    const who = sql<{ role: string; database: string }>`SELECT current_user AS role, current_database() AS database`;
    const [{ rows: ownerRows }, { rows: serviceRows }] = await Promise.all([who.execute(owner), who.execute(service)]);
    const [ownerSide, serviceSide] = [ownerRows[0]!, serviceRows[0]!];
    if (ownerSide.database !== serviceSide.database) {
      throw new Error(
        `DATABASE_MIGRATION_URL names the database ${ownerSide.database} and DATABASE_URL ${serviceSide.database}: both must name the database the service uses, as its owner and as the service's role`,
      );
    }
    const { applied } = await migrateToLatest(owner, log);
    const granted = ownerSide.role !== serviceSide.role;
    if (granted) await grantServiceRole(owner, serviceSide.role);
    return { applied, roles: await describeDatabaseRoles(service), granted };
  } finally {
    await owner.destroy();
  }
}

/** A migration refused for lack of privileges: the service's role is not the owner. */
function explainPermission(error: unknown): unknown {
  if (!(error instanceof Error) || !/permission denied|must be owner/.test(error.message)) return error;
  return new Error(
    `${error.message}. The role of DATABASE_URL may not change the schema: set DATABASE_MIGRATION_URL to the owner role of the database (README, "Database roles") and run vitalink migrate, or start serve with it`,
    { cause: error },
  );
}
