/**
 * The retention policy (README, "Retention"): what may be deleted, as pure
 * functions of the settings and a clock. No database here: the store turns these
 * cutoffs into DROP and DELETE statements (src/store/retention.repository.ts).
 *
 * Months are UTC months, as the partitions of `readings` are (src/store/partitions.ts).
 */

export const DAY_MS = 86_400_000;

/**
 * Duplicate keys outlive the acceptance window by this much. A reading is checked
 * against the window when it is decoded, with the decoding instance's clock (or,
 * when reprocessed, against the time its rejection was received), and its key is
 * looked up at commit, later: a batch waits up to VITALINK_HOLD_MAX_MS for its
 * PUBACK and retries while the database is unreachable from that instance; the
 * retention run uses another instance's clock. Seven days covers clock skew
 * between instances (seconds with NTP, hours for a badly set clock) and an
 * instance holding decoded messages through a database outage of up to a week,
 * and costs one week of keys out of the window's 90 days.
 */
export const KEY_MARGIN_DAYS = 7;

/**
 * CGM partial aggregates (cgm_hourly_partials, cgm_daily_partials) serve only the
 * 14-day CGM window of the indicators (src/domain/indicators/cgm-partials.ts); the
 * rollups keep the history. They are kept for the window and three days more (a
 * UTC day of partials may straddle the window's start, and the job's clock may lag
 * the retention run's), whatever the readings' retention; a late reading that
 * dirties an older day writes its partials again, and the next run removes them.
 */
export const PARTIALS_KEPT_DAYS = 14 + 3;

export interface RetentionSettings {
  /** Days readings (and their rollups) are kept; null: forever. */
  readonly readingsDays: number | null;
  /** Days rejections are kept, by received time; null: forever. */
  readonly rejectionsDays: number | null;
  /** Days the audit trail (reads of patient data, denials) is kept; null: forever. */
  readonly auditDays: number | null;
  /** VITALINK_READING_MAX_AGE_DAYS, in ms: readings older than this are refused `too_old`. */
  readonly readingMaxAgeMs: number;
}

export interface RetentionCutoffs {
  /**
   * Month partitions of readings ending at or before this instant (a UTC month
   * start) are dropped with their rollups; null: readings are kept forever.
   */
  readonly readingsBefore: number | null;
  /** Duplicate keys of readings measured before this instant may be removed (by whole UTC months). */
  readonly keysBefore: number;
  readonly rejectionsBefore: number | null;
  readonly auditBefore: number | null;
  /** CGM partial aggregates of hours and UTC days ending by this instant are removed. */
  readonly partialsBefore: number;
}

/**
 * The database's own floor: vitalink_drop_reading_partition (migration
 * 2026-12-07T1400) refuses a month that ended less than this many days ago, the
 * shortest retention of the default 90-day window.
 */
export const MINIMUM_READINGS_DAYS = 97;

/**
 * The shortest readings retention the window allows: a reading accepted today is
 * kept at least as long as its key, and never less than the database's floor.
 */
export function minimumReadingsDays(readingMaxAgeDays: number): number {
  return Math.max(readingMaxAgeDays + KEY_MARGIN_DAYS, MINIMUM_READINGS_DAYS);
}

/** Readings older than this are before the keys' horizon: a duplicate of them could no longer be recognised. */
export function keysBefore(now: number, readingMaxAgeMs: number): number {
  return now - readingMaxAgeMs - KEY_MARGIN_DAYS * DAY_MS;
}

export function retentionCutoffs(settings: RetentionSettings, now: number): RetentionCutoffs {
  const ago = (days: number | null) => (days === null ? null : now - days * DAY_MS);
  const readings = ago(settings.readingsDays);
  return {
    // Whole months only: the month that holds the cutoff is kept until all of it is older.
    readingsBefore: readings === null ? null : utcMonthStart(readings),
    keysBefore: keysBefore(now, settings.readingMaxAgeMs),
    rejectionsBefore: ago(settings.rejectionsDays),
    auditBefore: ago(settings.auditDays),
    partialsBefore: now - PARTIALS_KEPT_DAYS * DAY_MS,
  };
}

/** The months (UTC month starts) lying entirely before `before`. */
export function monthsEndingBy(monthStarts: Iterable<number>, before: number): number[] {
  return [...monthStarts].filter((start) => nextUtcMonthStart(start) <= before).sort((a, b) => a - b);
}

/**
 * Rollups of the time before this go with the readings: the readings cutoff, or
 * the start of an older month whose partition is still there (its drop failed or
 * waits for its keys), so that no rollup goes before its readings.
 */
export function rollupsBefore(readingsBefore: number, keptMonths: Iterable<number>): number {
  return Math.min(readingsBefore, ...keptMonths);
}

export function utcMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextUtcMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
