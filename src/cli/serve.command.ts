import { createApp } from '../app.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * `vitalink serve`: runs until SIGINT or SIGTERM, then drains (stop accepting,
 * flush, acknowledge, close) and exits 0; exits 1 if the drain timed out. A
 * second signal exits at once.
 */
export async function serve(config: Config, log: Logger): Promise<number> {
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
