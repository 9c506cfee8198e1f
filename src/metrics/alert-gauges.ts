import { type AlertSeverity, ALERT_SEVERITIES, alertRule, isRuleKey } from '../domain/alerts/index.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';

export interface UnresolvedAlertCount {
  readonly rule: string;
  readonly status: 'open' | 'acknowledged';
  readonly count: number;
}

export interface AlertGaugesOptions {
  readonly count: () => Promise<readonly UnresolvedAlertCount[]>;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly minAgeMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/**
 * The gauges vitalink_alerts_open and vitalink_alerts_acknowledged, by severity.
 * The count is a database query (src/store/alerts.repository.ts,
 * countUnresolvedAlerts) and is not index-only, so it runs when /metrics is scraped
 * and the figures are older than `minAgeMs` (15 s: Prometheus' usual interval),
 * never more often, and a scrape waits for it at most `timeoutMs`. When the query
 * fails (the database away) the gauges keep their last figures; the database's own
 * line says it is unreachable (src/store/database-reachability.ts).
 */
export class AlertGauges {
  readonly #o: AlertGaugesOptions;
  #refreshedAt = -Infinity;
  #running: Promise<void> | undefined;

  constructor(options: AlertGaugesOptions) {
    this.#o = options;
  }

  /** Refreshes the gauges if they are older than minAgeMs; resolves within timeoutMs, never rejects. */
  async refresh(): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    if (!this.#running && now - this.#refreshedAt >= (this.#o.minAgeMs ?? 15_000)) {
      this.#refreshedAt = now;
      this.#running = this.#count().finally(() => {
        this.#running = undefined;
      });
    }
    if (!this.#running) return;
    const timeoutMs = this.#o.timeoutMs ?? 2_000;
    await Promise.race([this.#running, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  async #count(): Promise<void> {
    let rows: readonly UnresolvedAlertCount[];
    try {
      rows = await this.#o.count();
    } catch (err) {
      this.#o.log.debug({ err }, 'open alerts not counted, the gauges keep their last figures');
      return;
    }
    const open = bySeverity();
    const acknowledged = bySeverity();
    for (const row of rows) {
      if (!isRuleKey(row.rule)) continue;
      const { severity } = alertRule(row.rule);
      (row.status === 'open' ? open : acknowledged)[severity] += row.count;
    }
    for (const severity of ALERT_SEVERITIES) {
      this.#o.metrics.alertsOpen.labels(severity).set(open[severity]);
      this.#o.metrics.alertsAcknowledged.labels(severity).set(acknowledged[severity]);
    }
  }
}

function bySeverity(): Record<AlertSeverity, number> {
  return { critical: 0, high: 0, moderate: 0, low: 0 };
}
