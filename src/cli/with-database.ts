import type { Config } from '../config.ts';
import type { OpenDatabase } from '../database-server/open-database.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import type { Logger } from '../logger.ts';

export interface CommandDatabase extends OpenDatabase {
  readonly config: Config;
  readonly log: Logger;
  /** The keys of device secrets and API tokens, from the same settings as `serve` (README, "Rotating the key"). */
  keys(): Promise<KeyRing>;
}

/**
 * Every admin command works on the same database as `serve` (interfaces.md):
 * DATABASE_URL, or the embedded one in VITALINK_DATA_DIR, migrated first unless
 * the command is `migrate` itself. Its logs go to stderr, warnings only, so that
 * stdout holds the result alone. The database modules (config's zod, Kysely, pg,
 * pino) are imported here, when a command runs, so that its --help loads none.
 */
export async function withDatabase<T>(
  work: (database: CommandDatabase) => Promise<T>,
  options: { migrate: boolean } = { migrate: true },
): Promise<T> {
  const [{ loadConfig }, { openDatabase }, { createLogger }, { migrateDatabase }, { resolveKeyRing }] =
    await Promise.all([
      import('../config.ts'),
      import('../database-server/open-database.ts'),
      import('../logger.ts'),
      import('../database-server/migrate-database.ts'),
      import('../actions/secret-keys.ts'),
    ]);
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
  const database = await openDatabase(config, log, 2, 10_000);
  try {
    if (options.migrate) await migrateDatabase(database, log);
    return await work({ ...database, config, log, keys: () => resolveKeyRing(database.db, config.secretKeys) });
  } finally {
    await database.close();
  }
}
