import { sql } from 'kysely';
import { nextUtcMonthStart, utcMonthStart } from '../domain/retention.ts';
import type { Logger } from '../logger.ts';
import type { Db } from './database.ts';

export const monthStart = utcMonthStart;
const nextMonthStart = nextUtcMonthStart;

/** Months of partitions kept ready ahead of the current one. */
const PARTITIONS_AHEAD_MS = 62 * 86_400_000;
const PARTITION_MAINTENANCE_MS = 6 * 3_600_000;

/**
 * Monthly range partitions of `readings` by measured_at (UTC months). The service
 * creates them ahead of time, from the oldest acceptable reading to two months
 * ahead, and the flush checks each batch's months against what it knows exists,
 * so a reading never meets a missing partition.
 */
export class Partitions {
  readonly #db: Db;
  readonly #known = new Set<string>();
  /** The month of the last reading found in a known partition. */
  #lastFrom = 0;
  #lastTo = 0;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Creates the partitions of every month from `fromMs` to `toMs` (inclusive). */
  async ensureRange(fromMs: number, toMs: number): Promise<string[]> {
    const created: string[] = [];
    for (let start = monthStart(fromMs); start <= toMs; start = nextMonthStart(start)) {
      if (await this.#ensureMonth(start)) created.push(partitionName(start));
    }
    return created;
  }

  /** Creates, if needed, the partitions that the given measured times fall in. */
  async ensureFor(measuredAt: Iterable<number>): Promise<void> {
    let missing: Set<number> | undefined;
    for (const at of measuredAt) {
      // Nearly every reading falls in the month of the one before it.
      if (at >= this.#lastFrom && at < this.#lastTo) continue;
      const start = monthStart(at);
      if (this.#known.has(partitionName(start))) {
        this.#lastFrom = start;
        this.#lastTo = nextMonthStart(start);
        continue;
      }
      missing ??= new Set();
      missing.add(start);
    }
    if (missing) for (const start of missing) await this.#ensureMonth(start);
  }

  async #ensureMonth(start: number): Promise<boolean> {
    const name = partitionName(start);
    if (this.#known.has(name)) return false;
    let created = false;
    try {
      const exists = await sql<{ found: boolean }>`SELECT to_regclass(${name}) IS NOT NULL AS found`.execute(this.#db);
      if (exists.rows[0]?.found) {
        this.#known.add(name);
        return false;
      }
      // Creating a partition needs the ownership of readings: the function runs as its owner
      // (migration 2026-12-07T1400; README, "Security", "Database roles").
      const made = await sql<{ created: boolean }>`
        SELECT vitalink_ensure_reading_partition(${new Date(start)}::timestamptz) AS created`.execute(this.#db);
      // false: another instance made it meanwhile (the function serialises the creations of a month).
      created = made.rows[0]?.created === true;
    } catch (error) {
      // Another instance created it meanwhile (duplicate table, or unique violation in the catalog).
      const code = (error as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw error;
    }
    this.#known.add(name);
    return created;
  }
}

/**
 * Keeps the partitions of every acceptable reading ready: from `maxAgeMs` ago
 * (device-protocol.md, "Time": older readings are refused) to two months ahead,
 * once at start and then every six hours, logging the partitions it created.
 *
 * States: created → running (start: the first pass is awaited, its failure
 * fails the start; later passes log their failure and retry at the next one)
 * → stopped (stop).
 */
export class PartitionMaintenance {
  readonly #partitions: Pick<Partitions, 'ensureRange'>;
  readonly #maxAgeMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    partitions: Pick<Partitions, 'ensureRange'>,
    options: { maxAgeMs: number; log: Logger; now?: () => number },
  ) {
    this.#partitions = partitions;
    this.#maxAgeMs = options.maxAgeMs;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.#ensure();
    this.#timer = setInterval(() => {
      this.#ensure().catch((err: unknown) => this.#log.warn({ err }, 'partition maintenance failed, will retry'));
    }, PARTITION_MAINTENANCE_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #ensure(): Promise<void> {
    const now = this.#now();
    const created = await this.#partitions.ensureRange(now - this.#maxAgeMs, now + PARTITIONS_AHEAD_MS);
    if (created.length > 0) this.#log.info({ partitions: created }, 'reading partitions created');
  }
}

export function partitionName(start: number): string {
  const d = new Date(start);
  return `readings_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The month start of a partition named by partitionName, or null for any other name. */
export function partitionMonth(name: string): number | null {
  const m = /^readings_(\d{4})_(\d{2})$/.exec(name);
  if (!m) return null;
  const month = Number(m[2]);
  return month >= 1 && month <= 12 ? Date.UTC(Number(m[1]), month - 1, 1) : null;
}
