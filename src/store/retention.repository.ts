import { sql } from 'kysely';
import { nextUtcMonthStart } from '../domain/retention.ts';
import type { Db } from './database.ts';
import { partitionMonth } from './partitions.ts';

/**
 * The SQL of retention (README, "Retention"). Every delete runs as bounded
 * statements of its own (autocommit, a few thousand rows each), so a run never
 * holds locks that ingestion or the aggregation job would wait for more than one
 * batch. The caller passes one connection (`db.connection()`): the advisory lock
 * is held by that session.
 */

/** pg_advisory_lock key of retention runs: one run at a time per database. */
const RETENTION_LOCK_KEY = 0x7669_7461_6c72_6574n; // "vitalret"

/** Rows per DELETE statement. */
const ROWS_PER_BATCH = 5_000;
/**
 * Heap pages of a readings partition read per DELETE of its keys: ~40 readings a
 * page, so about 10,000 keys per statement.
 */
const PAGES_PER_BATCH = 256;

export interface ReadingPartition {
  readonly name: string;
  /** UTC month start. */
  readonly month: number;
  /**
   * `attached`; `pending`: left half-detached by an interrupted DETACH …
   * CONCURRENTLY; `detached`: detached by a run that could not drop it.
   */
  readonly state: 'attached' | 'pending' | 'detached';
}

/** Takes the retention lock if free; false when another session holds it. */
export async function tryRetentionLock(conn: Db): Promise<boolean> {
  const { rows } = await sql<{
    locked: boolean;
  }>`SELECT pg_try_advisory_lock(${RETENTION_LOCK_KEY}::bigint) AS locked`.execute(conn);
  return rows[0]?.locked === true;
}

export async function releaseRetentionLock(conn: Db): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${RETENTION_LOCK_KEY}::bigint)`.execute(conn);
}

/**
 * The month partitions of readings (named by partitions.ts), oldest first, and
 * the tables of such months that a run detached but could not drop.
 */
export async function listReadingPartitions(db: Db): Promise<ReadingPartition[]> {
  const { rows } = await sql<{ name: string; detach_pending: boolean | null }>`
    SELECT c.relname AS name, i.inhdetachpending AS detach_pending
    FROM pg_class c
    LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'readings'::regclass
    WHERE c.relname ~ '^readings_[0-9]{4}_[0-9]{2}$' AND c.relkind = 'r' AND pg_table_is_visible(c.oid)
  `.execute(db);
  const partitions: ReadingPartition[] = [];
  for (const row of rows) {
    const month = partitionMonth(row.name);
    const state = row.detach_pending === null ? 'detached' : row.detach_pending ? 'pending' : 'attached';
    if (month !== null) partitions.push({ name: row.name, month, state });
  }
  return partitions.sort((a, b) => a.month - b.month);
}

/** The months whose duplicate keys were removed. */
export async function listPrunedKeyMonths(db: Db): Promise<Set<number>> {
  const { rows } = await sql<{ month: Date }>`SELECT month FROM reading_keys_pruned`.execute(db);
  return new Set(rows.map((r) => r.month.getTime()));
}

/**
 * The end of the newest month whose keys were removed (epoch ms), or null: no key
 * of a reading measured before it is left, whatever the acceptance window says now.
 */
export async function prunedKeysHorizon(db: Db): Promise<number | null> {
  const { rows } = await sql<{ month: Date | null }>`SELECT max(month) AS month FROM reading_keys_pruned`.execute(db);
  const month = rows[0]?.month;
  return month ? nextUtcMonthStart(month.getTime()) : null;
}

export async function countPartitionRows(db: Db, name: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(name)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Removes the duplicate keys of the readings of one partition: its heap is read
 * PAGES_PER_BATCH pages at a time (a TID range scan) and each reading's key is
 * deleted through reading_keys' primary key, so the cost is that of the keys
 * removed, never a scan of reading_keys. Then records the month as done, so that
 * no later run reads the partition again. Returns the keys removed, and whether
 * the partition was read to its end (`signal` stops it between statements; the
 * next run starts the month again).
 */
export async function pruneKeysOfPartition(
  conn: Db,
  partition: ReadingPartition,
  signal?: AbortSignal,
): Promise<{ removed: number; complete: boolean }> {
  const { rows } = await sql<{ pages: string }>`
    SELECT pg_relation_size(${partition.name}::regclass) / current_setting('block_size')::int AS pages
  `.execute(conn);
  const pages = Number(rows[0]?.pages ?? 0);
  let removed = 0;
  for (let from = 0; from < pages; from += PAGES_PER_BATCH) {
    if (signal?.aborted) return { removed, complete: false };
    const to = from + PAGES_PER_BATCH;
    const result = await deleteKeysOfPages(partition.name, from, to).execute(conn);
    removed += Number(result.numAffectedRows ?? 0);
  }
  await sql`
    INSERT INTO reading_keys_pruned (month, keys_removed) VALUES (${new Date(partition.month)}, ${removed})
    ON CONFLICT (month) DO UPDATE SET keys_removed = reading_keys_pruned.keys_removed + EXCLUDED.keys_removed,
                                      pruned_at = now()
  `.execute(conn);
  return { removed, complete: true };
}

/**
 * One statement of key removal: the readings on pages [from, to) of a partition
 * (a TID range scan), each key found by its own probe of reading_keys' primary key
 * (a correlated sub-query runs once per row; a join lets PostgreSQL hash all of
 * reading_keys, as it did at 3M keys), then deleted by TID. Exported for the plan
 * check in scripts/retention-load.ts.
 */
export function deleteKeysOfPages(partitionName: string, from: number, to: number) {
  return sql`
    DELETE FROM reading_keys WHERE ctid = ANY (ARRAY(
      SELECT (SELECT k.ctid FROM reading_keys k
              WHERE k.device_id = r.device_id COLLATE "C" AND k.reading_id = r.reading_id COLLATE "C")
      FROM ${sql.table(partitionName)} r
      WHERE r.ctid >= ${`(${from},0)`}::tid AND r.ctid < ${`(${to},0)`}::tid))`;
}

/**
 * Detaches a partition without blocking the writes and reads of other months
 * (DETACH … CONCURRENTLY waits for the queries that may use it, not the other way
 * round), then drops it. A detach interrupted earlier is finished (FINALIZE), and
 * a table detached by a run that could not drop it is dropped.
 * Waits at most `lockTimeoutMs` for a lock: on timeout it throws, and the next run
 * finishes the job.
 *
 * A session whose role does not own readings (the role split: README, "Security",
 * "Database roles") asks vitalink_drop_reading_partition instead, which refuses a
 * month that ended less than 97 days ago. A function runs inside a transaction,
 * where CONCURRENTLY is not allowed: its DETACH holds an ACCESS EXCLUSIVE lock on
 * readings, so ingestion waits while it waits for the queries in flight (at most
 * `lockTimeoutMs`, once a month).
 */
export async function dropPartition(conn: Db, partition: ReadingPartition, lockTimeoutMs = 10_000): Promise<void> {
  if (!(await ownsReadings(conn))) {
    await sql`SELECT vitalink_drop_reading_partition(${partition.name}, ${lockTimeoutMs}::integer)`.execute(conn);
    return;
  }
  const table = sql.table(partition.name);
  await sql`SELECT set_config('lock_timeout', ${`${lockTimeoutMs}ms`}, false)`.execute(conn);
  try {
    if (partition.state === 'pending') await sql`ALTER TABLE readings DETACH PARTITION ${table} FINALIZE`.execute(conn);
    if (partition.state === 'attached')
      await sql`ALTER TABLE readings DETACH PARTITION ${table} CONCURRENTLY`.execute(conn);
    await sql`DROP TABLE ${table}`.execute(conn);
  } finally {
    await sql`RESET lock_timeout`.execute(conn);
  }
}

async function ownsReadings(conn: Db): Promise<boolean> {
  const { rows } = await sql<{ owns: boolean }>`
    SELECT pg_has_role(current_user, relowner, 'USAGE') AS owns FROM pg_class WHERE oid = 'readings'::regclass`.execute(
    conn,
  );
  return rows[0]?.owns === true;
}

/**
 * Rollups of the time before `before` (the start of the oldest month kept):
 * hours that end by then, and patient-local days that end by then in the
 * patient's zone (a day is kept while any of its hours is kept).
 */
function rollupsBefore(before: Date) {
  const day = before.toISOString().slice(0, 10);
  return {
    hourly: sql`FROM rollups_hourly WHERE hour_start <= ${before}::timestamptz - interval '1 hour'`,
    // day < the UTC date of `before` bounds the index scan; the zone then decides.
    daily: sql`FROM rollups_daily r JOIN patients p ON p.id = r.patient_id
               WHERE r.day < ${day}::date AND ((r.day + 1)::timestamp AT TIME ZONE p.time_zone) <= ${before}`,
  };
}

export async function countRollupsBefore(db: Db, before: Date): Promise<{ daily: number; hourly: number }> {
  const q = rollupsBefore(before);
  const { rows } = await sql<{ daily: string; hourly: string }>`
    SELECT (SELECT count(*) ${q.daily}) AS daily, (SELECT count(*) ${q.hourly}) AS hourly
  `.execute(db);
  return { daily: Number(rows[0]?.daily ?? 0), hourly: Number(rows[0]?.hourly ?? 0) };
}

export async function deleteRollupsBefore(
  conn: Db,
  before: Date,
  signal?: AbortSignal,
): Promise<{ daily: number; hourly: number }> {
  const q = rollupsBefore(before);
  const daily = await deleteInBatches(
    conn,
    (n) => sql`DELETE FROM rollups_daily WHERE ctid = ANY (ARRAY(SELECT r.ctid ${q.daily} LIMIT ${n}))`,
    signal,
  );
  const hourly = await deleteInBatches(
    conn,
    (n) => sql`DELETE FROM rollups_hourly WHERE ctid = ANY (ARRAY(SELECT ctid ${q.hourly} LIMIT ${n}))`,
    signal,
  );
  return { daily, hourly };
}

/** Patients per statement when removing CGM partials. */
const PATIENTS_PER_BATCH = 500;

/**
 * CGM partials of the hours and UTC days that end by `before`, 500 patients a
 * statement: each patient's rows are one range of the primary key (patient_id,
 * hour_start or day_start, device_id), so the job's writes need no index on the time
 * column and a run costs the patients plus the rows removed, not the table.
 * Counts (dryRun) or deletes; returns the rows.
 */
export async function cgmPartialsBefore(
  conn: Db,
  before: Date,
  options: { dryRun: boolean; signal?: AbortSignal },
): Promise<{ daily: number; hourly: number }> {
  const removed = { daily: 0, hourly: 0 };
  let after = '';
  for (;;) {
    if (options.signal?.aborted) return removed;
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM patients WHERE id > ${after} ORDER BY id LIMIT ${PATIENTS_PER_BATCH}`.execute(conn);
    if (rows.length === 0) return removed;
    const ids = rows.map((r) => r.id);
    after = ids[ids.length - 1];
    const hourly = sql`cgm_hourly_partials WHERE patient_id = ANY (${ids}::text[])
      AND hour_start <= ${before}::timestamptz - interval '1 hour'`;
    const daily = sql`cgm_daily_partials WHERE patient_id = ANY (${ids}::text[])
      AND day_start <= ${before}::timestamptz - interval '1 day'`;
    if (options.dryRun) {
      const { rows: n } = await sql<{ daily: string; hourly: string }>`
        SELECT (SELECT count(*) FROM ${daily}) AS daily, (SELECT count(*) FROM ${hourly}) AS hourly`.execute(conn);
      removed.daily += Number(n[0]?.daily ?? 0);
      removed.hourly += Number(n[0]?.hourly ?? 0);
    } else {
      removed.daily += Number((await sql`DELETE FROM ${daily}`.execute(conn)).numAffectedRows ?? 0);
      removed.hourly += Number((await sql`DELETE FROM ${hourly}`.execute(conn)).numAffectedRows ?? 0);
    }
  }
}

export async function countRejectionsBefore(db: Db, before: Date): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM rejections WHERE received_at < ${before}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Rejections received before `before`, open or closed, through rejections_received. */
export function deleteRejectionsBefore(conn: Db, before: Date, signal?: AbortSignal): Promise<number> {
  return deleteInBatches(
    conn,
    (n) => sql`
      DELETE FROM rejections WHERE id = ANY (ARRAY(
        SELECT id FROM rejections WHERE received_at < ${before} ORDER BY received_at LIMIT ${n}))`,
    signal,
  );
}

export async function countAuditBefore(db: Db, before: Date): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_log WHERE at < ${before}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Audit entries older than `before`, through audit_log_at, by
 * vitalink_delete_audit_before (migration 2026-12-07T1400): the service's role has
 * no DELETE on audit_log, and its append-only trigger lets through only the delete
 * of that function, which refuses entries less than 365 days old.
 */
export async function deleteAuditBefore(conn: Db, before: Date, signal?: AbortSignal): Promise<number> {
  let removed = 0;
  for (;;) {
    if (signal?.aborted) return removed;
    const { rows } = await sql<{ n: string }>`
      SELECT vitalink_delete_audit_before(${before}::timestamptz, ${ROWS_PER_BATCH}::integer) AS n`.execute(conn);
    const n = Number(rows[0]?.n ?? 0);
    removed += n;
    if (n < ROWS_PER_BATCH) return removed;
  }
}

/** Runs `statement` until it deletes less than a batch, or `signal` is aborted (checked between statements). */
async function deleteInBatches(
  conn: Db,
  statement: (limit: number) => ReturnType<typeof sql>,
  signal: AbortSignal | undefined,
): Promise<number> {
  let removed = 0;
  for (;;) {
    if (signal?.aborted) return removed;
    const result = await statement(ROWS_PER_BATCH).execute(conn);
    const n = Number(result.numAffectedRows ?? 0);
    removed += n;
    if (n < ROWS_PER_BATCH) return removed;
  }
}
