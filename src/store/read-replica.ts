import { sql } from 'kysely';
import type { Logger } from '../logger.ts';
import type { Db } from './database.ts';

/** How often the replica's lag is measured. */
const CHECK_EVERY_MS = 1_000;
/** Primary positions kept to date the replica's: more than any sensible bound. */
const SAMPLES_KEPT = 600;
/** A measurement older than this is not trusted: reads go to the primary. */
const STALE_AFTER_CHECKS = 3;

export interface ReadReplicaOptions {
  readonly primary: Db;
  readonly replica: Db;
  /** Beyond this lag (or when the lag cannot be measured), reads go to the primary. */
  readonly maxLagMs: number;
  readonly log: Logger;
  /** Told after every measurement: the lag in seconds (null: unreachable or unknown), and where reads go. */
  readonly observed?: (lagSeconds: number | null, useReplica: boolean) => void;
  readonly checkEveryMs?: number;
}

/**
 * README, "Operations", "Read replica": clinician reads go to DATABASE_READ_URL
 * while its replay lag stays within VITALINK_READ_REPLICA_MAX_LAG_MS, else to the
 * primary; writes (audit rows included) always go to the primary.
 *
 * The lag is dated by the primary's own WAL positions, not by the replica's clock
 * or its last replayed transaction: every second the primary's current position is
 * sampled, and the replica is as fresh as the newest sample its replay position has
 * reached. So an idle primary does not look like a lagging replica, and a replica
 * whose connection to the primary broke (it has replayed all it received) does not
 * look fresh.
 *
 * States: created → running (start: measures every second) → stopped.
 */
export class ReadReplica {
  readonly #o: ReadReplicaOptions;
  /** Primary WAL positions (as numbers of bytes) and when they were read, oldest first. */
  readonly #samples: Array<{ at: number; lsn: bigint }> = [];
  #useReplica = false;
  #checkedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #state: 'replica' | 'lagging' | 'unreachable' | undefined;

  constructor(options: ReadReplicaOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.check();
    this.#timer = setInterval(() => {
      this.#checking ??= this.check().finally(() => {
        this.#checking = undefined;
      });
    }, this.#o.checkEveryMs ?? CHECK_EVERY_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
  }

  /** The database clinician reads go to now. */
  db(): Db {
    const fresh = performance.now() - this.#checkedAt <= STALE_AFTER_CHECKS * (this.#o.checkEveryMs ?? CHECK_EVERY_MS);
    return this.#useReplica && fresh ? this.#o.replica : this.#o.primary;
  }

  /** Measures the replica's lag once and decides where reads go. */
  async check(): Promise<void> {
    try {
      const now = Date.now();
      const primary = await sql<{ lsn: string }>`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn`.execute(
        this.#o.primary,
      );
      this.#samples.push({ at: now, lsn: BigInt(primary.rows[0]!.lsn) });
      if (this.#samples.length > SAMPLES_KEPT) this.#samples.shift();
      // A replica that is not in recovery (a primary given as the read URL) is as fresh as itself.
      const replica = await sql<{ lsn: string | null; standby: boolean }>`
        SELECT (coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn()) - '0/0'::pg_lsn)::text AS lsn,
               pg_is_in_recovery() AS standby`.execute(this.#o.replica);
      const replayed = BigInt(replica.rows[0]!.lsn ?? '0');
      // The newest primary position the replica has reached dates it.
      let freshAt: number | undefined;
      for (let i = this.#samples.length - 1; i >= 0; i--) {
        if (this.#samples[i]!.lsn <= replayed) {
          freshAt = this.#samples[i]!.at;
          break;
        }
      }
      const lagMs = freshAt === undefined ? now - this.#samples[0]!.at + 1 : Math.max(0, now - freshAt);
      this.#decide(lagMs <= this.#o.maxLagMs && freshAt !== undefined ? 'replica' : 'lagging', lagMs);
    } catch (err) {
      this.#decide('unreachable', null, err);
    }
  }

  #decide(state: 'replica' | 'lagging' | 'unreachable', lagMs: number | null, err?: unknown): void {
    this.#useReplica = state === 'replica';
    this.#checkedAt = performance.now();
    this.#o.observed?.(lagMs === null ? null : lagMs / 1000, this.#useReplica);
    if (state === this.#state) return;
    this.#state = state;
    if (state === 'replica') this.#o.log.info({ lagMs }, 'read replica in use for clinician reads');
    else if (state === 'lagging')
      this.#o.log.warn({ lagMs, maxLagMs: this.#o.maxLagMs }, 'read replica lags, clinician reads go to the primary');
    else this.#o.log.warn({ err }, 'read replica unreachable, clinician reads go to the primary');
  }
}
