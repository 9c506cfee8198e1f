import type { Logger } from '../logger.ts';
import {
  combineInstanceReports,
  type InstancesTotal,
  type InstanceSummary,
  type OpsReport,
  type ReportedInstance,
} from '../metrics/ops-report.ts';
import { type Db, isDatabaseUnreachable } from '../store/database.ts';
import { listInstanceReports, removeInstanceReports, upsertInstanceReport } from '../store/instances.repository.ts';

/** How often each instance writes its figures. */
export const INSTANCE_REPORT_INTERVAL_MS = 5_000;
/** A silent instance is listed (not live) this long, then its row is removed. */
const SILENT_KEPT_MS = 3_600_000;
/** The ops view does not wait longer than this for the other instances' rows. */
const LIST_TIMEOUT_MS = 2_000;

export interface InstanceReporterOptions {
  readonly db: Db;
  readonly instanceId: string;
  readonly startedAt: Date;
  /** This instance's figures now (src/metrics/ops-report.ts). */
  readonly report: () => Promise<OpsReport>;
  readonly log: Logger;
  readonly intervalMs?: number;
}

/** GET /api/v1/ops/ingestion: this instance's figures, the instance that answered, and every instance with their sum. */
export type IngestionView = OpsReport & {
  instance: string;
  instances: InstanceSummary[];
  total: InstancesTotal;
  /** The other instances' rows could not be read (the database is down): `instances` and `total` are this instance only. */
  instancesUnavailable: boolean;
};

/**
 * README, "Running several instances": every instance writes its ops report to
 * service_instances every 5 s, so that the ops view of whichever instance answers
 * shows them all. A write that fails (the database is down) is logged once per
 * outage and retried at the next interval; the view then shows this instance alone.
 *
 * States: created → running (start) → stopped (stop: removes this instance's row,
 * bounded in time).
 */
export class InstanceReporter {
  readonly #o: InstanceReporterOptions;
  #timer: NodeJS.Timeout | undefined;
  /** Why the latest report failed: the database away (its pool logs that once), or another error. */
  #failing: false | 'unreachable' | 'error' = false;
  #writing: Promise<void> | undefined;

  constructor(options: InstanceReporterOptions) {
    this.#o = options;
  }

  start(): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#o.intervalMs ?? INSTANCE_REPORT_INTERVAL_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    await withTimeout(removeInstanceReports(this.#o.db, this.#o.instanceId, SILENT_KEPT_MS), LIST_TIMEOUT_MS).catch(
      (err: unknown) => this.#o.log.warn({ err }, 'instance report not removed at stop'),
    );
  }

  /** This instance's figures now, beside the others' latest. */
  async view(): Promise<IngestionView> {
    const report = await this.#o.report();
    const self = { instanceId: this.#o.instanceId, startedAt: this.#o.startedAt, report };
    let others: ReportedInstance[] = [];
    let unavailable = false;
    try {
      const rows = await withTimeout(listInstanceReports(this.#o.db, SILENT_KEPT_MS), LIST_TIMEOUT_MS);
      others = rows.map((r) => ({ ...r, report: r.report as OpsReport }));
    } catch {
      unavailable = true;
    }
    const { instances, total } = combineInstanceReports(self, others, new Date());
    return { ...report, instance: this.#o.instanceId, instances, total, instancesUnavailable: unavailable };
  }

  #tick(): void {
    if (this.#writing) return;
    this.#writing = this.#write().finally(() => {
      this.#writing = undefined;
    });
  }

  async #write(): Promise<void> {
    try {
      const report = await this.#o.report();
      await upsertInstanceReport(this.#o.db, this.#o.instanceId, this.#o.startedAt, report);
      // Whoever reports removes the rows of instances silent for an hour (a table of a few rows).
      await removeInstanceReports(this.#o.db, null, SILENT_KEPT_MS);
      if (this.#failing)
        this.#o.log[this.#failing === 'unreachable' ? 'debug' : 'info']('instance report written again');
      this.#failing = false;
    } catch (err) {
      // The database away is said once by its pool (`database unreachable`): here at debug.
      const kind = isDatabaseUnreachable(err) ? 'unreachable' : 'error';
      if (this.#failing !== kind) {
        this.#o.log[kind === 'unreachable' ? 'debug' : 'warn'](
          { err },
          'instance report not written, retrying every interval',
        );
      }
      this.#failing = kind;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
