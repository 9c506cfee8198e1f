import { type App, createApp, type RunningPorts } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import type { TestDatabase } from './database.ts';

export interface TestApp {
  readonly app: App;
  readonly ports: RunningPorts;
  stop(): Promise<void>;
}

/**
 * The whole service in this process, on ephemeral ports, against a test database.
 * `logLines`: its log lines (info and above) are parsed into it, for tests that read them.
 */
export async function startTestApp(
  database: TestDatabase,
  env: Record<string, string> = {},
  logLines?: Record<string, unknown>[],
): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: database.url,
    MQTT_PORT: '0',
    HTTP_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Every test connects from 127.0.0.1 and many refuse credentials or reconnect on
    // purpose: the throttles (README, "Security") are off here unless a test sets
    // them (test/integration/connect-throttle.test.ts does, with small values).
    VITALINK_MQTT_AUTH_FAILURES_PER_ADDRESS: '1000000',
    VITALINK_MQTT_AUTH_FAILURES_PER_CLIENT: '1000000',
    VITALINK_MQTT_FLAPPING_MAX_CONNECTS: '1000000',
    ...env,
  });
  const fields = { instance: config.instanceId };
  const log = logLines
    ? createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line)) }, fields)
    : createLogger(config.logLevel, process.stderr, fields);
  const app = createApp(config, log);
  const ports = await app.start();
  let stopped = false;
  return {
    app,
    ports,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
    },
  };
}
