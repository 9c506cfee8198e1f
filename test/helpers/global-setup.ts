import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../../src/logger.ts';
import { createDatabase } from '../../src/store/database.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/database-server/embedded-postgres.ts';
import { migrateToLatest } from '../../src/store/migrations.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a maintenance database on the test server. */
    pgAdminUrl: string;
    /** A migrated database that each test file clones. */
    pgTemplate: string;
    /** How the server was found: DATABASE_URL, testcontainers or embedded. */
    pgSource: string;
  }
}

/**
 * PostgreSQL for the suite, found in this order: DATABASE_URL; testcontainers
 * when a container runtime answers; an embedded PostgreSQL from npm. One
 * migrated template database is made here; each test file clones its own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', process.stderr);
  // The dashboard bundle the services under test serve, built once from the current source
  // (never a stale one) before any test file runs: built by each browser test file, the
  // builds emptied dashboard/dist under another file's page while it loaded (about 1 s).
  await build({ root: path.join(import.meta.dirname, '..', '..', 'dashboard'), logLevel: 'warn' });
  const cleanups: (() => Promise<void>)[] = [];
  let adminUrl: string;
  let source: string;

  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    source = 'DATABASE_URL';
  } else if (await containerRuntimeAnswers()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    cleanups.push(async () => {
      await container.stop();
    });
    adminUrl = container.getConnectionUri();
    source = 'testcontainers';
  } else {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vitalink-test-pg-'));
    const embedded: EmbeddedPostgres = await startEmbeddedPostgres(dir, log);
    cleanups.push(async () => {
      await embedded.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    // The superuser: the tests create databases (and the role split's roles).
    adminUrl = embedded.url;
    source = 'embedded';
  }

  const template = `vitalink_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  const { db } = createDatabase(withDatabase(adminUrl, template), 1, log);
  await migrateToLatest(db, log);
  await db.destroy();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);
  project.provide('pgSource', source);
  process.stderr.write(`test PostgreSQL: ${source}\n`);

  return async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${template}`).catch(() => {});
    await c.end();
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function containerRuntimeAnswers(): Promise<boolean> {
  const socket = process.env.DOCKER_HOST || existsSync('/var/run/docker.sock');
  if (!socket) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 10_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}
