import { describe, expect, it } from 'vitest';
import {
  type ProgressFigures,
  progressBar,
  progressLine,
  progressLines,
  TerminalBlock,
} from '../../../simulators/progress.ts';

const figures: ProgressFigures = {
  mode: 'backfill',
  elapsedS: 12.4,
  done: 0.5,
  devices: 12,
  connected: 11,
  planned: 20_000,
  published: 11_000,
  acked: 10_000,
  sentPerS: 1234.4,
  ackedPerS: 1200,
  inFlight: 48,
  resent: 3,
  reconnects: 1,
  rejections: { unit: 7, out_of_range: 5, future: 0 },
};

describe('progress figures', () => {
  it('draws a bar filled to the fraction, clamped to 0..1', () => {
    expect(progressBar(0.5, 10)).toBe('[#####-----]');
    expect(progressBar(0, 4)).toBe('[----]');
    expect(progressBar(1.7, 4)).toBe('[####]');
    expect(progressBar(Number.NaN, 4)).toBe('[----]');
  });

  it('shows devices, progress, rates and rejections by reason on a terminal', () => {
    const lines = progressLines(figures);
    expect(lines[0]).toBe('simulate backfill  12 s  devices 11/12 connected');
    expect(lines[1]).toContain('50 %');
    expect(lines[1]).toContain('acked 10,000 of 20,000 readings');
    expect(lines[2]).toBe('  sent 1,234/s  acked 1,200/s  in flight 48  resent 3  reconnects 1');
    expect(lines[3]).toBe('  rejections 12 (out_of_range 5, unit 7)');
  });

  it('says the same in one plain line for logs', () => {
    expect(progressLine(figures)).toBe(
      'simulate: 12 s, devices 11/12 connected, sent 1234/s, acked 1200/s, ' +
        'rejections 12 (out_of_range 5, unit 7) (total: sent 11000, acked 10000 of 20000)',
    );
    expect(progressLine({ ...figures, rejections: {} })).toContain('rejections 0 (total');
  });
});

describe('TerminalBlock', () => {
  it('redraws the block in place: back up its height, clear each line, clear below', () => {
    const writes: string[] = [];
    const block = new TerminalBlock({ write: (t: string) => writes.push(t), columns: 80 });
    block.render(['one', 'two']);
    block.render(['three']);
    expect(writes[0]).toBe('\x1b[2Kone\n\x1b[2Ktwo\n\x1b[J');
    expect(writes[1]).toBe('\x1b[2F\x1b[2Kthree\n\x1b[J');
    block.done();
    block.render(['after']);
    expect(writes[2]).toBe('\x1b[2Kafter\n\x1b[J');
  });

  it('cuts lines to the terminal width so that none wraps', () => {
    const writes: string[] = [];
    const block = new TerminalBlock({ write: (t: string) => writes.push(t), columns: 30 });
    block.render(['x'.repeat(100)]);
    const line = writes[0].slice('\x1b[2K'.length, writes[0].indexOf('\n'));
    expect(line.length).toBe(29);
    expect(line.endsWith('…')).toBe(true);
  });
});
