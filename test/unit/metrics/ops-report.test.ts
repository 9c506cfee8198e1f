import { describe, expect, it } from 'vitest';
import { ingestionReport } from '../../../src/http/routes/ops.routes.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';
import { buildOpsReport } from '../../../src/metrics/ops-report.ts';

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

    expect(Object.keys(report).sort()).toEqual(Object.keys(ingestionReport.shape).sort());
    expect(ingestionReport.parse(report)).toEqual(report);
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
