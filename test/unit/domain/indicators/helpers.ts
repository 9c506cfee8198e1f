import type { Indicator } from '../../../../src/domain/indicators/types.ts';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** A fixed computation time: 2026-06-15T12:00:00Z (a fake clock, not Date.now()). */
export const TO = Date.UTC(2026, 5, 15, 12, 0, 0);

export function byKey(indicators: readonly Indicator[], key: string): Indicator {
  const found = indicators.filter((i) => i.key === key);
  if (found.length !== 1) throw new Error(`expected one indicator ${key}, got ${found.length}`);
  return found[0];
}

export function valueOf(indicators: readonly Indicator[], key: string): number | null {
  return byKey(indicators, key).value;
}
