import { parseArgs } from 'node:util';
import { UsageError } from './output.ts';

/**
 * One `vitalink` command: what `vitalink <name> --help` prints and what it runs.
 * src/main.ts loads a command's module only when that command is asked for, and a
 * command imports what it runs with (actions, the database, the service) inside
 * run(), so that its --help loads nothing but its declaration.
 */
export interface Command {
  /** The command words, e.g. `devices add`. */
  readonly name: string;
  /** One line, as `vitalink --help` lists it. */
  readonly summary: string;
  /** Usage and options of this command only. */
  help(): string | Promise<string>;
  /** Runs with the arguments after the command words; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  /** The value's placeholder in the usage line (`--id ID`). */
  readonly value?: string;
  readonly required?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: O[K]['required'] extends true
    ? string
    : (O[K]['type'] extends 'string' ? string : boolean) | undefined;
};

export const JSON_OPTION = { type: 'boolean', description: 'print the result as one JSON object' } as const;

/** The usage line and the option table of a command, for its --help. */
export function formatHelp(spec: { name: string; summary: string; options: OptionSpecs; notes?: string }): string {
  const flag = (name: string, o: OptionSpec) => `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
  const entries = Object.entries(spec.options);
  // The usage line, wrapped under the command's name.
  const words = entries.map(([name, o]) => (o.required ? flag(name, o) : `[${flag(name, o)}]`));
  const indent = ' '.repeat(`  vitalink ${spec.name} `.length);
  const usage: string[] = [`  vitalink ${spec.name}`];
  for (const word of words) {
    if (usage.at(-1)!.length + 1 + word.length > 100 && usage.at(-1)!.trim().length > 0) usage.push(indent + word);
    else usage[usage.length - 1] += ` ${word}`;
  }
  const rows: [string, string][] = [
    ...entries.map(([name, o]): [string, string] => [flag(name, o), o.description]),
    ['-h, --help', 'this text'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `vitalink ${spec.name}: ${spec.summary}`,
    '',
    'Usage:',
    ...usage,
    '',
    'Options:',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    ...(spec.notes ? ['', spec.notes] : []),
  ].join('\n');
}

/** A command whose options are declared here: parsed strictly, required ones checked, help generated. */
export function defineCommand<O extends OptionSpecs>(spec: {
  name: string;
  summary: string;
  options: O;
  notes?: string;
  run(values: OptionValues<O>): Promise<number | void>;
}): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: () => formatHelp(spec),
    async run(args) {
      let values: Record<string, string | boolean | undefined>;
      try {
        const options = Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type }]));
        values = parseArgs({ args, options, allowPositionals: false, strict: true }).values;
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      for (const [name, o] of Object.entries(spec.options)) {
        const v = values[name];
        if (o.required && (typeof v !== 'string' || v.length === 0)) {
          throw new UsageError(`${spec.name} needs --${name}`);
        }
      }
      return (await spec.run(values as OptionValues<O>)) ?? 0;
    },
  };
}
