// A development tool: loaded only for `vitalink simulate`, so the service never loads simulators/.
import { faultOptionName, FAULT_KINDS } from '../../simulators/fleet/faults.ts';
import { parseSimulateArgs, personaName, runSimulate } from '../../simulators/fleet/simulate.ts';
import { PERSONAS } from '../../simulators/personas/index.ts';
import { TerminalBlock } from '../../simulators/progress.ts';
import { loadConfig } from '../config.ts';
import { startEmbeddedPostgres } from '../database-server/embedded-postgres.ts';
import { createLogger } from '../logger.ts';
import { type Command, formatHelp } from './command.ts';
import { UsageError } from './output.ts';
import { openProvisioner } from './provisioner.ts';

const SUMMARY = 'device simulators against a running service (development tool)';

/**
 * `vitalink simulate`: simulated patients' devices, provisioned in the service's
 * database, publishing to its broker. Exit code 1 unless every message was
 * acknowledged, every announced rejection came back, and the database holds what
 * the broker acknowledged (else the broker is not this database's Vitalink).
 */
export const simulate: Command = {
  name: 'simulate',
  summary: SUMMARY,
  help() {
    const width = Math.max(...PERSONAS.map((p) => personaName(p.key).length));
    return formatHelp({
      name: 'simulate',
      summary: SUMMARY,
      options: {
        url: { type: 'string', value: 'mqtt://HOST:PORT', required: true, description: "the service's MQTT broker" },
        'database-url': {
          type: 'string',
          value: 'URL',
          description:
            "the service's database, where the devices are provisioned (default DATABASE_URL, else the embedded one)",
        },
        persona: { type: 'string', value: 'NAME,...|all', description: 'which personas (default all)' },
        patients: {
          type: 'string',
          value: 'N',
          description: `patients per persona (default 1): --persona all --patients 2 makes ${PERSONAS.length * 2}`,
        },
        seed: { type: 'string', value: 'S', description: 'same seed, same readings (default 1)' },
        days: { type: 'string', value: 'D', description: 'backfill: upload the last D days of history (default 14)' },
        speed: { type: 'string', value: 'X', description: 'live: simulated seconds per wall second' },
        duration: { type: 'string', value: 'S', description: 'live: wall seconds to run (default 10)' },
        'batch-size': { type: 'string', value: 'N', description: 'readings per message, at most 1000' },
        'time-zone': { type: 'string', value: 'ZONE', description: "the patients' time zone" },
        prefix: {
          type: 'string',
          value: 'TEXT',
          description: 'prefix of patient and device ids (default sim-<random>)',
        },
        ...Object.fromEntries(
          FAULT_KINDS.map((kind) => [
            faultOptionName(kind),
            { type: 'string' as const, value: 'RATE', description: `inject the ${kind} fault at this rate, 0..1` },
          ]),
        ),
        token: {
          type: 'boolean',
          description: 'also create and print a clinician API token that reads the patients created',
        },
        json: { type: 'boolean', description: 'also print the summary as one JSON object, last line of stdout' },
      },
      notes: [
        'Personas:',
        ...PERSONAS.map((p) => `  ${personaName(p.key).padEnd(width)}  ${p.description}`),
        '',
        `Fault kinds: ${FAULT_KINDS.join(', ')}.`,
      ].join('\n'),
    });
  },
  async run(args) {
    let options: ReturnType<typeof parseSimulateArgs>;
    try {
      options = parseSimulateArgs(args);
    } catch (error) {
      throw new UsageError(`simulate: ${(error as Error).message}`);
    }
    const config = loadConfig();
    // Devices are provisioned in the service's database: DATABASE_URL, or the embedded one of VITALINK_DATA_DIR.
    const log = createLogger('warn', process.stderr);
    let databaseUrl = options.databaseUrl ?? config.databaseUrl;
    const embedded = databaseUrl
      ? undefined
      : await startEmbeddedPostgres(config.dataDir, log, config.embeddedPlacement);
    databaseUrl ??= embedded!.url;
    // On a terminal, the progress is a block redrawn in place; otherwise a line a second.
    const status = process.stderr.isTTY ? new TerminalBlock(process.stderr) : undefined;
    try {
      const provisioner = await openProvisioner(databaseUrl, createLogger('silent'), {
        secretKeys: config.secretKeys,
        tokenTtlDays: config.tokenTtlDays,
      });
      try {
        const summary = await runSimulate(
          { ...options, databaseUrl },
          {
            out: (line) => process.stdout.write(`${line}\n`),
            err: (line) => process.stderr.write(`${line}\n`),
            ...(status ? { status: (lines: string[]) => status.render(lines) } : {}),
          },
          provisioner,
        );
        return summary.ok ? 0 : 1;
      } finally {
        await provisioner.close();
      }
    } finally {
      await embedded?.stop();
    }
  },
};
