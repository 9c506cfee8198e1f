/**
 * The error-code registry (src/errors.ts) kept honest, as fastify's tests do for
 * its own codes: the one HTTP error handler answers every code with its status
 * and the body `{ error: { code, message } }`, and README.md's "Error codes"
 * table lists exactly the codes of the registry with those statuses.
 */
import { KeyRing, SecretKey } from '../../../src/domain/secret-keys.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ERROR_STATUS, type ErrorCode } from '../../../src/errors.ts';
import { buildHttpServer } from '../../../src/http/server.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';
import type { Db } from '../../../src/store/database.ts';

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The rows of the table under the README heading "Error codes": code → status. */
function readmeErrorTable(): Map<string, number> {
  const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');
  const lines = readme.split('\n');
  const heading = lines.findIndex((l) => /^#+ Error codes\s*$/.test(l));
  expect(heading, 'README.md has an "Error codes" heading').toBeGreaterThan(-1);
  const table = new Map<string, number>();
  for (const line of lines.slice(heading + 1)) {
    if (/^#/.test(line)) break;
    const row = /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (!row) continue;
    expect(table.has(row[1]), `${row[1]} listed once`).toBe(false);
    table.set(row[1], Number(row[2]));
  }
  return table;
}

describe('error codes', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    // No request here reaches the database, the broker or the metrics: the routes below only throw.
    app = await buildHttpServer({
      log: createLogger('silent'),
      metrics: createMetrics(),
      adminToken: undefined,
      readiness: async () => ({ database: true, broker: true }),
      db: {} as Db,
      keys: new KeyRing(new SecretKey(Buffer.alloc(32), 'test')),
      now: () => new Date(),
      ingestion: async () => {
        throw new Error('not used');
      },
    });
    app.get('/registry-test/:code', async (request) => {
      const { code } = request.params as { code: ErrorCode };
      throw new AppError(code, `a ${code} error`);
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it.each(CODES)('%s is answered with its status by the HTTP error handler', async (code) => {
    const response = await app.inject({ method: 'GET', url: `/registry-test/${code}` });
    expect(response.statusCode).toBe(ERROR_STATUS[code]);
    const body = response.json();
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
  });

  it('README.md documents exactly the codes of the registry, each with its status', () => {
    expect(Object.fromEntries(readmeErrorTable())).toEqual({ ...ERROR_STATUS });
  });
});
