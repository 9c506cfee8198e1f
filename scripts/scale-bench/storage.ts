/**
 * Bytes per stored reading, per table and index: what the history takes on disk
 * (pg_table_size: heap, TOAST and maps; pg_relation_size of each index), divided by
 * the readings stored. `readings` is summed over its monthly partitions.
 */
import { sql } from 'kysely';
import type { Db } from '../../src/store/database.ts';

export interface RelationSize {
  bytes: number;
  bytesPerReading: number;
}

export interface Storage {
  readings: number;
  tables: Record<string, RelationSize & { rows: number }>;
  indexes: Record<string, RelationSize>;
  totalBytesPerReading: number;
}

const TABLES = ['readings', 'reading_keys', 'rollups_hourly', 'rollups_daily'] as const;

export interface Counts {
  readings: number;
  readingKeys: number;
  rollupsHourly: number;
  rollupsDaily: number;
  dirtyMarks: number;
  patients: number;
  devices: number;
  alerts: number;
}

export async function countRows(db: Db): Promise<Counts> {
  const { rows } = await sql<Record<keyof Counts, string>>`
    SELECT (SELECT count(*) FROM readings) AS "readings",
           (SELECT count(*) FROM reading_keys) AS "readingKeys",
           (SELECT count(*) FROM rollups_hourly) AS "rollupsHourly",
           (SELECT count(*) FROM rollups_daily) AS "rollupsDaily",
           (SELECT count(*) FROM aggregation_dirty) AS "dirtyMarks",
           (SELECT count(*) FROM patients) AS "patients",
           (SELECT count(*) FROM devices) AS "devices",
           (SELECT count(*) FROM alerts) AS "alerts"
  `.execute(db);
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)])) as unknown as Counts;
}

export async function measureStorage(db: Db, counts: Counts): Promise<Storage> {
  const per = (bytes: number) => Math.round((bytes / counts.readings) * 10) / 10;
  const rowsOf: Record<(typeof TABLES)[number], number> = {
    readings: counts.readings,
    reading_keys: counts.readingKeys,
    rollups_hourly: counts.rollupsHourly,
    rollups_daily: counts.rollupsDaily,
  };
  const tables: Storage['tables'] = {};
  const indexes: Storage['indexes'] = {};
  let total = 0;
  for (const table of TABLES) {
    const { rows: heap } = await sql<{ bytes: string }>`
      SELECT CASE WHEN c.relkind = 'p'
                  THEN (SELECT coalesce(sum(pg_table_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
                  ELSE pg_table_size(c.oid) END AS bytes
      FROM pg_class c WHERE c.oid = ${table}::regclass
    `.execute(db);
    const heapBytes = Number(heap[0].bytes);
    tables[table] = { bytes: heapBytes, bytesPerReading: per(heapBytes), rows: rowsOf[table] };
    total += heapBytes;
    const { rows: idx } = await sql<{ name: string; bytes: string }>`
      SELECT c.relname AS name,
             CASE WHEN c.relkind = 'I'
                  THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
                  ELSE pg_relation_size(c.oid) END AS bytes
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = ${table}::regclass
      ORDER BY 1
    `.execute(db);
    for (const { name, bytes } of idx) {
      indexes[name] = { bytes: Number(bytes), bytesPerReading: per(Number(bytes)) };
      total += Number(bytes);
    }
  }
  return { readings: counts.readings, tables, indexes, totalBytesPerReading: per(total) };
}
