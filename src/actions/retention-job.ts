import type { RetentionSettings } from '../domain/retention.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Db } from '../store/database.ts';
import { prunedKeysHorizon } from '../store/retention.repository.ts';
import { applyRetention, type RetentionReport, retentionCounts } from './retention.ts';

/** The first scheduled run comes this long after start (or after one interval, if shorter). */
const FIRST_RUN_DELAY_MS = 60_000;

export interface RetentionJobOptions {
  readonly db: Db;
  readonly settings: RetentionSettings;
  /** Pause between the end of a run and the start of the next. */
  readonly intervalMs: number;
  readonly log: Logger;
  readonly metrics: Pick<Metrics, 'retentionRemoved' | 'retentionRuns' | 'retentionLastRun'>;
  readonly now: () => number;
  /**
   * After every run, applied or skipped (another instance may have removed keys):
   * the end of the newest month whose keys are gone, for ingestion's time check.
   */
  readonly onKeysHorizon?: (horizon: number | null) => void;
}

/**
 * The retention policy applied inside `serve`: a first run a minute after start,
 * then one every `intervalMs` (VITALINK_RETENTION_INTERVAL_MS, daily by default).
 * Instances sharing a database take turns through the advisory lock of
 * applyRetention; one that finds it taken logs that it skipped.
 *
 * States: created → running (start) → stopped (stop: no new run; the one under
 * way stops after its current statement, and stop waits for that).
 */
export class RetentionJob {
  readonly #o: RetentionJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(options: RetentionJobOptions) {
    this.#o = options;
  }

  start(): void {
    this.#schedule(Math.min(FIRST_RUN_DELAY_MS, this.#o.intervalMs));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#o.intervalMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    await this.#apply();
    if (this.#o.onKeysHorizon) {
      try {
        this.#o.onKeysHorizon(await prunedKeysHorizon(this.#o.db));
      } catch (err) {
        this.#o.log.warn({ err }, 'retention could not read the keys horizon, will retry at the next interval');
      }
    }
  }

  async #apply(): Promise<void> {
    const { log, metrics } = this.#o;
    let report: RetentionReport;
    try {
      report = await applyRetention(this.#o.db, this.#o.settings, {
        dryRun: false,
        now: this.#o.now(),
        signal: this.#abort.signal,
      });
    } catch (err) {
      metrics.retentionRuns.labels('failed').inc();
      log.warn({ err }, 'retention run failed, will retry at the next interval');
      return;
    }
    if (report.skipped) {
      metrics.retentionRuns.labels('skipped').inc();
      log.info('retention skipped: another instance is applying it');
      return;
    }
    const counts = retentionCounts(report);
    for (const [kind, n] of Object.entries(counts)) metrics.retentionRemoved.labels(kind).inc(n);
    metrics.retentionRuns.labels('applied').inc();
    metrics.retentionLastRun.set(this.#o.now() / 1000);
    log.info(
      { removed: counts, partitions: report.readings.partitions, interrupted: report.interrupted },
      'retention applied',
    );
  }
}
