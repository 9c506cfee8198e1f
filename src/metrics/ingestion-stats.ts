import { WindowedHistogram } from './windowed-histogram.ts';

/**
 * Live ingestion figures for operators (GET /api/v1/ops/ingestion), kept in memory by
 * each instance: readings stored per second over the last second, minute and 15
 * minutes; PUBACK latencies, commit times and batch sizes over the last minute and
 * the last five (stated windows: an idle service has none, not stale figures); and
 * fifteen minutes of history, clock minute by clock minute. Fixed memory: one counter
 * per second and one histogram per second (src/metrics/windowed-histogram.ts) for 16
 * minutes.
 */
export class IngestionStats {
  static readonly WINDOW_SECONDS = 900;
  /** Sixteen minutes and a second: 15 complete clock minutes before the current one, whatever its second. */
  static readonly SLOTS = 16 * 60 + 1;
  /** The seconds of the per-second series in the snapshot (the operator view's chart). */
  static readonly RECENT_SECONDS = 120;
  /** The complete clock minutes of the history, before the current one. */
  static readonly HISTORY_MINUTES = 15;
  /** The windows of the latencies, in seconds. */
  static readonly LATENCY_WINDOWS = [60, 300] as const;
  readonly #perSecond = new Float64Array(IngestionStats.SLOTS);
  #currentSecond = 0;
  readonly #acks: WindowedHistogram;
  /** Rows per batch, recorded in thousands (the histogram's range is for durations in seconds). */
  readonly #batchRows: WindowedHistogram;
  readonly #commitSeconds: WindowedHistogram;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#currentSecond = Math.floor(now() / 1000);
    this.#acks = new WindowedHistogram(now);
    this.#batchRows = new WindowedHistogram(now);
    this.#commitSeconds = new WindowedHistogram(now);
  }

  recordStored(readings: number): void {
    this.#advance();
    this.#perSecond[this.#currentSecond % IngestionStats.SLOTS] += readings;
  }

  recordAck(seconds: number): void {
    this.#acks.record(seconds);
  }

  recordBatch(rows: number, seconds: number): void {
    this.#batchRows.record(rows / 1000);
    this.#commitSeconds.record(seconds);
  }

  /** Readings stored per second, averaged over the last `seconds` complete seconds. */
  rate(seconds: number): number {
    let total = 0;
    for (const n of this.recent(seconds).perSecond) total += n;
    return total / seconds;
  }

  /** Readings stored in each of the last `seconds` complete seconds, oldest first, from the start of the first. */
  recent(seconds: number): { from: number; perSecond: number[] } {
    if (seconds < 1 || seconds > IngestionStats.WINDOW_SECONDS)
      throw new RangeError('window out of range: 1 to 900 seconds');
    this.#advance();
    const perSecond: number[] = new Array(seconds);
    for (let i = 0; i < seconds; i++) {
      perSecond[i] = this.#perSecond[(this.#currentSecond - seconds + i + IngestionStats.SLOTS) % IngestionStats.SLOTS];
    }
    return { from: (this.#currentSecond - seconds) * 1000, perSecond };
  }

  /** Readings stored in the seconds [from, to) (epoch seconds) still held. */
  #storedBetween(from: number, to: number): number {
    let total = 0;
    for (let s = Math.max(from, this.#currentSecond - IngestionStats.SLOTS + 1); s < to; s++) {
      total += this.#perSecond[((s % IngestionStats.SLOTS) + IngestionStats.SLOTS) % IngestionStats.SLOTS];
    }
    return total;
  }

  snapshot() {
    const recent = this.recent(IngestionStats.RECENT_SECONDS);
    const windows = IngestionStats.LATENCY_WINDOWS.map((seconds) => ({
      seconds,
      ackMs: this.#acks.window(seconds, 1000),
      commitMs: this.#commitSeconds.window(seconds, 1000),
      batchRows: this.#batchRows.window(seconds, 1000),
    }));
    const fiveMinutes = windows[1];
    const acks = this.#acks.minutes(IngestionStats.HISTORY_MINUTES, 1000);
    const commits = this.#commitSeconds.minutes(IngestionStats.HISTORY_MINUTES, 1000);
    const minutes = acks.map((m, i) => ({
      from: new Date(m.from).toISOString(),
      partial: m.partial,
      stored: this.#storedBetween(m.from / 1000, m.partial ? this.#currentSecond + 1 : m.from / 1000 + 60),
      ackMs: m.summary,
      commitMs: commits[i].summary,
    }));
    return {
      readingsPerSecond: { last1s: this.rate(1), last1m: this.rate(60), last15m: this.rate(900) },
      recent: { from: new Date(recent.from).toISOString(), perSecond: recent.perSecond },
      // The last five minutes (latencyWindows has the last minute too).
      ackLatencyMs: fiveMinutes.ackMs,
      batchRows: fiveMinutes.batchRows,
      commitMs: fiveMinutes.commitMs,
      latencyWindows: windows,
      history: { minutes },
    };
  }

  #advance(): void {
    const second = Math.floor(this.#now() / 1000);
    if (second === this.#currentSecond) return;
    // Clear the slots of the seconds that passed with nothing recorded.
    const gap = Math.min(second - this.#currentSecond, IngestionStats.SLOTS);
    for (let i = 1; i <= gap; i++) this.#perSecond[(this.#currentSecond + i) % IngestionStats.SLOTS] = 0;
    this.#currentSecond = second;
  }
}

/** p50, p95, p99 and max of the samples (scaled), or nulls when there are none. */
export function percentiles(samples: number[], scale: number) {
  if (samples.length === 0) return { samples: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = samples.slice().sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] * scale;
  return { samples: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1] * scale };
}
