import { KeyRing, SecretKey } from '../../src/domain/secret-keys.ts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { useTestDatabase } from '../fixture.ts';

/**
 * The audit row and the access log line of one request carry the same request id
 * (the one sent back as X-Request-Id), so a data protection officer can join them.
 * The real HTTP server over a real socket, against a real PostgreSQL, with its log captured.
 */

const t = useTestDatabase();
const ADMIN = 'audit-log-admin-token-0123456789abcdef';
const lines: Record<string, any>[] = [];
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  await t.addPatient('p-log-1');
  app = await buildHttpServer({
    log: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }),
    metrics: createMetrics(),
    adminToken: ADMIN,
    readiness: async () => ({ database: true, broker: true }),
    db: t.db,
    keys: new KeyRing(new SecretKey(Buffer.alloc(32), 'test')),
    now: () => new Date(),
    ingestion: async () => {
      throw new Error('not used');
    },
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
});

describe('the access log line', () => {
  it('carries the request id of the audit row, the route pattern and the status, and no patient id', async () => {
    const res = await fetch(`${url}/api/v1/patients/p-log-1`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    const { rows } = await t.query(
      `SELECT request_id, principal, role, outcome, source_address FROM audit_log WHERE patient_id = 'p-log-1'`,
    );
    expect(rows).toEqual([
      {
        request_id: requestId,
        principal: 'admin-token',
        role: 'admin',
        outcome: 'allowed',
        source_address: '127.0.0.1',
      },
    ]);
    const done = lines.filter((l) => l.msg === 'request done');
    expect(done).toEqual([
      expect.objectContaining({ reqId: requestId, method: 'GET', route: '/api/v1/patients/:id', status: 200 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('p-log-1');
  });
});
