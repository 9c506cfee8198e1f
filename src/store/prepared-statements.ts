import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/**
 * Named (prepared) statements for the hot statements of the write path. A statement
 * whose text starts with `preparedStatement(name)` is sent as a named statement:
 * each connection parses it once, and after five executions PostgreSQL keeps one
 * generic plan for it, so a batch skips the parse and the planning of its statement
 * (about a third of the server's time for a batch of 150 single readings, measured
 * with log_min_duration_statement). Every other statement goes as it did.
 *
 * The name must stand for one text: pg refuses a second text under a name it has
 * already prepared on a connection. The text may change between releases (a new
 * connection prepares what it is given); PostgreSQL re-plans by itself after schema
 * changes (new partitions, migrations).
 */
export function preparedStatement(name: string): string {
  return `/* prepared:${name} */`;
}

const MARKER = /^\/\* prepared:([a-z_][a-z0-9_]*) \*\//;

/** The pool Kysely sees: pg's pool, whose clients send marked statements as named ones. */
export function withPreparedStatements(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = wrapClient(client);
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}

function wrapClient(client: pg.PoolClient): PostgresPoolClient {
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') {
      return client.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
    }
    const values = parameters as unknown[];
    const name = sqlOrCursor.startsWith('/* prepared:') ? MARKER.exec(sqlOrCursor)?.[1] : undefined;
    const result = name ? client.query({ name, text: sqlOrCursor, values }) : client.query(sqlOrCursor, values);
    return result as unknown as Promise<PostgresQueryResult<R>>;
  }
  return { query, release: () => client.release() };
}
