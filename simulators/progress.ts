/**
 * The progress of `vitalink simulate`: a block of lines redrawn in place on a
 * terminal, one plain line a second otherwise (a log, a pipe, CI).
 */

export interface ProgressFigures {
  readonly mode: 'backfill' | 'live';
  readonly elapsedS: number;
  /** 0..1: readings acked of those planned (backfill), wall time of the duration (live). */
  readonly done: number;
  readonly devices: number;
  readonly connected: number;
  readonly planned: number;
  readonly published: number;
  readonly acked: number;
  readonly sentPerS: number;
  readonly ackedPerS: number;
  readonly inFlight: number;
  readonly resent: number;
  readonly reconnects: number;
  /** Rejection messages received from the service, by reason. */
  readonly rejections: Readonly<Record<string, number>>;
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');

function rejectionText(rejections: Readonly<Record<string, number>>): string {
  const entries = Object.entries(rejections).filter(([, c]) => c > 0);
  if (entries.length === 0) return '0';
  const total = entries.reduce((a, [, c]) => a + c, 0);
  const detail = entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, c]) => `${reason} ${n(c)}`)
    .join(', ');
  return `${n(total)} (${detail})`;
}

/** A bar of `width` cells, filled to `fraction`. */
export function progressBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** The block shown on a terminal. */
export function progressLines(p: ProgressFigures): string[] {
  const pct = `${Math.floor(Math.min(1, Math.max(0, p.done)) * 100)} %`.padStart(5);
  return [
    `simulate ${p.mode}  ${p.elapsedS.toFixed(0)} s  devices ${p.connected}/${p.devices} connected`,
    `  ${progressBar(p.done)} ${pct}  acked ${n(p.acked)} of ${n(p.planned)} readings`,
    `  sent ${n(p.sentPerS)}/s  acked ${n(p.ackedPerS)}/s  in flight ${n(p.inFlight)}  resent ${n(p.resent)}  reconnects ${n(p.reconnects)}`,
    `  rejections ${rejectionText(p.rejections)}`,
  ];
}

/** The line written each second when the output is not a terminal. */
export function progressLine(p: ProgressFigures): string {
  return (
    `simulate: ${p.elapsedS.toFixed(0)} s, devices ${p.connected}/${p.devices} connected, ` +
    `sent ${Math.round(p.sentPerS)}/s, acked ${Math.round(p.ackedPerS)}/s, ` +
    `rejections ${rejectionText(p.rejections)} (total: sent ${p.published}, acked ${p.acked} of ${p.planned})`
  );
}

export interface TerminalStream {
  write(text: string): unknown;
  readonly columns?: number;
}

/**
 * Redraws a block of lines in place with ANSI escapes: back to the block's first
 * line, each line cleared and written again, anything below cleared. Lines are cut
 * to the terminal's width so that none wraps (a wrapped line would break the count).
 */
export class TerminalBlock {
  readonly #stream: TerminalStream;
  #height = 0;

  constructor(stream: TerminalStream) {
    this.#stream = stream;
  }

  render(lines: readonly string[]): void {
    const width = Math.max(20, (this.#stream.columns ?? 100) - 1);
    let out = this.#height > 0 ? `\x1b[${this.#height}F` : '';
    for (const line of lines) out += `\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}\n`;
    out += '\x1b[J';
    this.#stream.write(out);
    this.#height = lines.length;
  }

  /** Leaves the last block on screen; what is written next starts below it. */
  done(): void {
    this.#height = 0;
  }
}
