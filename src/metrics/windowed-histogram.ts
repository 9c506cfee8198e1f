/**
 * Durations recorded second by second for the last sixteen minutes, in fixed memory:
 * for each second, a count per logarithmic bin (each bin 15 % wider than the one
 * before, from 0.1 ms to about 7 minutes), the number of samples and the largest. A
 * window (the last minute, the last five) or a clock minute of the history is the sum
 * of its seconds' bins, so its percentiles cover exactly that time and nothing older:
 * with nothing recorded in it, they are null, never the figures of an older burst.
 * A percentile is the geometric middle of its bin, so within 7.5 % of the true value
 * (never above the window's largest sample, which is exact).
 */
const LOWEST_S = 0.0001;
const RATIO = 1.15;
const BINS = 110;
const LOG_RATIO = Math.log(RATIO);

export interface DurationSummary {
  readonly samples: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

function binOf(seconds: number): number {
  if (!(seconds > LOWEST_S)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(seconds / LOWEST_S) / LOG_RATIO));
}

/** The geometric middle of a bin (the first covers 0 to 0.1 ms: its upper bound). */
function valueOf(bin: number): number {
  return bin === 0 ? LOWEST_S : LOWEST_S * RATIO ** (bin - 0.5);
}

/** The slot of an epoch second (positive, for times before 1970 in tests too). */
const slotOf = (second: number) =>
  ((second % WindowedHistogram.SLOTS) + WindowedHistogram.SLOTS) % WindowedHistogram.SLOTS;

export class WindowedHistogram {
  /** Sixteen minutes and one second: fifteen complete clock minutes before the current one, whatever its second. */
  static readonly SLOTS = 16 * 60 + 1;
  readonly #counts = new Uint32Array(WindowedHistogram.SLOTS * BINS);
  readonly #samples = new Uint32Array(WindowedHistogram.SLOTS);
  readonly #max = new Float64Array(WindowedHistogram.SLOTS);
  #currentSecond: number;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#currentSecond = Math.floor(now() / 1000);
  }

  record(seconds: number): void {
    this.#advance();
    const slot = slotOf(this.#currentSecond);
    this.#counts[slot * BINS + binOf(seconds)]++;
    this.#samples[slot]++;
    if (seconds > this.#max[slot]) this.#max[slot] = seconds;
  }

  /** The samples of the last `seconds` seconds, the current one included, scaled (1000: milliseconds). */
  window(seconds: number, scale: number): DurationSummary {
    this.#advance();
    return this.#summary(this.#currentSecond - seconds + 1, this.#currentSecond + 1, scale);
  }

  /**
   * The clock minutes of the history, oldest first: the `minutes` complete ones before
   * the current minute, then the current one (partial), each with its start.
   */
  minutes(minutes: number, scale: number): { from: number; partial: boolean; summary: DurationSummary }[] {
    if (minutes < 0 || minutes > 15) throw new RangeError('history out of range: 0 to 15 minutes');
    this.#advance();
    const currentMinute = Math.floor(this.#currentSecond / 60);
    const result = [];
    for (let m = currentMinute - minutes; m <= currentMinute; m++) {
      const from = m * 60;
      const to = m === currentMinute ? this.#currentSecond + 1 : from + 60;
      result.push({ from: from * 1000, partial: m === currentMinute, summary: this.#summary(from, to, scale) });
    }
    return result;
  }

  /** Seconds [from, to) of the slots. */
  #summary(from: number, to: number, scale: number): DurationSummary {
    const merged = new Float64Array(BINS);
    let samples = 0;
    let max = 0;
    for (let s = Math.max(from, this.#currentSecond - WindowedHistogram.SLOTS + 1); s < to; s++) {
      const slot = slotOf(s);
      const n = this.#samples[slot];
      if (n === 0) continue;
      samples += n;
      if (this.#max[slot] > max) max = this.#max[slot];
      const base = slot * BINS;
      for (let b = 0; b < BINS; b++) merged[b] += this.#counts[base + b];
    }
    if (samples === 0) return { samples: 0, p50: null, p95: null, p99: null, max: null };
    const at = (p: number) => {
      const rank = Math.max(1, Math.ceil((p / 100) * samples));
      let seen = 0;
      for (let b = 0; b < BINS; b++) {
        seen += merged[b];
        if (seen >= rank) return Math.min(valueOf(b), max) * scale;
      }
      return max * scale;
    };
    return { samples, p50: at(50), p95: at(95), p99: at(99), max: max * scale };
  }

  #advance(): void {
    const second = Math.floor(this.#now() / 1000);
    if (second <= this.#currentSecond) return;
    // Clear the slots of the seconds that passed with nothing recorded.
    const gap = Math.min(second - this.#currentSecond, WindowedHistogram.SLOTS);
    for (let i = 1; i <= gap; i++) {
      const slot = slotOf(this.#currentSecond + i);
      this.#counts.fill(0, slot * BINS, slot * BINS + BINS);
      this.#samples[slot] = 0;
      this.#max[slot] = 0;
    }
    this.#currentSecond = second;
  }
}
