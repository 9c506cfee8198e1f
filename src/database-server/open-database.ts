import { sql } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createDatabase, type Db, isRetryableDatabaseError } from '../store/database.ts';
import type { DatabaseReachability } from '../store/database-reachability.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface OpenDatabase {
  /** The service's connection: DATABASE_URL, or the embedded database as its service role. */
  readonly db: Db;
  readonly pool: pg.Pool;
  /** Whether `db` answers now; one log line per change (src/store/database-reachability.ts). */
  readonly reachability: DatabaseReachability;
  /** Where `db` connects (its sessions bounded by VITALINK_DB_*; the migrations use a connection of their own). */
  readonly url: string;
  /**
   * The owner's connection for the migrations (README, "Database roles"):
   * DATABASE_MIGRATION_URL, or the embedded database's superuser; undefined: `db`'s.
   */
  readonly migrationUrl: string | undefined;
  /** Closes the pool, then stops the embedded server if this process started it. */
  close(): Promise<void>;
}

/** Where to connect, without credentials, for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the configured DATABASE_URL';
  }
}

/**
 * Opens the database of the configuration: DATABASE_URL, or the embedded
 * PostgreSQL in VITALINK_DATA_DIR. Waits up to `waitMs` for the server to answer.
 */
export async function openDatabase(
  config: Config,
  log: Logger,
  poolSize: number,
  waitMs = 30_000,
): Promise<OpenDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  let migrationUrl = config.databaseMigrationUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres(
      config.dataDir,
      log.child({ component: 'embedded-postgres' }),
      config.embeddedPlacement,
    );
    // The embedded database has the role split of README, "Database roles" by default.
    url = embedded.serviceUrl;
    migrationUrl = embedded.url;
  }
  const { db, pool, reachability } = createDatabase(
    url,
    poolSize,
    log,
    `vitalink:${config.instanceId}`,
    config.dbSession,
  );
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`SELECT 1`.execute(db);
      break;
    } catch (error) {
      if (!isRetryableDatabaseError(error) || Date.now() > deadline) {
        await db.destroy().catch(() => {});
        await embedded?.stop().catch(() => {});
        const why = error instanceof Error ? error.message : String(error);
        throw new Error(
          `could not connect to PostgreSQL at ${describeUrl(url)}: ${why}. Check DATABASE_URL (or unset it to use the embedded database) and try again`,
          { cause: error },
        );
      }
      log.warn({ attempt, database: describeUrl(url) }, 'database not reachable yet, retrying');
      await new Promise((r) => setTimeout(r, Math.min(2_000, 200 * attempt)));
    }
  }
  return {
    db,
    pool,
    reachability,
    url,
    migrationUrl,
    close: async () => {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
