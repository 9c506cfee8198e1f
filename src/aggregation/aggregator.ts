import { MAX_FUTURE_MS } from '../domain/protocol.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import {
  deleteDirtyMarks,
  deleteIndicatorMarks,
  loadPatientReadings,
  markForRefreshAt,
  markRecentPatientsForRefresh,
  oldestDirtyAgeSeconds,
  recomputeRollups,
  saveIndicators,
  takeWork,
} from '../store/aggregation.repository.ts';
import type { Db } from '../store/database.ts';
import type { PatientReading } from '../store/aggregation.repository.ts';
import { applyAlertAction } from '../domain/alerts/index.ts';
import {
  assignedDeviceIds,
  insertAlert,
  loadLatestAlerts,
  loadThresholds,
  updateAlert,
} from '../store/alerts.repository.ts';
import { planPatientAlerts } from './patient-alerts.ts';
import { computePatientIndicators, INDICATOR_LOOKBACK_MS } from './patient-indicators.ts';

export interface AggregatorOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** Pause between runs when there is nothing left to do. */
  readonly intervalMs: number;
  /** Patients taken per transaction (with all their dirty days). */
  readonly batchSize: number;
  /** How often every recently active patient gets an indicator refresh (windows move with the clock). */
  readonly refreshEveryMs: number;
  /**
   * Fraction of wall time (0..1] the job may spend running, backlog or not: after a
   * run of T ms it pauses at least T × (1 / share − 1). Ingestion comes first; under
   * a flood indicators lag (vitalink_aggregation_lag_seconds says by how much)
   * instead of the job taking the cores from the devices' commits. Default 1 (the service sets
   * VITALINK_AGGREGATION_MAX_BUSY_PCT, 25 % by default).
   */
  readonly maxBusyShare?: number;
  readonly now: () => number;
}

export interface RunResult {
  marks: number;
  patients: number;
  /** Alerts opened or changed by the run. */
  alertChanges: number;
}

const DAY_MS = 86_400_000;
/** Readings before a late reading's day that its alert rules may need. */
const ALERT_CONTEXT_MS = 4 * DAY_MS;

/** Start (a little before, whatever the zone) of the earliest dirty day of a patient. */
function earliestDirtyDay(marks: { patientId: string; day: string }[], patientId: string): number {
  let earliest = Infinity;
  for (const m of marks) {
    if (m.patientId !== patientId) continue;
    earliest = Math.min(earliest, Date.parse(`${m.day}T00:00:00Z`) - DAY_MS);
  }
  return earliest;
}

/**
 * When the job runs next: at once while a backlog remains, after `intervalMs`
 * otherwise, and in either case not before a pause that keeps its share of wall
 * time at or under `maxBusyShare` (a run of T ms is followed by T × (1/share − 1), at most ten intervals).
 */
export function nextRunDelayMs(o: {
  lastRunMs: number;
  backlog: boolean;
  intervalMs: number;
  maxBusyShare: number;
}): number {
  // Capped, so that one very long run cannot hold indicators and alerts back for long.
  const pause = Math.min(o.lastRunMs * (1 / o.maxBusyShare - 1), MAX_PAUSE_INTERVALS * o.intervalMs);
  return o.backlog ? pause : Math.max(pause, o.intervalMs);
}

/** The longest pause the busy share may impose, in intervals. */
const MAX_PAUSE_INTERVALS = 10;

/**
 * The aggregation job (architecture.md, decision 6). Each run locks a few
 * patients that have dirty marks (FOR ... SKIP LOCKED), recomputes the rollups of
 * their dirty days and their indicators, and deletes the marks, all in one transaction:
 * if it fails, the marks are still there for the next run. Several instances can
 * run it at once without doing the same work twice, and nothing is recomputed
 * from scratch on a timer: a late reading just makes its old day dirty again.
 *
 * States: stopped → running (start) → stopping (stop: waits for the run in progress).
 */
export class Aggregator {
  readonly #o: AggregatorOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #lastRefresh = 0;

  constructor(options: AggregatorOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /** One transaction's worth of work. Exposed for tests and for `stop()` to finish cleanly. */
  async runOnce(): Promise<RunResult> {
    const { db, batchSize, now } = this.#o;
    const started = performance.now();
    const result = await db.transaction().execute(async (trx) => {
      const { patientIds, marks, refreshIds } = await takeWork(trx, batchSize);
      if (patientIds.length === 0) return { marks: 0, patients: 0, alertChanges: 0 };
      let alerts = 0;
      const refreshLater: { patientId: string; at: number }[] = [];
      await recomputeRollups(trx, marks);
      const to = now();
      for (const patientId of patientIds) {
        // Far enough back for the indicators' windows, and for a late reading's day
        // with the context its alert rules need (two in a row, 72 h of weight).
        const since = Math.min(to - INDICATOR_LOOKBACK_MS, earliestDirtyDay(marks, patientId) - ALERT_CONTEXT_MS);
        // Readings up to 5 minutes ahead of this clock are accepted (device-protocol.md, "Time"):
        // alert rules see them now; indicator windows end at `to` and take them in later.
        const until = to + MAX_FUTURE_MS;
        const loaded = await loadPatientReadings(trx, patientId, new Date(since), new Date(until));
        if (!loaded) continue;
        const recent = loaded.readings.filter((r) => r.at > to - INDICATOR_LOOKBACK_MS && r.at <= to);
        const indicators = computePatientIndicators(recent, loaded.timeZone, to);
        await saveIndicators(trx, patientId, indicators, new Date(to));
        alerts += await this.#evaluateAlerts(trx, patientId, loaded.readings, to);
        let ahead = -Infinity;
        for (const r of loaded.readings) if (r.at > to && r.at > ahead) ahead = r.at;
        if (ahead > to) refreshLater.push({ patientId, at: ahead });
      }
      await deleteDirtyMarks(trx, marks);
      await deleteIndicatorMarks(trx, refreshIds);
      // Indicators miss what is still ahead of the clock: come back when it is not.
      for (const { patientId, at } of refreshLater) await markForRefreshAt(trx, patientId, new Date(at));
      return { marks: marks.length, patients: patientIds.length, alertChanges: alerts };
    });
    if (result.marks + result.patients > 0) {
      const ms = Math.round(performance.now() - started);
      this.#o.metrics?.aggregationRunSeconds.observe(ms / 1000);
      this.#o.log.debug({ marks: result.marks, patients: result.patients, ms }, 'aggregation run');
    }
    return result;
  }

  /** Applies the alert rules of indicators.md to one patient; returns how many alerts changed. */
  async #evaluateAlerts(trx: Db, patientId: string, readings: PatientReading[], now: number): Promise<number> {
    const latest = await loadLatestAlerts(trx, patientId);
    const plans = planPatientAlerts({
      readings,
      assignedDeviceIds: await assignedDeviceIds(trx, patientId, new Date(now)),
      thresholds: await loadThresholds(trx, patientId),
      latest,
      now,
    });
    let changes = 0;
    for (const { rule, threshold, evaluation, action } of plans) {
      if (action.kind === 'none') continue;
      const current = latest.get(rule);
      const next = applyAlertAction(current?.state ?? null, action, now, threshold);
      if (!next) continue;
      changes++;
      if (action.kind === 'open') {
        await insertAlert(trx, patientId, rule, next, action.at);
        this.#o.log.info({ rule }, 'alert opened');
      } else if (current) {
        const event =
          action.kind === 'update' ? 'updated' : action.kind === 'cleared' ? 'condition_cleared' : 'resolved';
        await updateAlert(
          trx,
          current.id,
          next,
          event,
          now,
          null,
          action.kind === 'update' ? evaluation.at : undefined,
        );
      }
    }
    return changes;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#loop().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #loop(): Promise<void> {
    let busy = false;
    let failed = false;
    const started = performance.now();
    try {
      const t = this.#o.now();
      if (t - this.#lastRefresh >= this.#o.refreshEveryMs) {
        await markRecentPatientsForRefresh(this.#o.db, 30);
        this.#lastRefresh = t;
      }
      const result = await this.runOnce();
      busy = result.patients >= this.#o.batchSize;
      this.#o.metrics?.aggregationLastRun.set(Date.now() / 1000);
      this.#o.metrics?.aggregationLagSeconds.set(await oldestDirtyAgeSeconds(this.#o.db));
    } catch (err) {
      this.#o.log.warn({ err }, 'aggregation run failed, will retry');
      failed = true;
    }
    this.#schedule(
      nextRunDelayMs({
        // A failed run (the database away, say) did no work to make up for: retry after the interval.
        lastRunMs: failed ? 0 : performance.now() - started,
        backlog: busy,
        intervalMs: this.#o.intervalMs,
        maxBusyShare: this.#o.maxBusyShare ?? 1,
      }),
    );
  }
}
