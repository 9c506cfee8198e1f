import {
  monthsEndingBy,
  rollupsBefore,
  type RetentionCutoffs,
  type RetentionSettings,
  retentionCutoffs,
} from '../domain/retention.ts';
import type { Db } from '../store/database.ts';
import {
  cgmPartialsBefore,
  countAuditBefore,
  countPartitionRows,
  countRejectionsBefore,
  countRollupsBefore,
  deleteAuditBefore,
  deleteRejectionsBefore,
  deleteRollupsBefore,
  dropPartition,
  listPrunedKeyMonths,
  listReadingPartitions,
  pruneKeysOfPartition,
  type ReadingPartition,
  releaseRetentionLock,
  tryRetentionLock,
} from '../store/retention.repository.ts';

/** What a retention run removed, or would remove with dryRun (times in RFC 3339, UTC). */
export interface RetentionReport {
  dryRun: boolean;
  /** Stopped between two statements (the service is stopping): the next run goes on where this one stopped. */
  interrupted: boolean;
  /** Another run held the lock: nothing was done, and the counts are zero. */
  skipped: boolean;
  at: string;
  readings: {
    keepDays: number | null;
    /** Partitions of months ending by this time are dropped; null: kept forever. */
    before: string | null;
    partitions: string[];
    rows: number;
    rollupsDaily: number;
    rollupsHourly: number;
  };
  readingKeys: {
    /** Keys of readings measured before this time are removed, by whole months. */
    before: string;
    /** The months (YYYY-MM, UTC) whose keys were removed in this run. */
    months: string[];
    rows: number;
  };
  rejections: { keepDays: number | null; before: string | null; rows: number };
  auditLog: { keepDays: number | null; before: string | null; rows: number };
  /** CGM partial aggregates (hours, UTC days) ending by `before`: kept for the indicators' window only. */
  cgmPartials: { before: string; daily: number; hourly: number };
}

export type RetentionCounts = Record<
  | 'readings'
  | 'readingPartitions'
  | 'rollupsDaily'
  | 'rollupsHourly'
  | 'readingKeys'
  | 'rejections'
  | 'auditLog'
  | 'cgmPartialsDaily'
  | 'cgmPartialsHourly',
  number
>;

export function retentionCounts(report: RetentionReport): RetentionCounts {
  return {
    readings: report.readings.rows,
    readingPartitions: report.readings.partitions.length,
    rollupsDaily: report.readings.rollupsDaily,
    rollupsHourly: report.readings.rollupsHourly,
    readingKeys: report.readingKeys.rows,
    rejections: report.rejections.rows,
    auditLog: report.auditLog.rows,
    cgmPartialsDaily: report.cgmPartials.daily,
    cgmPartialsHourly: report.cgmPartials.hourly,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const monthLabel = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/**
 * Applies the retention policy once (README, "Retention"), in this order:
 * 1. duplicate keys of the months wholly before the keys' horizon (acceptance
 *    window + KEY_MARGIN_DAYS), found from each month's partition;
 * 2. partitions of the months wholly before the readings cutoff whose keys are
 *    gone (the settings make the readings cutoff older than the keys' one), then
 *    the rollups of that time;
 * 3. rejections and audit entries by age;
 * 4. CGM partial aggregates older than the indicators' window (PARTIALS_KEPT_DAYS).
 * Each delete is a series of short statements. One run at a time per database
 * (advisory lock): a run that finds the lock taken does nothing and says so
 * (`skipped`). With dryRun, nothing is locked or changed: the report counts what
 * a run would remove now.
 */
export async function applyRetention(
  db: Db,
  settings: RetentionSettings,
  options: { dryRun: boolean; now: number; signal?: AbortSignal },
): Promise<RetentionReport> {
  const cutoffs = retentionCutoffs(settings, options.now);
  const report = emptyReport(settings, cutoffs, options);
  return db.connection().execute(async (conn) => {
    if (options.dryRun) return plan(conn, cutoffs, report);
    if (!(await tryRetentionLock(conn))) return { ...report, skipped: true };
    try {
      return await apply(conn, cutoffs, report, options.signal);
    } finally {
      await releaseRetentionLock(conn);
    }
  });
}

function emptyReport(
  settings: RetentionSettings,
  cutoffs: RetentionCutoffs,
  options: { dryRun: boolean; now: number },
): RetentionReport {
  return {
    dryRun: options.dryRun,
    interrupted: false,
    skipped: false,
    at: new Date(options.now).toISOString(),
    readings: {
      keepDays: settings.readingsDays,
      before: iso(cutoffs.readingsBefore),
      partitions: [],
      rows: 0,
      rollupsDaily: 0,
      rollupsHourly: 0,
    },
    readingKeys: { before: new Date(cutoffs.keysBefore).toISOString(), months: [], rows: 0 },
    rejections: { keepDays: settings.rejectionsDays, before: iso(cutoffs.rejectionsBefore), rows: 0 },
    auditLog: { keepDays: settings.auditDays, before: iso(cutoffs.auditBefore), rows: 0 },
    cgmPartials: { before: new Date(cutoffs.partialsBefore).toISOString(), daily: 0, hourly: 0 },
  };
}

/** The partitions whose keys are due, and those due to be dropped. */
async function due(conn: Db, cutoffs: RetentionCutoffs) {
  const partitions = await listReadingPartitions(conn);
  const pruned = await listPrunedKeyMonths(conn);
  const byMonth = new Map(partitions.map((p) => [p.month, p]));
  const keyMonths = new Set(monthsEndingBy(byMonth.keys(), cutoffs.keysBefore));
  const keys = [...keyMonths].filter((m) => !pruned.has(m)).map((m) => byMonth.get(m) as ReadingPartition);
  const drop =
    cutoffs.readingsBefore === null
      ? []
      : monthsEndingBy(byMonth.keys(), cutoffs.readingsBefore)
          // Never a partition whose keys are still there: they would stay forever.
          .filter((m) => keyMonths.has(m))
          .map((m) => byMonth.get(m) as ReadingPartition);
  const kept = partitions.filter((p) => !drop.includes(p)).map((p) => p.month);
  return { keys, drop, kept, pruned };
}

async function plan(conn: Db, cutoffs: RetentionCutoffs, report: RetentionReport): Promise<RetentionReport> {
  const { keys, drop, kept } = await due(conn, cutoffs);
  for (const p of keys) {
    report.readingKeys.months.push(monthLabel(p.month));
    // One key per stored reading (src/store/readings.repository.ts claims both in one statement).
    report.readingKeys.rows += await countPartitionRows(conn, p.name);
  }
  for (const p of drop) {
    report.readings.partitions.push(p.name);
    report.readings.rows += await countPartitionRows(conn, p.name);
  }
  if (cutoffs.readingsBefore !== null) {
    const rollups = await countRollupsBefore(conn, new Date(rollupsBefore(cutoffs.readingsBefore, kept)));
    report.readings.rollupsDaily = rollups.daily;
    report.readings.rollupsHourly = rollups.hourly;
  }
  if (cutoffs.rejectionsBefore !== null) {
    report.rejections.rows = await countRejectionsBefore(conn, new Date(cutoffs.rejectionsBefore));
  }
  if (cutoffs.auditBefore !== null) {
    report.auditLog.rows = await countAuditBefore(conn, new Date(cutoffs.auditBefore));
  }
  const partials = await cgmPartialsBefore(conn, new Date(cutoffs.partialsBefore), { dryRun: true });
  report.cgmPartials.daily = partials.daily;
  report.cgmPartials.hourly = partials.hourly;
  return report;
}

async function apply(
  conn: Db,
  cutoffs: RetentionCutoffs,
  report: RetentionReport,
  signal: AbortSignal | undefined,
): Promise<RetentionReport> {
  const stopped = () => {
    report.interrupted = signal?.aborted === true;
    return report.interrupted;
  };
  const { keys, drop, kept, pruned } = await due(conn, cutoffs);
  for (const p of keys) {
    const { removed, complete } = await pruneKeysOfPartition(conn, p, signal);
    report.readingKeys.rows += removed;
    if (complete) {
      report.readingKeys.months.push(monthLabel(p.month));
      pruned.add(p.month);
    }
    if (stopped()) return report;
  }
  for (const p of drop) {
    if (stopped()) return report;
    if (!pruned.has(p.month)) throw new Error(`the keys of ${p.name} are still there; not dropping it`);
    const rows = await countPartitionRows(conn, p.name);
    await dropPartition(conn, p);
    report.readings.partitions.push(p.name);
    report.readings.rows += rows;
  }
  if (cutoffs.readingsBefore !== null && !stopped()) {
    const rollups = await deleteRollupsBefore(conn, new Date(rollupsBefore(cutoffs.readingsBefore, kept)), signal);
    report.readings.rollupsDaily = rollups.daily;
    report.readings.rollupsHourly = rollups.hourly;
  }
  if (cutoffs.rejectionsBefore !== null && !stopped()) {
    report.rejections.rows = await deleteRejectionsBefore(conn, new Date(cutoffs.rejectionsBefore), signal);
  }
  if (cutoffs.auditBefore !== null && !stopped()) {
    report.auditLog.rows = await deleteAuditBefore(conn, new Date(cutoffs.auditBefore), signal);
  }
  if (!stopped()) {
    const partials = await cgmPartialsBefore(conn, new Date(cutoffs.partialsBefore), { dryRun: false, signal });
    report.cgmPartials.daily = partials.daily;
    report.cgmPartials.hourly = partials.hourly;
  }
  stopped();
  return report;
}
