import type { Metrics } from './metrics.ts';

/** Sets the queue gauges from the batcher's depth: called when /metrics is scraped, not on every message. */
export function refreshQueueGauges(metrics: Metrics, depth: { rows: number; bytes: number; waiting: number }): void {
  metrics.queueRows.set(depth.rows);
  metrics.queueBytes.set(depth.bytes);
  metrics.queueWaiting.set(depth.waiting);
}
