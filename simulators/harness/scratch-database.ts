import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A database of its own on a PostgreSQL server, for a tool or a test run: created
 * with a random name, dropped at the end. Plain `pg`, no product code, so the
 * bench, the scripts and the tests share it without importing the service.
 */
export interface ScratchDatabase {
  readonly name: string;
  /** The server's URL with this database's name in its path. */
  readonly url: string;
  /** DROP DATABASE ... WITH (FORCE): ends the sessions still connected to it. */
  drop(): Promise<void>;
}

/** The same server, user and options, another database. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** `prefix_<random hex>`: a name no other run picks. */
export function scratchDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the server of `serverUrl` (its database name is only where to connect). */
export async function createScratchDatabase(
  serverUrl: string,
  options: { prefix: string; name?: string },
): Promise<ScratchDatabase> {
  const name = options.name ?? scratchDatabaseName(options.prefix);
  await onServer(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: databaseUrlFor(serverUrl, name),
    drop: () => onServer(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
