/** Latency figures: nearest-rank percentiles, in milliseconds with two decimals. */
export interface Latency {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function latencyOf(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50Ms: round2(percentile(sorted, 50)), p99Ms: round2(percentile(sorted, 99)), samples: sorted.length };
}
