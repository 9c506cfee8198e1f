import { parseSimulateArgs, runSimulate } from '../../simulators/fleet/simulate.ts';
import { TerminalBlock } from '../../simulators/progress.ts';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { startEmbeddedPostgres } from '../database-server/embedded-postgres.ts';
import { UsageError } from './output.ts';

/**
 * `vitalink simulate --url mqtt://HOST:PORT [--persona NAME|all] [--patients N]
 * [--seed S] [--days D | --speed X --duration S] [--fault-... RATE] [--json]`:
 * simulated patients' devices, provisioned in the service's database, publishing
 * to its broker. Exit code 1 unless every message was acknowledged and every
 * announced rejection came back.
 */
export async function simulate(config: Config, args: string[]): Promise<number> {
  let options: ReturnType<typeof parseSimulateArgs>;
  try {
    options = parseSimulateArgs(args);
  } catch (error) {
    throw new UsageError(`simulate: ${(error as Error).message}`);
  }
  // Devices are provisioned in the service's database: DATABASE_URL, or the embedded one of VITALINK_DATA_DIR.
  let databaseUrl = options.databaseUrl ?? config.databaseUrl;
  const embedded = databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, createLogger('warn', process.stderr));
  databaseUrl ??= embedded?.url;
  // On a terminal, the progress is a block redrawn in place; otherwise a line a second.
  const status = process.stderr.isTTY ? new TerminalBlock(process.stderr) : undefined;
  try {
    const summary = await runSimulate(
      { ...options, databaseUrl },
      {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        ...(status ? { status: (lines: string[]) => status.render(lines) } : {}),
      },
    );
    return summary.ok ? 0 : 1;
  } finally {
    await embedded?.stop();
  }
}
