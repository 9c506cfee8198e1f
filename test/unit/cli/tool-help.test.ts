/**
 * The help of `vitalink simulate` and `vitalink bench` is written in src/cli while
 * their parsers live in simulators/: every option a help shows must parse.
 */
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../simulators/bench/bench.ts';
import { parseSimulateArgs } from '../../../simulators/fleet/simulate.ts';
import { bench } from '../../../src/cli/bench.command.ts';
import type { Command } from '../../../src/cli/command.ts';
import { simulate } from '../../../src/cli/simulate.command.ts';

/** `--name VALUE` or `--name` flags of the option table, help aside. */
async function shownOptions(command: Command): Promise<{ name: string; takesValue: boolean }[]> {
  const text = await command.help();
  const table = text.slice(text.indexOf('Options:'));
  return [...table.matchAll(/^ {2}--([a-z-]+)( \S+)?/gm)]
    .map((m) => ({ name: m[1], takesValue: m[2] !== undefined }))
    .filter((o) => o.name !== 'help');
}

const args = (options: { name: string; takesValue: boolean }[]) =>
  options.flatMap((o) => (o.takesValue ? [`--${o.name}`, '1'] : [`--${o.name}`]));

describe('tool help and parsers agree', () => {
  it('bench: every option shown parses; parsing stays strict', async () => {
    const options = await shownOptions(bench);
    expect(options.length).toBeGreaterThan(5);
    expect(() => parseBenchArgs(args(options))).not.toThrow();
    expect(() => parseBenchArgs(['--not-shown'])).toThrow();
  });

  it('simulate: every option shown parses; parsing stays strict', async () => {
    const options = await shownOptions(simulate);
    expect(options.length).toBeGreaterThan(10);
    expect(() => parseSimulateArgs(args(options))).not.toThrow();
    expect(() => parseSimulateArgs(['--url', 'mqtt://127.0.0.1:1', '--not-shown'])).toThrow();
  });
});
