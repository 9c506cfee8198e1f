import { parseBenchArgs, runBench } from '../../simulators/bench/bench.ts';
import type { Config } from '../config.ts';
import { UsageError } from './output.ts';

/**
 * `vitalink bench [--devices N] [--duration S] [--readings-per-message K] [--rate R]
 * [--inflight W] [--connections-only N] [--mosquitto URL] [--json]`: the load
 * benchmark on the configured database (a scratch database on DATABASE_URL's
 * server, else a temporary embedded PostgreSQL). Exit code 1 when a reading was
 * lost or stored twice.
 */
export async function bench(config: Config, args: string[]): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>;
  try {
    options = parseBenchArgs(args);
  } catch (error) {
    throw new UsageError(`bench: ${(error as Error).message}`);
  }
  const result = await runBench(
    { ...options, databaseUrl: config.databaseUrl },
    {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    },
  );
  return result.lost > 0 || result.duplicatesStored > 0 ? 1 : 0;
}
