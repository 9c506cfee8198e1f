/**
 * Small statistics over plain numbers, full precision. Each returns null when
 * the statistic is undefined for the number of values it is given.
 */

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : sum(values) / values.length;
}

/**
 * Sample standard deviation (n − 1 denominator), as the daily rollups of
 * indicators.md ("standard deviation (sample)"); undefined (null) below 2 values.
 * Two passes (mean, then squared deviations) to avoid cancellation.
 */
export function sampleSd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = sum(values) / values.length;
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / (values.length - 1));
}

export function min(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let result = values[0];
  for (const v of values) if (v < result) result = v;
  return result;
}

export function max(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let result = values[0];
  for (const v of values) if (v > result) result = v;
  return result;
}

/** 100 × (values satisfying `test`) / (all values), in %; null when there are none. */
export function percentWhere(values: readonly number[], test: (v: number) => boolean): number | null {
  if (values.length === 0) return null;
  let count = 0;
  for (const v of values) if (test(v)) count++;
  return (100 * count) / values.length;
}
