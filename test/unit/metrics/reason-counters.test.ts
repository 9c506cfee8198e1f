import { describe, expect, it } from 'vitest';
import { CLOSE_REASONS } from '../../../src/domain/close-reasons.ts';
import { REFUSAL_REASONS } from '../../../src/domain/refusal-reasons.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';

describe('connection reason counters', () => {
  it('count each reason of the catalogues under its own label', async () => {
    const metrics = createMetrics();
    for (const reason of CLOSE_REASONS) metrics.connectionsClosed.labels(reason).inc();
    for (const reason of REFUSAL_REASONS) metrics.connectionsRefused.labels(reason).inc(2);
    const closed = (await metrics.connectionsClosed.get()).values;
    const refused = (await metrics.connectionsRefused.get()).values;
    expect(closed.map((v) => [v.labels.reason, v.value])).toEqual(CLOSE_REASONS.map((r) => [r, 1]));
    expect(refused.map((v) => [v.labels.reason, v.value])).toEqual(REFUSAL_REASONS.map((r) => [r, 2]));
  });

  it('take only reasons of the catalogues (checked by the compiler)', () => {
    const metrics = createMetrics();
    // @ts-expect-error -- not a close reason: a new reason must be added to the catalogue first
    metrics.connectionsClosed.labels('no_such_reason');
    // @ts-expect-error -- a close reason is not a refusal reason
    metrics.connectionsRefused.labels('ack_hold_timeout');
    expect(new Set(CLOSE_REASONS).size).toBe(CLOSE_REASONS.length);
    expect(new Set(REFUSAL_REASONS).size).toBe(REFUSAL_REASONS.length);
  });
});
