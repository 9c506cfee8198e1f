import { sql } from 'kysely';
import type { Db } from './database.ts';
import { partitionMonth } from './partitions.ts';

/**
 * What the database holds, for the operator view (README, "Operations", "The ops
 * view"): read from PostgreSQL's catalog and statistics only (sizes on disk, the
 * planner's row estimates), never by counting rows, so its cost does not grow with
 * the history kept.
 */
export interface StorageStats {
  readonly databaseBytes: number;
  /** The monthly partitions of readings, oldest first. */
  readonly readingPartitions: {
    readonly name: string;
    /** The month it holds, [from, to) by measurement time; null for a partition not named by month. */
    readonly from: string | null;
    readonly to: string | null;
    readonly bytes: number;
    /** The planner's estimate (pg_class.reltuples); null before the table was first analysed. */
    readonly estimatedRows: number | null;
  }[];
  /** The largest tables (partitions included), table, indexes and TOAST together. */
  readonly largestTables: { readonly name: string; readonly bytes: number; readonly estimatedRows: number | null }[];
}

const LARGEST = 8;

const estimate = (reltuples: number) => (reltuples < 0 ? null : Math.round(reltuples));

export async function readStorageStats(db: Db): Promise<StorageStats> {
  const [size, partitions, largest] = await Promise.all([
    sql<{ bytes: string }>`SELECT pg_database_size(current_database())::text AS bytes`.execute(db),
    sql<{ name: string; bytes: string; reltuples: number }>`
      SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes, c.reltuples::float8 AS reltuples
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = to_regclass('readings')
       ORDER BY c.relname`.execute(db),
    sql<{ name: string; bytes: string; reltuples: number }>`
      SELECT c.relname AS name, pg_total_relation_size(c.oid)::text AS bytes, c.reltuples::float8 AS reltuples
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'm') AND n.nspname = current_schema()
       ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
       LIMIT ${LARGEST}`.execute(db),
  ]);
  return {
    databaseBytes: Number(size.rows[0].bytes),
    readingPartitions: partitions.rows.map((p) => {
      const month = partitionMonth(p.name);
      const next = month === null ? null : new Date(month);
      if (next) next.setUTCMonth(next.getUTCMonth() + 1);
      return {
        name: p.name,
        from: month === null ? null : new Date(month).toISOString(),
        to: next ? next.toISOString() : null,
        bytes: Number(p.bytes),
        estimatedRows: estimate(p.reltuples),
      };
    }),
    largestTables: largest.rows.map((t) => ({
      name: t.name,
      bytes: Number(t.bytes),
      estimatedRows: estimate(t.reltuples),
    })),
  };
}

/** Rejections recorded per device since `since`, for the devices given (the index on device and time bounds it). */
export async function countRecentRejections(
  db: Db,
  deviceIds: readonly string[],
  since: Date,
): Promise<Map<string, number>> {
  if (deviceIds.length === 0) return new Map();
  const { rows } = await sql<{ device_id: string; n: string }>`
    SELECT device_id, count(*)::text AS n FROM rejections
     WHERE device_id = ANY (${[...deviceIds]}::text[]) AND received_at >= ${since}
     GROUP BY device_id`.execute(db);
  return new Map(rows.map((r) => [r.device_id, Number(r.n)]));
}
