import { parseArgs } from 'node:util';
import {
  devicesAdd,
  devicesAssign,
  migrate,
  patientsAdd,
  rejectionsReprocess,
  tokensCreate,
} from './cli/admin-commands.ts';
import { createOutput, UsageError } from './cli/output.ts';
import { bench } from './cli/bench.ts';
import { serve } from './cli/serve.ts';
import { simulate } from './cli/simulate.ts';
import { ConfigError, loadConfig } from './config.ts';
import { AppError } from './errors.ts';
import { createLogger } from './logger.ts';

const USAGE = `vitalink: remote patient monitoring ingestion service

Usage:
  vitalink serve                                   broker + ingestion + HTTP, until SIGINT/SIGTERM
  vitalink migrate                                 apply pending database migrations
  vitalink patients add --id ID [--tz ZONE] [--name NAME]
  vitalink devices add --id ID [--patient ID] [--model TEXT]      prints the device secret once
  vitalink devices assign --id ID --patient ID [--from TIME] [--to TIME]
  vitalink rejections reprocess [--reason REASON] [--device ID]
  vitalink simulate --url mqtt://HOST:PORT [--persona NAME|all] [--patients N] [--seed S]
                 [--days D | --speed X --duration S] [--fault-<kind> RATE ...] [--json]   device simulators
  vitalink bench [--devices N] [--duration S] [--readings-per-message K] [--rate R] [--inflight W]
                 [--connections-only N] [--mosquitto URL] [--json]          the load benchmark
  vitalink tokens create --role admin|operator|clinician [--patients ID,...] [--name LABEL]   prints the token once

Options:
  --json      print the result as one JSON object
  --help      this text

Times are RFC 3339 with an offset (2026-11-22T08:00:00+01:00) or epoch milliseconds.
Configuration comes from the environment (DATABASE_URL, VITALINK_DATA_DIR, MQTT_PORT,
HTTP_PORT, ...): see the README.`;

const OPTIONS = {
  id: { type: 'string' },
  tz: { type: 'string' },
  name: { type: 'string' },
  patient: { type: 'string' },
  model: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  reason: { type: 'string' },
  device: { type: 'string' },
  role: { type: 'string' },
  patients: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function main(argv: string[]): Promise<number> {
  // `bench` and `simulate` have options of their own (simulators/).
  if ((argv[0] === 'bench' || argv[0] === 'simulate') && !argv.includes('--help')) {
    return runOwnOptionsCommand(argv[0], argv.slice(1));
  }
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`vitalink: ${(error as Error).message}\nRun \`vitalink --help\` for the commands.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals.join(' ');
  if (values.help || command === '' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return values.help || command === 'help' ? 0 : 2;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`vitalink: ${error.message}\nFix these environment variables and try again.\n`);
      return 2;
    }
    throw error;
  }

  const out = createOutput(values.json === true);
  try {
    if (command === 'serve') {
      return await serve(config, createLogger(config.logLevel));
    }
    // Other commands keep stdout for their result: their logs go to stderr, warnings only.
    const log = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
    switch (command) {
      case 'migrate':
        await migrate(config, log, out);
        return 0;
      case 'patients add':
        await patientsAdd(config, log, out, values);
        return 0;
      case 'devices add':
        await devicesAdd(config, log, out, values);
        return 0;
      case 'devices assign':
        await devicesAssign(config, log, out, values);
        return 0;
      case 'rejections reprocess':
        await rejectionsReprocess(config, log, out, values);
        return 0;
      case 'tokens create':
        await tokensCreate(config, log, out, values);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`vitalink: ${error.message}\nRun \`vitalink --help\` for the commands.\n`);
      return 2;
    }
    if (error instanceof AppError) {
      process.stderr.write(`vitalink: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`vitalink: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function runOwnOptionsCommand(command: 'bench' | 'simulate', args: string[]): Promise<number> {
  try {
    return await (command === 'bench' ? bench : simulate)(loadConfig(), args);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`vitalink: ${error.message}\nRun \`vitalink --help\` for the commands.\n`);
      return 2;
    }
    process.stderr.write(`vitalink: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vitalink: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
