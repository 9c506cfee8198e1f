// A development tool: loaded only for `vitalink bench`, so the service never loads simulators/.
import { type BenchProduct, parseBenchArgs, runBench } from '../../simulators/bench/bench.ts';
import { embeddedPlacementOf, loadConfig, readSecretKeys } from '../config.ts';
import { startEmbeddedPostgres } from '../database-server/embedded-postgres.ts';
import { createLogger, type Logger } from '../logger.ts';
import { type Command, formatHelp, type OptionSpecs } from './command.ts';
import { UsageError } from './output.ts';
import { openProvisioner } from './provisioner.ts';

const SUMMARY = 'the load benchmark (development tool)';

const OPTIONS = {
  devices: { type: 'string', value: 'N', description: 'devices driven, each with its patient (default 20)' },
  duration: { type: 'string', value: 'S', description: 'seconds of drive (default 10)' },
  'readings-per-message': { type: 'string', value: 'K', description: 'readings per MQTT message (default 1)' },
  rate: { type: 'string', value: 'R', description: 'open loop: readings per second in total (default: closed loop)' },
  inflight: {
    type: 'string',
    value: 'W',
    description: 'closed loop: QoS 1 messages outstanding per device (default 16)',
  },
  'connections-only': {
    type: 'string',
    value: 'N',
    description: 'also connect N idle devices, report RSS per connection',
  },
  mosquitto: {
    type: 'string',
    value: 'URL',
    description: 'also drive this broker (e.g. a Mosquitto) as a peer figure',
  },
  json: { type: 'boolean', description: 'also print the result as one JSON object, last line of stdout' },
} satisfies OptionSpecs;

/** The product's side of the bench: migrated provisioning, and the embedded PostgreSQL. */
export function createBenchProduct(log: Logger): BenchProduct {
  return {
    openProvisioner: (databaseUrl) =>
      openProvisioner(databaseUrl, log, { migrate: true, secretKeys: readSecretKeys(process.env).keys }),
    startDatabaseServer: (dataDir) =>
      startEmbeddedPostgres(dataDir, log, { ...embeddedPlacementOf(process.env), relocatable: false }),
  };
}

/**
 * `vitalink bench`: the load benchmark on the configured database (a scratch
 * database on DATABASE_URL's server, else a temporary embedded PostgreSQL). Exit
 * code 1 when a reading was lost or stored twice.
 */
export const bench: Command = {
  name: 'bench',
  summary: SUMMARY,
  help: () =>
    formatHelp({
      name: 'bench',
      summary: SUMMARY,
      options: OPTIONS,
      notes: 'With DATABASE_URL, a scratch database on that server (dropped at the end); else an embedded PostgreSQL.',
    }),
  async run(args) {
    let options: ReturnType<typeof parseBenchArgs>;
    try {
      options = parseBenchArgs(args);
    } catch (error) {
      throw new UsageError(`bench: ${(error as Error).message}`);
    }
    const config = loadConfig();
    const result = await runBench(
      { ...options, databaseUrl: config.databaseUrl },
      {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      },
      createBenchProduct(createLogger('warn', process.stderr)),
    );
    return result.lost > 0 || result.duplicatesStored > 0 ? 1 : 0;
  },
};
