import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { defineCommand } from './command.ts';

export const serve = defineCommand({
  name: 'serve',
  summary: 'broker + ingestion + aggregation jobs + HTTP API and dashboard, until SIGINT/SIGTERM',
  options: {},
  notes:
    'SIGINT or SIGTERM drains (stop accepting, flush, acknowledge, close) and exits 0; a second signal exits at once.\n' +
    'Configuration comes from the environment (DATABASE_URL, VITALINK_DATA_DIR, MQTT_PORT,\n' +
    'HTTP_PORT, HOST, LOG_LEVEL, ...): see the README. Plaintext listeners on a HOST that is not\n' +
    'loopback need VITALINK_ALLOW_PLAINTEXT_PUBLIC=1; the TLS ones (MQTT_TLS_PORT, HTTPS_PORT) do not\n' +
    '(README, "Security", "Listening on a network").\n' +
    'Device secrets and API tokens are stored under VITALINK_SECRET_KEY (or VITALINK_SECRET_KEY_FILE), the same\n' +
    'for every instance and for the commands that make credentials (README, "Rotating the key").',
  // The service's modules (fastify, aedes, ...) load when it runs, not for --help.
  async run() {
    const [{ loadConfig }, { createLogger }] = await Promise.all([import('../config.ts'), import('../logger.ts')]);
    const config = loadConfig(process.env, { listening: true });
    return runService(config, createLogger(config.logLevel, undefined, { instance: config.instanceId }));
  },
});

/**
 * `vitalink serve`: runs until SIGINT or SIGTERM, then drains (stop accepting,
 * flush, acknowledge, close) and exits 0; exits 1 if the drain timed out. A
 * second signal exits at once.
 */
async function runService(config: Config, log: Logger): Promise<number> {
  const { createApp } = await import('../app.ts');
  const app = createApp(config, log);
  let stopping: Promise<{ drained: boolean }> | undefined;
  let resolveExit: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal, exiting without waiting for the drain');
      process.exit(1);
    }
    log.info({ signal }, 'signal received, draining');
    stopping = app.stop();
    stopping.then(
      ({ drained }) => resolveExit(drained ? 0 : 1),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        resolveExit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await app.start();
  } catch (error) {
    await app.stop().catch(() => {});
    throw error;
  }
  return exit;
}
