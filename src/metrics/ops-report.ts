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

/** An instance that reports within this time of now counts as live (3 report intervals). */
export const INSTANCE_LIVE_WITHIN_MS = 15_000;

/** What one instance reported (src/actions/instance-reports.ts), as the ops view lists it. */
export interface InstanceSummary {
  readonly instanceId: string;
  readonly startedAt: string;
  readonly reportedAt: string;
  /** Reported within the last 15 s; an instance that stopped without saying so is listed, not live, for an hour. */
  readonly live: boolean;
  /** The instance that answered this request. */
  readonly self: boolean;
  readonly readingsPerSecond: OpsReport['readingsPerSecond'];
  readonly ackLatencyMs: OpsReport['ackLatencyMs'];
  readonly commitMs: OpsReport['commitMs'];
  readonly queue: OpsReport['queue'];
  readonly connectedDevices: number;
  readonly rejections: number;
  readonly aggregation: OpsReport['aggregation'];
}

/** Sums over the live instances (latencies are not summed: the worst instance's p99). */
export interface InstancesTotal {
  readonly live: number;
  readonly readingsPerSecond: OpsReport['readingsPerSecond'];
  readonly connectedDevices: number;
  readonly queue: OpsReport['queue'];
  readonly rejectionsByReason: Record<string, number>;
  readonly ackLatencyP99Ms: number | null;
  readonly aggregation: { readonly lagSeconds: number; readonly lastRunAt: string | null };
}

export interface ReportedInstance {
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly reportedAt: Date;
  readonly ageMs: number;
  readonly report: OpsReport;
}

/**
 * This instance's live report beside what the others last wrote: every instance
 * listed, live or silent, and the sum of the live ones. `self` is taken from this
 * process, never from the table (it may not have been written yet, or be stale).
 */
export function combineInstanceReports(
  self: { readonly instanceId: string; readonly startedAt: Date; readonly report: OpsReport },
  others: readonly ReportedInstance[],
  now: Date,
): { instances: InstanceSummary[]; total: InstancesTotal } {
  const all: Array<ReportedInstance & { self: boolean }> = [
    { ...self, reportedAt: now, ageMs: 0, self: true },
    ...others.filter((o) => o.instanceId !== self.instanceId).map((o) => ({ ...o, self: false })),
  ].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const instances = all.map((i): InstanceSummary => {
    const r = i.report;
    return {
      instanceId: i.instanceId,
      startedAt: i.startedAt.toISOString(),
      reportedAt: i.reportedAt.toISOString(),
      live: i.self || i.ageMs <= INSTANCE_LIVE_WITHIN_MS,
      self: i.self,
      readingsPerSecond: r.readingsPerSecond,
      ackLatencyMs: r.ackLatencyMs,
      commitMs: r.commitMs,
      queue: r.queue,
      connectedDevices: r.connectedDevices,
      rejections: Object.values(r.rejectionsByReason).reduce((a, b) => a + b, 0),
      aggregation: r.aggregation,
    };
  });
  const live = all.filter((i) => i.self || i.ageMs <= INSTANCE_LIVE_WITHIN_MS).map((i) => i.report);
  const sum = (f: (r: OpsReport) => number) => live.reduce((a, r) => a + f(r), 0);
  const rejectionsByReason: Record<string, number> = {};
  for (const r of live)
    for (const [reason, n] of Object.entries(r.rejectionsByReason))
      rejectionsByReason[reason] = (rejectionsByReason[reason] ?? 0) + n;
  const p99s = live.map((r) => r.ackLatencyMs.p99).filter((v): v is number => v !== null);
  const lastRuns = live.map((r) => r.aggregation.lastRunAt).filter((v): v is string => v !== null);
  return {
    instances,
    total: {
      live: live.length,
      readingsPerSecond: {
        last1s: sum((r) => r.readingsPerSecond.last1s),
        last1m: sum((r) => r.readingsPerSecond.last1m),
        last15m: sum((r) => r.readingsPerSecond.last15m),
      },
      connectedDevices: sum((r) => r.connectedDevices),
      queue: {
        rows: sum((r) => r.queue.rows),
        bytes: sum((r) => r.queue.bytes),
        waitingMessages: sum((r) => r.queue.waitingMessages),
      },
      rejectionsByReason,
      ackLatencyP99Ms: p99s.length ? Math.max(...p99s) : null,
      aggregation: {
        lagSeconds: Math.max(0, ...live.map((r) => r.aggregation.lagSeconds)),
        lastRunAt: lastRuns.length ? lastRuns.reduce((a, b) => (a > b ? a : b)) : null,
      },
    },
  };
}
