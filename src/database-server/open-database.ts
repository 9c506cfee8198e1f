import { sql } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createDatabase, type Db, isRetryableDatabaseError } from '../store/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface OpenDatabase {
  readonly db: Db;
  readonly pool: pg.Pool;
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
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, log.child({ component: 'embedded-postgres' }));
    url = embedded.url;
  }
  const { db, pool } = createDatabase(url, poolSize, log, `vitalink:${config.instanceId}`);
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
    close: async () => {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
