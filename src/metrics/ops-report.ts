import type { Metrics } from './metrics.ts';

/** Where the figures of the ops report come from, besides the metrics. */
export interface OpsReportSources {
  readonly metrics: Metrics;
  /** The batcher's queue (ingest/). */
  readonly queue: { readonly depth: { rows: number; bytes: number; waiting: number } };
  /** The embedded broker. */
  readonly broker: { readonly connectedDevices: number };
  /** Ports the service listens on, filled in once it listens (empty before). */
  readonly listeners: { mqtt?: number; mqtts?: number; mqttWs?: number; http?: number; https?: number };
}

/**
 * What GET /api/v1/ops/ingestion returns (http/routes/ops.routes.ts,
 * `ingestionReport`): throughput and latencies, the queue, connected devices,
 * rejections by reason since the start, aggregation lag, and the listeners.
 */
export async function buildOpsReport(sources: OpsReportSources) {
  const { metrics } = sources;
  const rejected = await metrics.readingsRejected.get();
  const depth = sources.queue.depth;
  return {
    ...metrics.ingestion.snapshot(),
    queue: { rows: depth.rows, bytes: depth.bytes, waitingMessages: depth.waiting },
    connectedDevices: sources.broker.connectedDevices,
    rejectionsByReason: Object.fromEntries(rejected.values.map((v) => [String(v.labels.reason), v.value])),
    aggregation: {
      lagSeconds: (await metrics.aggregationLagSeconds.get()).values[0]?.value ?? 0,
      lastRunAt: lastRunIso((await metrics.aggregationLastRun.get()).values[0]?.value),
    },
    listeners: sources.listeners,
  };
}

export type OpsReport = Awaited<ReturnType<typeof buildOpsReport>>;

function lastRunIso(seconds: number | undefined): string | null {
  return seconds ? new Date(seconds * 1000).toISOString() : null;
}
