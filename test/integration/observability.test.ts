/**
 * README, "Operations", "Metrics" and "Logs": what an operator scrapes and reads.
 * The real service with its log lines captured, real HTTP requests, and the
 * database cut through a TCP proxy (as test/integration/database-outage.test.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../fixture.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { StreamingDevice, waitFor } from '../helpers/device.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';

const t = useTestDatabase();
const behind = databaseBehindProxy();
const ADMIN = 'observability-admin-token-0123456789';
const PATIENT = 'p-obs-8731';

let app: TestApp;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  await t.addPatient(PATIENT);
  await t.addPatient('p-obs-2');
  // Two open alerts (critical, high), one acknowledged (critical), one resolved (not counted).
  const insert = (patient: string, rule: string, status: string) =>
    t.query(
      `INSERT INTO alerts (patient_id, rule, status, opened_at, threshold, reading_ids) VALUES ($1, $2, $3, now(), '1'::jsonb, '{}')`,
      [patient, rule, status],
    );
  await insert(PATIENT, 'hypoglycemia', 'open');
  await insert(PATIENT, 'spo2_low', 'open');
  await insert('p-obs-2', 'bp_high', 'acknowledged');
  await insert('p-obs-2', 'fever', 'resolved');
  const env = await behind.env(t.database);
  app = await startTestApp(t.database, { ...env, VITALINK_ADMIN_TOKEN: ADMIN }, logs);
});

afterAll(async () => {
  await app?.stop();
  await behind.afterStop();
});

const url = (path: string) => `http://127.0.0.1:${app.ports.http}${path}`;
const scrape = async () => (await fetch(url('/metrics'))).text();

/** The value of one series, e.g. `vitalink_alerts_open{severity="critical"}`; undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts open and acknowledged alerts by the severity of their rule', async () => {
    const text = await scrape();
    expect(value(text, 'vitalink_alerts_open{severity="critical"}')).toBe(1);
    expect(value(text, 'vitalink_alerts_open{severity="high"}')).toBe(1);
    expect(value(text, 'vitalink_alerts_open{severity="moderate"}')).toBe(0);
    expect(value(text, 'vitalink_alerts_open{severity="low"}')).toBe(0);
    expect(value(text, 'vitalink_alerts_acknowledged{severity="critical"}')).toBe(1);
    expect(value(text, 'vitalink_alerts_acknowledged{severity="moderate"}')).toBe(0);
  });

  it('says which version runs on which Node.js, and that the database answers', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const text = await scrape();
    expect(value(text, `vitalink_build_info{version="${version}",node="${process.versions.node}"}`)).toBe(1);
    expect(value(text, 'vitalink_database_up')).toBe(1);
  });

  it('times HTTP requests by method, route pattern and status class, never by their URL', async () => {
    const headers = { authorization: `Bearer ${ADMIN}` };
    expect((await fetch(url(`/api/v1/patients/${PATIENT}`), { headers })).status).toBe(200);
    expect((await fetch(url('/api/v1/patients/p-obs-missing'), { headers })).status).toBe(404);
    expect((await fetch(url(`/no-such-route/${PATIENT}?token=abc`))).status).toBe(404);
    const text = await scrape();
    const count = (labels: string) => value(text, `vitalink_http_request_duration_seconds_count{${labels}}`);
    expect(count('method="GET",route="/api/v1/patients/:id",status_class="2xx"')).toBe(1);
    expect(count('method="GET",route="/api/v1/patients/:id",status_class="4xx"')).toBe(1);
    expect(count('method="GET",route="unmatched",status_class="4xx"')).toBe(1);
    expect(text).not.toContain(PATIENT);
    expect(text).not.toContain('p-obs-missing');
  });
});

describe('logs', () => {
  it('name their level, and give one access line a request without ids of patients or tokens', async () => {
    logs.length = 0;
    const headers = { authorization: `Bearer ${ADMIN}` };
    const response = await fetch(url(`/api/v1/patients/${PATIENT}/readings?from=2026-01-01T00:00:00Z`), { headers });
    const requestId = response.headers.get('x-request-id');
    await waitFor(() => logs.some((l) => l.msg === 'request done' && l.reqId === requestId), 'the access line');
    const lines = logs.filter((l) => l.reqId === requestId && l.msg === 'request done');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      method: 'GET',
      route: '/api/v1/patients/:id/readings',
      status: response.status,
    });
    expect(typeof lines[0].ms).toBe('number');
    // A load balancer's health checks (every second) are not written at info when they pass.
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect((await fetch(url('/readyz'))).status).toBe(200);
    expect((await fetch(url('/metrics'))).status).toBe(200);
    await waitFor(() => logs.some((l) => l.route === '/metrics'), 'the access line of /metrics');
    expect(logs.filter((l) => l.route === '/healthz' || l.route === '/readyz')).toEqual([]);
    const text = JSON.stringify(logs);
    expect(text).not.toContain(PATIENT);
    expect(text).not.toContain(ADMIN);
  });

  it('say a database outage once when it starts and once when it ends, however long it lasts', async () => {
    // A device streaming, API requests, and the jobs (aggregation every second,
    // notifications, reports) run through the cut: batches retry, jobs fail each round.
    const headers = { authorization: `Bearer ${ADMIN}` };
    const device = new StreamingDevice(
      `mqtt://127.0.0.1:${app.ports.mqtt}`,
      'obs-dev',
      await t.provisionDevice('obs-dev'),
    );
    device.start(5, 2);
    await waitFor(() => device.acked.size >= 20, 'the stream to get going');
    logs.length = 0;
    behind.proxy.cut();
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      await fetch(url(`/api/v1/patients/${PATIENT}`), { headers });
      await fetch(url('/readyz'));
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(value(await scrape(), 'vitalink_database_up')).toBe(0);
    behind.proxy.restore();
    await waitFor(async () => (await fetch(url('/readyz'))).status === 200, 'the database back');
    await waitFor(async () => (await fetch(url(`/api/v1/patients/${PATIENT}`), { headers })).status === 200, 'reads');
    expect(value(await scrape(), 'vitalink_database_up')).toBe(1);
    const acked = device.acked.size;
    await waitFor(() => device.acked.size > acked + 20, 'the stream to resume');
    await device.stop();
    await device.close();

    const notAccess = logs.filter((l) => l.msg !== 'request done');
    // The primary's pool: one line down, one line up; nothing else at warn or error, no stack.
    expect(notAccess.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'database unreachable'],
      ['info', 'database reachable again'],
    ]);
    expect(notAccess[1]).toMatchObject({ failures: expect.any(Number), downMs: expect.any(Number) });
    expect(notAccess[1].failures as number).toBeGreaterThan(1);
    expect(JSON.stringify(notAccess)).not.toContain('stack');
    // Each request of the outage still has its access line, with its status.
    expect(logs.some((l) => l.msg === 'request done' && l.status === 500)).toBe(true);
  });
});
