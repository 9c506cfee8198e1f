import { describe, expect, it } from 'vitest';
import { ingestionReport } from '../../../src/http/routes/ops.routes.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';
import { buildOpsReport, combineInstanceReports, type OpsReport } from '../../../src/metrics/ops-report.ts';

/**
 * What the view adds to one instance's report (src/actions/instance-reports.ts), and the
 * notification outbox's figures, read from the database by src/app.ts (README, "Notifications").
 */
const VIEW_KEYS = ['instance', 'instances', 'total', 'instancesUnavailable', 'notifications', 'mesPushes'];

describe('buildOpsReport (GET /api/v1/ops/ingestion)', () => {
  it('has exactly the fields of the route’s schema, from the metrics, the queue, the broker and the listeners', async () => {
    const metrics = createMetrics();
    metrics.readingsRejected.labels('unit').inc(3);
    metrics.aggregationLagSeconds.set(4);
    metrics.aggregationLastRun.set(Date.parse('2026-11-22T08:00:00Z') / 1000);
    metrics.ingestion.recordAck(0.012);
    const listeners: { mqtt?: number; http?: number } = {};
    const report = await buildOpsReport({
      metrics,
      queue: { depth: { rows: 5, bytes: 700, waiting: 2 } },
      broker: { connectedDevices: 7 },
      listeners,
    });
    listeners.mqtt = 1883;

    expect(Object.keys(report).sort()).toEqual(
      Object.keys(ingestionReport.shape)
        .filter((k) => !VIEW_KEYS.includes(k))
        .sort(),
    );
    const view = {
      ...report,
      instance: 'a',
      ...combineInstanceReports({ instanceId: 'a', startedAt: new Date(0), report }, [], new Date()),
      instancesUnavailable: false,
    };
    expect(ingestionReport.parse(view)).toEqual(view);
    expect(report.queue).toEqual({ rows: 5, bytes: 700, waitingMessages: 2 });
    expect(report.connectedDevices).toBe(7);
    expect(report.rejectionsByReason.unit).toBe(3);
    expect(report.rejectionsByReason.too_old).toBe(0);
    expect(report.aggregation).toEqual({ lagSeconds: 4, lastRunAt: '2026-11-22T08:00:00.000Z' });
    expect(report.ackLatencyMs.samples).toBe(1);
    // The listeners are the app's, filled in once it listens.
    expect(report.listeners).toEqual({ mqtt: 1883 });
  });

  it('reports no aggregation run before the first one', async () => {
    const report = await buildOpsReport({
      metrics: createMetrics(),
      queue: { depth: { rows: 0, bytes: 0, waiting: 0 } },
      broker: { connectedDevices: 0 },
      listeners: {},
    });
    expect(report.aggregation).toEqual({ lagSeconds: 0, lastRunAt: null });
  });
});

describe('combineInstanceReports (every instance, and the sum of the live ones)', () => {
  const base = async (connectedDevices: number): Promise<OpsReport> => {
    const metrics = createMetrics();
    return buildOpsReport({
      metrics,
      queue: { depth: { rows: connectedDevices, bytes: 10 * connectedDevices, waiting: 1 } },
      broker: { connectedDevices },
      listeners: {},
    });
  };
  const now = new Date('2026-12-07T12:00:00Z');
  const row = (instanceId: string, ageMs: number, report: OpsReport) => ({
    instanceId,
    startedAt: new Date('2026-12-07T10:00:00Z'),
    reportedAt: new Date(now.getTime() - ageMs),
    ageMs,
    report,
  });

  it('sums the live instances, lists the silent one apart, and takes this instance from the process', async () => {
    const a = await base(2);
    const b = {
      ...(await base(3)),
      readingsPerSecond: { last1s: 5, last1m: 4, last15m: 3 },
      rejectionsByReason: { unit: 2, future: 1 },
      ackLatencyMs: { samples: 9, p50: 5, p95: 20, p99: 40, max: 41 },
      aggregation: { lagSeconds: 7, lastRunAt: '2026-12-07T11:59:58.000Z' },
    };
    const gone = { ...(await base(50)), rejectionsByReason: { unit: 100 } };
    const staleSelf = await base(99);
    const { instances, total } = combineInstanceReports(
      { instanceId: 'b-self', startedAt: new Date(0), report: a },
      [row('c-gone', 15_001, gone), row('b-self', 60_000, staleSelf), row('a-peer', 15_000, b)],
      now,
    );

    expect(instances.map((i) => [i.instanceId, i.live, i.self, i.connectedDevices])).toEqual([
      ['a-peer', true, false, 3],
      ['b-self', true, true, 2],
      ['c-gone', false, false, 50],
    ]);
    expect(instances[0]!.rejections).toBe(3);
    expect(instances[1]!.reportedAt).toBe(now.toISOString());
    expect(total).toEqual({
      live: 2,
      readingsPerSecond: { last1s: 5, last1m: 4, last15m: 3 },
      connectedDevices: 5,
      queue: { rows: 5, bytes: 50, waitingMessages: 2 },
      rejectionsByReason: expect.objectContaining({ unit: 2, future: 1 }),
      ackLatencyP99Ms: 40,
      aggregation: { lagSeconds: 7, lastRunAt: '2026-12-07T11:59:58.000Z' },
    });
  });

  it('is this instance alone when no other reported', async () => {
    const a = await base(1);
    const { instances, total } = combineInstanceReports(
      { instanceId: 'solo', startedAt: new Date(0), report: a },
      [],
      now,
    );
    expect(instances).toHaveLength(1);
    expect(total).toMatchObject({
      live: 1,
      connectedDevices: 1,
      ackLatencyP99Ms: null,
      aggregation: { lastRunAt: null },
    });
  });
});
