import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrlFor } from '../../simulators/harness/scratch-database.ts';
import { migrateDatabase } from '../../src/database-server/migrate-database.ts';
import { createLogger } from '../../src/logger.ts';
import { createDatabase, type Db } from '../../src/store/database.ts';

export interface TestDatabase {
  /** Where the test connects: the owner of the tables. */
  readonly url: string;
  /**
   * With `createRoleSplitDatabase`: the service's role, which owns nothing
   * (README, "Security", "Database roles"); the database's owner is `url`'s user.
   */
  readonly roles?: { readonly owner: string; readonly service: string; readonly serviceUrl: string };
  readonly name: string;
  readonly db: Db;
  /** Runs one SQL statement on a fresh connection (for assertions and locks). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

/**
 * A TestDatabase on the database at `url`: a clone of the template, or one the test
 * made itself (its own cluster, say; not migrated: the service migrates it at start).
 * `drop` closes the pool and runs `dispose`.
 */
export function wrapTestDatabase(url: string, dispose: () => Promise<void>): TestDatabase {
  const { db } = createDatabase(url, 4, createLogger('silent'));
  return {
    url,
    name: new URL(url).pathname.slice(1),
    db,
    async query(text, values) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(text, values);
      } finally {
        await client.end();
      }
    },
    async drop() {
      await db.destroy();
      await dispose();
    },
  };
}

/** A database of its own for a test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `vitalink_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      break;
    } catch (error) {
      if (attempt > 20 || (error as { code?: string }).code !== '55006') throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await admin.end();
  return wrapTestDatabase(databaseUrlFor(adminUrl, name), async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await c.end();
  });
}

/** `url` with `user` (no password: the test server trusts 127.0.0.1). */
export function databaseUrlAs(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
}

/**
 * A database of its own with the role split of README, "Database roles": two
 * roles made for this run (`vitalink_owner_<hex>`, `vitalink_service_<hex>`, LOGIN,
 * nothing else), the database owned by the first and migrated by it on
 * DATABASE_MIGRATION_URL as `vitalink migrate` does, which grants the second its
 * privileges (`migrate: false`: left empty). `url` is the owner's; `drop` removes
 * the database and both roles.
 */
export async function createRoleSplitDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const suffix = randomBytes(5).toString('hex');
  const owner = `vitalink_owner_${suffix}`;
  const service = `vitalink_service_${suffix}`;
  const name = `vitalink_test_roles_${suffix}`;
  const onServer = async (database: string, statements: string[]) => {
    const c = new pg.Client({ connectionString: databaseUrlFor(adminUrl, database) });
    await c.connect();
    try {
      for (const statement of statements) await c.query(statement);
    } finally {
      await c.end();
    }
  };
  const adminDatabase = new URL(adminUrl).pathname.slice(1) || 'postgres';
  // What the operator runs once (README, "Database roles"), with names of this run.
  await onServer(adminDatabase, [
    `CREATE ROLE ${owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`,
    `CREATE ROLE ${service} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`,
    `CREATE DATABASE ${name} OWNER ${owner}`,
  ]);
  await onServer(name, [`REVOKE CREATE ON SCHEMA public FROM PUBLIC`, `GRANT USAGE ON SCHEMA public TO ${service}`]);
  const url = databaseUrlAs(databaseUrlFor(adminUrl, name), owner);
  const serviceUrl = databaseUrlAs(url, service);
  const log = createLogger('silent');
  if (options.migrate !== false) {
    const serviceDb = createDatabase(serviceUrl, 1, log).db;
    try {
      await migrateDatabase({ db: serviceDb, migrationUrl: url }, log);
    } finally {
      await serviceDb.destroy();
    }
  }
  const roles = { owner, service, serviceUrl };
  // Default privileges live in the database: once it is gone, the roles can go.
  const database = wrapTestDatabase(url, () =>
    onServer(adminDatabase, [
      `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
      `DROP ROLE IF EXISTS ${service}`,
      `DROP ROLE IF EXISTS ${owner}`,
    ]),
  );
  return { ...database, roles };
}
