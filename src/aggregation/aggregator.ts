import { applyAlertAction, EXPECTED_TYPES_WINDOW_MS, eventReadings } from '../domain/alerts/index.ts';
import {
  addDays,
  type CgmReading,
  cgmWindowHours,
  HOUR_MS,
  type Indicator,
  startOfLocalDay,
} from '../domain/indicators/index.ts';
import { MAX_FUTURE_MS } from '../domain/protocol.ts';
import { READING_TYPES } from '../domain/reading-types.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import {
  deleteDirtyMarks,
  deleteIndicatorMarks,
  type DirtyMark,
  loadTimeZones,
  markForRefreshAt,
  markRecentPatientsForRefresh,
  oldestDirtyAgeSeconds,
  type PatientReading,
  recomputeRollups,
  saveIndicators,
  takeWork,
} from '../store/aggregation.repository.ts';
import { insertAlert, loadLatestAlertsOf, loadThresholdsOf, updateAlert } from '../store/alerts.repository.ts';
import { queueAlertNotifications } from '../store/notifications.repository.ts';
import { type MesRange, queueMesPushes } from '../store/mes-pushes.repository.ts';
import { DEFAULT_ESCALATION_DELAYS, type EscalationDelays } from '../domain/notifications.ts';
import { type Db, isDatabaseUnreachable } from '../store/database.ts';
import {
  cgmEdgeRanges,
  healCgmDays,
  loadAdherenceDays,
  loadCgmPartials,
  loadLatestReadings,
  loadNoDataInputs,
  loadReadings,
  type ReadingLookup,
  type ReadingRange,
} from '../store/indicator-inputs.repository.ts';
import { type AlertSlices, alertReadingId, planAlertSlices, planPatientAlerts } from './patient-alerts.ts';
import { computePatientIndicators, RAW_INDICATOR_WINDOWS } from './patient-indicators.ts';

const READING_TYPE_NAMES: readonly string[] = READING_TYPES.map((t) => t.type);

export interface AggregatorOptions {
  readonly db: Db;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** Pause between runs when there is nothing left to do. */
  readonly intervalMs: number;
  /** The most patients taken per transaction (with all their dirty days). */
  readonly batchSize: number;
  /**
   * How long a run should last, about (default 250 ms): each run takes as many
   * patients, up to batchSize, as the recent cost per patient fits in it. Short runs
   * keep alert latency low, since the pause after a run grows with its length.
   */
  readonly targetRunMs?: number;
  /** How often every recently active patient gets an indicator refresh (windows move with the clock). */
  readonly refreshEveryMs: number;
  /**
   * Fraction of wall time (0..1] the job may spend running, backlog or not: after a
   * run of T ms it pauses at least T × (1 / share − 1). Ingestion comes first; under
   * a flood indicators lag (vitalink_aggregation_lag_seconds says by how much)
   * instead of the job taking the cores from the devices' commits. The pause is not
   * capped: the share holds under any backlog, and runs stay short (targetRunMs) so
   * the pauses do too. Default 1 (the service sets VITALINK_AGGREGATION_MAX_BUSY_PCT,
   * 25 % by default).
   */
  readonly maxBusyShare?: number;
  readonly now: () => number;
  /** When an alert still open is escalated, per severity (README, "Notifications"); default DEFAULT_ESCALATION_DELAYS. */
  readonly escalationDelays?: EscalationDelays;
  /**
   * README, "Feeding Mon espace santé": the reading types whose new readings are
   * queued for Mon espace santé in the run's transaction; undefined or empty: none
   * (VITALINK_MES_URL unset).
   */
  readonly mesTypes?: readonly string[];
}

export interface RunResult {
  marks: number;
  patients: number;
  /** Alerts opened or changed by the run. */
  alertChanges: number;
}

/**
 * When the job runs next: at once while a backlog remains, after `intervalMs`
 * otherwise, and in either case not before a pause that keeps its share of wall
 * time at or under `maxBusyShare`: a run of T ms is followed by T × (1/share − 1).
 * Not capped, so that the share holds under a backlog too; runs are kept short
 * instead (the patients per run follow the cost per patient, see targetRunMs).
 */
export function nextRunDelayMs(o: {
  lastRunMs: number;
  backlog: boolean;
  intervalMs: number;
  maxBusyShare: number;
}): number {
  const pause = o.lastRunMs * (1 / o.maxBusyShare - 1);
  return o.backlog ? pause : Math.max(pause, o.intervalMs);
}

/** Days of a patient's CGM window healed per run on an upgraded database (see #aggregatePatient). */
const HEAL_DAYS_PER_RUN = 2;

/** The UTC hours that meet some local days, as hour-aligned ranges [from, to) in ms. */
function hoursOfDays(days: readonly string[], timeZone: string): { from: number; to: number }[] {
  return days.map((day) => ({
    from: Math.floor(startOfLocalDay(day, timeZone) / HOUR_MS) * HOUR_MS,
    to: Math.ceil(startOfLocalDay(addDays(day, 1), timeZone) / HOUR_MS) * HOUR_MS,
  }));
}

/**
 * The time ranges of a run's marks of the types fed to Mon espace santé: the hours
 * the new readings fell in when the mark names them (from the first to the end of
 * the last), else the patient's local day.
 */
function mesRanges(
  patients: readonly { patientId: string; timeZone: string; marks: readonly DirtyMark[] }[],
  types: readonly string[],
): MesRange[] {
  return patients.flatMap(({ patientId, timeZone, marks }) =>
    marks
      .filter((m) => types.includes(m.type))
      .map((m) => {
        const hours = m.hours && m.hours.length > 0 ? m.hours : null;
        return {
          patientId,
          type: m.type,
          from: new Date(hours ? Math.min(...hours) : startOfLocalDay(m.day, timeZone)),
          to: new Date(hours ? Math.max(...hours) + HOUR_MS : startOfLocalDay(addDays(m.day, 1), timeZone)),
        };
      }),
  );
}

/** Patients in a run before the cost per patient is known. */
const FIRST_RUN_PATIENTS = 20;
const DEFAULT_TARGET_RUN_MS = 250;

/**
 * The aggregation job (architecture.md, decision 6). Each run locks a few
 * patients that have dirty marks (FOR ... SKIP LOCKED), recomputes the rollups and
 * CGM partials of the hours their new readings fall in from those hours' readings and
 * their days from the days' hourly rows (whole days from their readings where that
 * would not be exact: recomputeRollups says when), derives their
 * indicators from partials, rollups and short raw windows, evaluates their alerts on
 * the new readings with a bounded context, and deletes the marks, all in one
 * transaction: if it fails, the marks are still there for the next run. Several
 * instances can run it at once without doing the same work twice, and nothing is
 * recomputed from scratch on a timer: a late reading just makes its old day dirty
 * again, and the hourly refresh reads partials and rollups, not readings.
 *
 * States: stopped → running (start) → stopping (stop: waits for the run in progress).
 */
export class Aggregator {
  readonly #o: AggregatorOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #lastRefresh = 0;
  /** Recent wall time per patient of a run, ms (exponential moving average); undefined before the first. */
  #msPerPatient: number | undefined;
  /** The patient limit of the last run: a run that used all of it leaves a backlog. */
  #lastLimit = 0;
  /** While waiting: when the next run is due, and the earliest the busy share allows it (performance.now()). */
  #dueAt = 0;
  #allowedAt = 0;
  /** A commit was reported (nudge) while a run was in progress. */
  #nudged = false;
  /** The kind of the current run of failures (undefined while runs succeed). */
  #failure: 'read_only' | 'unreachable' | 'error' | undefined;

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

  /**
   * New readings were committed (this process's ingest calls it after each batch):
   * while the job waits out its idle interval, it runs as soon as the busy share
   * allows instead, so a reading does not wait up to `intervalMs` for a job that has
   * nothing else to do. The pause that keeps the share is never shortened.
   */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#timer === undefined) {
      // A run is in progress (its next one is not scheduled yet): it will not wait out the interval.
      this.#nudged = true;
      return;
    }
    const now = performance.now();
    if (this.#dueAt <= Math.max(now, this.#allowedAt)) return;
    clearTimeout(this.#timer);
    this.#schedule(Math.max(0, this.#allowedAt - now));
  }

  /** One transaction's worth of work. Exposed for tests and for `stop()` to finish cleanly. */
  async runOnce(): Promise<RunResult> {
    const { db, now } = this.#o;
    const started = performance.now();
    const limit = this.#patientsPerRun();
    const result = await db.transaction().execute(async (trx) => {
      const { patientIds, marks, refreshIds } = await takeWork(trx, limit);
      if (patientIds.length === 0) return { marks: 0, patients: 0, alertChanges: 0 };
      await recomputeRollups(trx, marks, now());
      const zones = await loadTimeZones(trx, patientIds);
      const patients = patientIds.flatMap((patientId) => {
        const timeZone = zones.get(patientId);
        return timeZone === undefined
          ? []
          : [{ patientId, timeZone, marks: marks.filter((m) => m.patientId === patientId) }];
      });
      const { alertChanges: alerts, refreshLater } = await this.#aggregate(trx, patients, now());
      const mesTypes = this.#o.mesTypes;
      if (mesTypes && mesTypes.length > 0) await queueMesPushes(trx, mesRanges(patients, mesTypes), new Date(now()));
      await deleteDirtyMarks(trx, marks);
      await deleteIndicatorMarks(trx, refreshIds);
      // Indicators miss what is still ahead of the clock: come back when it is not.
      for (const { patientId, at } of refreshLater) await markForRefreshAt(trx, patientId, new Date(at));
      return { marks: marks.length, patients: patientIds.length, alertChanges: alerts };
    });
    if (result.marks + result.patients > 0) {
      const ms = performance.now() - started;
      if (result.patients > 0) this.#observeRun(ms, result.patients);
      this.#o.metrics?.aggregationRunSeconds.observe(ms / 1000);
      this.#o.log.debug({ marks: result.marks, patients: result.patients, ms: Math.round(ms) }, 'aggregation run');
    }
    return result;
  }

  /**
   * The indicators and alerts of a run's patients at `to`, from what their dirty days
   * and the windows need (src/store/indicator-inputs.repository.ts, each step one
   * statement for all the patients): CGM hourly partials and the raw readings of the
   * window's two edge hours, daily rollups for adherence, raw readings of the short
   * windows (blood pressure and weight 7 days, vitals 24 h), and for the alert rules
   * the readings of the dirty days and the latest ones with the context they need.
   * Nothing here grows with a patient's history.
   */
  async #aggregate(
    trx: Db,
    patients: readonly { patientId: string; timeZone: string; marks: readonly DirtyMark[] }[],
    to: number,
  ): Promise<{ alertChanges: number; refreshLater: { patientId: string; at: number }[] }> {
    const ids = patients.map((p) => p.patientId);
    // Readings up to 5 minutes ahead of this clock are accepted (device-protocol.md, "Time"):
    // alert rules see them now; indicator windows end at `to` and take them in later.
    const until = to + MAX_FUTURE_MS;
    const latestAt = await loadLatestReadings(trx, ids, READING_TYPE_NAMES, until);
    const adherence = await loadAdherenceDays(trx, patients, READING_TYPE_NAMES, to);
    // Upgraded databases: days of the CGM window without partials get them a few per run, newest first;
    // the others are read as readings meanwhile (the cost of a run before partials, at worst).
    const rawHours = new Map<string, { from: number; to: number }[]>();
    for (const { patientId, timeZone } of patients) {
      const unhealed = [...(adherence.get(patientId)?.unflaggedCgmDays ?? [])].sort().reverse();
      await healCgmDays(trx, patientId, unhealed.slice(0, HEAL_DAYS_PER_RUN));
      rawHours.set(patientId, hoursOfDays(unhealed.slice(HEAL_DAYS_PER_RUN), timeZone));
    }
    const cgmPartials = await loadCgmPartials(
      trx,
      ids.map((patientId) => ({ patientId, excluded: rawHours.get(patientId) ?? [] })),
      to,
    );
    const slices = new Map<string, AlertSlices>();
    const ranges: ReadingRange[] = [];
    const before: ReadingLookup[] = [];
    const after: ReadingLookup[] = [];
    for (const { patientId, timeZone, marks } of patients) {
      const s = planAlertSlices({ dirtyDays: marks, timeZone, latestAt: latestAt.get(patientId) ?? new Map(), until });
      slices.set(patientId, s);
      for (const r of s.ranges) ranges.push({ patientId, ...r });
      for (const b of s.previousBefore) before.push({ patientId, ...b });
      for (const a of s.nextFrom) after.push({ patientId, ...a });
      for (const { type, lookbackMs } of RAW_INDICATOR_WINDOWS) {
        ranges.push({ patientId, type, since: to - lookbackMs, until: to });
      }
      ranges.push(...cgmEdgeRanges(patientId, to));
      for (const h of rawHours.get(patientId) ?? []) {
        ranges.push({ patientId, type: 'cgm_glucose', since: h.from, until: h.to - 1 });
      }
    }
    const readings = await loadReadings(trx, ids, ranges, before, after);

    const { first, last } = cgmWindowHours(to);
    const indicators = new Map<string, Indicator[]>();
    for (const { patientId, timeZone } of patients) {
      const own = readings.get(patientId) ?? [];
      const raw = rawHours.get(patientId) ?? [];
      const cgmEdges: CgmReading[] = [];
      for (const r of own) {
        if (r.type !== 'cgm_glucose' || r.value === null) continue;
        // Edge hours, and the hours of days not healed yet: from readings (the window is applied later).
        if (r.at < first || r.at >= last + HOUR_MS || raw.some((h) => h.from <= r.at && r.at < h.to)) {
          cgmEdges.push({ deviceId: r.deviceId, at: r.at, value: r.value });
        }
      }
      const inputs = {
        cgm: { partials: cgmPartials.get(patientId) ?? [], edges: cgmEdges },
        readings: own,
        adherence: adherence.get(patientId) ?? { days: [], types: [] },
      };
      indicators.set(patientId, computePatientIndicators(inputs, timeZone, to));
    }
    await saveIndicators(trx, indicators, new Date(to));

    const alertChanges = await this.#evaluateAlerts(trx, ids, readings, slices, latestAt, to);
    const refreshLater: { patientId: string; at: number }[] = [];
    for (const [patientId, latest] of latestAt) {
      let ahead = -Infinity;
      for (const at of latest.values()) if (at > to && at > ahead) ahead = at;
      if (ahead > to) refreshLater.push({ patientId, at: ahead });
    }
    return { alertChanges, refreshLater };
  }

  /** Applies the alert rules of indicators.md to a run's patients; returns how many alerts changed. */
  async #evaluateAlerts(
    trx: Db,
    ids: readonly string[],
    readings: ReadonlyMap<string, PatientReading[]>,
    slices: ReadonlyMap<string, AlertSlices>,
    latestAt: ReadonlyMap<string, ReadonlyMap<string, number>>,
    now: number,
  ): Promise<number> {
    const alerts = await loadLatestAlertsOf(trx, ids);
    const thresholds = await loadThresholdsOf(trx, ids);
    // no_data: the candidate types of each patient are those seen in the last 30 days.
    const noData = await loadNoDataInputs(
      trx,
      ids.map((patientId) => ({
        patientId,
        types: [...(latestAt.get(patientId) ?? [])]
          .filter(([, at]) => at > now - EXPECTED_TYPES_WINDOW_MS)
          .map(([type]) => type),
      })),
      now,
    );
    let changes = 0;
    for (const patientId of ids) {
      const latest = alerts.get(patientId) ?? new Map();
      // The patient's readings by "deviceId/readingId", built when an alert opens or changes.
      let byId: Map<string, PatientReading> | undefined;
      const held = () =>
        (byId ??= new Map((readings.get(patientId) ?? []).map((r) => [alertReadingId(r.deviceId, r.id), r])));
      const plans = planPatientAlerts({
        readings: readings.get(patientId) ?? [],
        evaluated: slices.get(patientId)?.evaluated ?? new Map(),
        expectedTypes: noData.get(patientId)?.expectedTypes ?? [],
        lastReadingAt: noData.get(patientId)?.lastReadingAt ?? {},
        thresholds: thresholds.get(patientId) ?? {},
        latest,
        now,
      });
      for (const { rule, threshold, evaluation, action } of plans) {
        if (action.kind === 'none') continue;
        const current = latest.get(rule);
        const next = applyAlertAction(current?.state ?? null, action, now, threshold);
        if (!next) continue;
        changes++;
        if (action.kind === 'open') {
          // The event's values are kept with the alert now, while the readings are in hand (never read again).
          const alertId = await insertAlert(
            trx,
            patientId,
            rule,
            next,
            action.at,
            eventReadings(action.readingIds, held()),
          );
          // The outbox, in the transaction that opens the alert (README, "Notifications").
          const queued = await queueAlertNotifications(
            trx,
            { alertId, patientId, rule, at: now },
            this.#o.escalationDelays ?? DEFAULT_ESCALATION_DELAYS,
          );
          this.#o.log.info({ rule, notifications: queued }, 'alert opened');
        } else if (current) {
          const event =
            action.kind === 'update' ? 'updated' : action.kind === 'cleared' ? 'condition_cleared' : 'resolved';
          await updateAlert(
            trx,
            current.id,
            next,
            event,
            now,
            action.kind === 'update'
              ? { occurredAt: evaluation.at, eventReadings: eventReadings(action.readingIds, held()) }
              : {},
          );
        }
      }
    }
    return changes;
  }

  /** Patients for the next run: as many as fit in targetRunMs at the recent cost, 1 to batchSize. */
  #patientsPerRun(): number {
    const { batchSize } = this.#o;
    const target = this.#o.targetRunMs ?? DEFAULT_TARGET_RUN_MS;
    const fit =
      this.#msPerPatient === undefined ? FIRST_RUN_PATIENTS : Math.floor(target / Math.max(this.#msPerPatient, 0.01));
    this.#lastLimit = Math.max(1, Math.min(batchSize, fit));
    return this.#lastLimit;
  }

  #observeRun(ms: number, patients: number): void {
    const per = ms / patients;
    this.#msPerPatient = this.#msPerPatient === undefined ? per : 0.7 * this.#msPerPatient + 0.3 * per;
  }

  #schedule(delayMs: number, allowedInMs = delayMs): void {
    if (this.#stopped) return;
    const now = performance.now();
    this.#dueAt = now + delayMs;
    this.#allowedAt = now + allowedInMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#nudged = false;
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
      busy = result.patients >= this.#lastLimit;
      this.#o.metrics?.aggregationLastRun.set(Date.now() / 1000);
      this.#o.metrics?.aggregationLagSeconds.set(await oldestDirtyAgeSeconds(this.#o.db));
      // After an outage the pool's `database reachable again` says it (src/store/database-reachability.ts).
      if (this.#failure) {
        this.#o.log[this.#failure === 'unreachable' ? 'debug' : 'info'](
          { after: this.#failure },
          'aggregation runs again',
        );
      }
      this.#failure = undefined;
    } catch (err) {
      // Logged once per kind of failure, not every second: a read-only database (a
      // standby given as DATABASE_URL, a primary made read-only) is said as such.
      // The database away is said once by its pool (`database unreachable`): here at debug.
      const kind = isReadOnlyError(err) ? 'read_only' : isDatabaseUnreachable(err) ? 'unreachable' : 'error';
      if (this.#failure !== kind) {
        if (kind === 'unreachable') {
          this.#o.log.debug({ err }, 'aggregation run failed, will retry');
        } else if (kind === 'read_only') {
          this.#o.log.warn('aggregation paused: the database is read-only (a standby?); it retries every interval');
        } else {
          this.#o.log.warn({ err }, 'aggregation run failed, will retry');
        }
      }
      this.#failure = kind;
      failed = true;
    }
    // A failed run (the database away, say) did no work to make up for: retry after the interval.
    const timing = {
      lastRunMs: failed ? 0 : performance.now() - started,
      intervalMs: this.#o.intervalMs,
      maxBusyShare: this.#o.maxBusyShare ?? 1,
    };
    // The shortest pause the share allows (what a backlog gets), for nudge(); a commit reported
    // during the run counts as a backlog.
    const allowed = nextRunDelayMs({ ...timing, backlog: true });
    const delay = nextRunDelayMs({ ...timing, backlog: busy || (this.#nudged && !failed) });
    this.#schedule(delay, failed ? delay : allowed);
  }
}

/** SQLSTATE 25006, read_only_sql_transaction: a write on a standby or a read-only session. */
function isReadOnlyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '25006';
}
