import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrlFor } from '../../simulators/harness/scratch-database.ts';
import { createLogger } from '../../src/logger.ts';
import { createDatabase, type Db } from '../../src/store/database.ts';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  readonly db: Db;
  /** Runs one SQL statement on a fresh connection (for assertions and locks). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

/**
 * A TestDatabase on a database the test made itself (its own cluster, say): not
 * migrated (the service migrates it at start); `drop` closes the pool and runs `dispose`.
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
  const url = databaseUrlFor(adminUrl, name);
  const { db } = createDatabase(url, 4, createLogger('silent'));
  return {
    url,
    name,
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
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await c.end();
    },
  };
}
