import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { AlertGauges, type UnresolvedAlertCount } from '../../../src/metrics/alert-gauges.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';

async function gauge(metrics: ReturnType<typeof createMetrics>, name: 'alertsOpen' | 'alertsAcknowledged') {
  const { values } = await metrics[name].get();
  return Object.fromEntries(values.map((v) => [v.labels.severity, v.value]));
}

describe('AlertGauges', () => {
  it('counts by the severity of each rule, at most once per interval however often it is asked', async () => {
    const metrics = createMetrics();
    let now = 0;
    let queries = 0;
    let rows: UnresolvedAlertCount[] = [
      { rule: 'hypoglycemia', status: 'open', count: 2 },
      { rule: 'bp_high', status: 'open', count: 1 },
      { rule: 'spo2_low', status: 'acknowledged', count: 4 },
      { rule: 'no_data', status: 'open', count: 7 },
      { rule: 'a_rule_of_a_later_release', status: 'open', count: 9 },
    ];
    const gauges = new AlertGauges({
      count: async () => {
        queries++;
        return rows;
      },
      metrics,
      log: createLogger('silent'),
      minAgeMs: 15_000,
      now: () => now,
    });
    await gauges.refresh();
    expect(await gauge(metrics, 'alertsOpen')).toEqual({ critical: 3, high: 0, moderate: 0, low: 7 });
    expect(await gauge(metrics, 'alertsAcknowledged')).toEqual({ critical: 0, high: 4, moderate: 0, low: 0 });

    rows = [{ rule: 'fever', status: 'open', count: 1 }];
    now = 14_999;
    await gauges.refresh();
    await gauges.refresh();
    expect(queries).toBe(1);
    expect((await gauge(metrics, 'alertsOpen')).critical).toBe(3);

    now = 15_000;
    await gauges.refresh();
    expect(queries).toBe(2);
    expect(await gauge(metrics, 'alertsOpen')).toEqual({ critical: 0, high: 0, moderate: 1, low: 0 });
    expect(await gauge(metrics, 'alertsAcknowledged')).toEqual({ critical: 0, high: 0, moderate: 0, low: 0 });
  });

  it('keeps the last figures when the count fails, and never rejects', async () => {
    const metrics = createMetrics();
    let now = 0;
    let fail = false;
    const gauges = new AlertGauges({
      count: async () => {
        if (fail) throw new Error('Connection terminated unexpectedly');
        return [{ rule: 'tachycardia', status: 'open', count: 5 }];
      },
      metrics,
      log: createLogger('silent'),
      now: () => now,
    });
    await gauges.refresh();
    fail = true;
    now = 60_000;
    await expect(gauges.refresh()).resolves.toBeUndefined();
    expect((await gauge(metrics, 'alertsOpen')).high).toBe(5);
  });
});
