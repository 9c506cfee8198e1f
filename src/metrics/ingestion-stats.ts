/**
 * Live ingestion figures for operators (GET /api/v1/ops/ingestion): readings
 * stored per second over the last second, minute and 15 minutes, and recent
 * PUBACK latencies, batch sizes and commit times. Fixed memory: one counter per
 * second for 15 minutes and ring buffers of the latest samples.
 */
export class IngestionStats {
  static readonly WINDOW_SECONDS = 900;
  /** The complete seconds of the window and the current, partial one. */
  static readonly SLOTS = IngestionStats.WINDOW_SECONDS + 1;
  /** The seconds of the per-second series in the snapshot (the operator view's chart). */
  static readonly RECENT_SECONDS = 120;
  readonly #perSecond = new Float64Array(IngestionStats.SLOTS);
  #currentSecond = 0;
  readonly #acks = new Ring(4096);
  readonly #batchRows = new Ring(512);
  readonly #commitSeconds = new Ring(512);
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#currentSecond = Math.floor(now() / 1000);
  }

  recordStored(readings: number): void {
    this.#advance();
    this.#perSecond[this.#currentSecond % IngestionStats.SLOTS] += readings;
  }

  recordAck(seconds: number): void {
    this.#acks.push(seconds);
  }

  recordBatch(rows: number, seconds: number): void {
    this.#batchRows.push(rows);
    this.#commitSeconds.push(seconds);
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

  snapshot() {
    const recent = this.recent(IngestionStats.RECENT_SECONDS);
    return {
      readingsPerSecond: { last1s: this.rate(1), last1m: this.rate(60), last15m: this.rate(900) },
      recent: { from: new Date(recent.from).toISOString(), perSecond: recent.perSecond },
      ackLatencyMs: percentiles(this.#acks.values(), 1000),
      batchRows: percentiles(this.#batchRows.values(), 1),
      commitMs: percentiles(this.#commitSeconds.values(), 1000),
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

class Ring {
  readonly #data: Float64Array;
  #count = 0;
  constructor(size: number) {
    this.#data = new Float64Array(size);
  }
  push(v: number): void {
    this.#data[this.#count % this.#data.length] = v;
    this.#count++;
  }
  values(): number[] {
    return Array.from(this.#data.subarray(0, Math.min(this.#count, this.#data.length)));
  }
}

/** p50, p95, p99 and max of the samples (scaled), or nulls when there are none. */
export function percentiles(samples: number[], scale: number) {
  if (samples.length === 0) return { samples: 0, p50: null, p95: null, p99: null, max: null };
  const sorted = samples.slice().sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] * scale;
  return { samples: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1] * scale };
}
