/**
 * README, "Security", "Listening on a network": `vitalink serve` refuses to open its
 * plaintext listeners on a non-loopback HOST unless VITALINK_ALLOW_PLAINTEXT_PUBLIC=1
 * says so. The accepted case listens on 0.0.0.0 on ephemeral ports, briefly, and is
 * reached over loopback only.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../fixture.ts';
import { ROOT, startService } from '../helpers/service.ts';
import { createApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';

const database = useTestDatabase();

/** The Dockerfile's `ENV` variables and its HEALTHCHECK command (the image cannot be built here: no Docker engine). */
function imageSettings(): { env: Record<string, string>; healthcheck: string[] } {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, '');
  const env: Record<string, string> = {};
  for (const [, line] of dockerfile.matchAll(/^ENV (.+)$/gm)) {
    for (const [, name, value] of line!.matchAll(/(\w+)=(\S+)/g)) env[name!] = value!;
  }
  const healthcheck = /^HEALTHCHECK .*? CMD (\[.*\])$/m.exec(dockerfile);
  if (!healthcheck) throw new Error('the Dockerfile has no HEALTHCHECK in exec form');
  return { env, healthcheck: JSON.parse(healthcheck[1]!) as string[] };
}

describe('vitalink serve on a network address', () => {
  it(
    'exits 2 without VITALINK_ALLOW_PLAINTEXT_PUBLIC=1, saying what went wrong and what to do',
    { timeout: 60_000 },
    async () => {
      const started = startService({ DATABASE_URL: database.url, HOST: '0.0.0.0' }, 30_000);
      const error: Error = await started.then(
        () => {
          throw new Error('the service started on 0.0.0.0 without the statement');
        },
        (e: Error) => e,
      );
      expect(error.message).toMatch(/exited with code 2 before starting/);
      expect(error.message).toContain(
        'HOST: the plaintext listeners MQTT_PORT (0), HTTP_PORT (0) would listen on 0.0.0.0, which is not a loopback address',
      );
      expect(error.message).toContain('Set HOST=127.0.0.1');
      expect(error.message).toContain('VITALINK_ALLOW_PLAINTEXT_PUBLIC=1');
      expect(error.message).toContain('Fix these environment variables and try again.');
    },
  );

  it('starts on 0.0.0.0 with VITALINK_ALLOW_PLAINTEXT_PUBLIC=1, and stops cleanly', { timeout: 90_000 }, async () => {
    const service = await startService(
      { DATABASE_URL: database.url, HOST: '0.0.0.0', VITALINK_ALLOW_PLAINTEXT_PUBLIC: '1' },
      30_000,
    );
    try {
      const listening = service.logs.filter((l) => l.msg === 'listening');
      expect(listening.map((l) => l.listener).sort()).toEqual(['http', 'mqtt']);
      for (const line of listening) expect(line.host).toBe('0.0.0.0');
      const health = await fetch(`http://127.0.0.1:${service.ports.http}/healthz`, {
        signal: AbortSignal.timeout(10_000),
      });
      expect(health.status).toBe(200);
    } finally {
      expect(await service.stop(30_000)).toBe(0);
    }
  });
});

describe('vitalink serve with TLS listeners only', () => {
  it('starts on 0.0.0.0 without the statement when MQTT_PORT and HTTP_PORT are off', { timeout: 90_000 }, async () => {
    const tlsDir = path.join(ROOT, 'test/fixtures/tls');
    const service = await startService(
      {
        DATABASE_URL: database.url,
        HOST: '0.0.0.0',
        MQTT_PORT: 'off',
        HTTP_PORT: 'off',
        MQTT_TLS_PORT: '0',
        HTTPS_PORT: '0',
        TLS_CERT_FILE: path.join(tlsDir, 'cert.pem'),
        TLS_KEY_FILE: path.join(tlsDir, 'key.pem'),
      },
      30_000,
    );
    try {
      const listening = service.logs.filter((l) => l.msg === 'listening');
      expect(listening.map((l) => l.listener).sort()).toEqual(['https', 'mqtts']);
      for (const line of listening) expect(line.host).toBe('0.0.0.0');
      expect(Object.keys(service.ports).sort()).toEqual(['https', 'mqtts']);
      const status = await new Promise<number | undefined>((resolve, reject) => {
        https
          .get(
            {
              host: '127.0.0.1',
              port: service.ports.https,
              path: '/readyz',
              servername: 'localhost',
              ca: readFileSync(path.join(tlsDir, 'cert.pem')),
              agent: false,
            },
            (res) => {
              res.resume();
              resolve(res.statusCode);
            },
          )
          .on('error', reject);
      });
      expect(status).toBe(200);
    } finally {
      expect(await service.stop(30_000)).toBe(0);
    }
  });
});

describe('createApp', () => {
  it('refuses the same configuration when given it directly, before opening the database', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, HOST: '0.0.0.0', MQTT_PORT: '0', HTTP_PORT: '0' });
    const app = createApp(config, createLogger('silent'));
    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await app.stop();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]).toMatch(
      /^HOST: the plaintext listeners MQTT_PORT \(0\), HTTP_PORT \(0\) would listen on 0\.0\.0\.0/,
    );
  });
});

describe('the image (Dockerfile)', () => {
  it(
    'states the plaintext listeners on 0.0.0.0, and its HEALTHCHECK passes on a ready service and fails on a closed port',
    { timeout: 90_000 },
    async () => {
      const { env, healthcheck } = imageSettings();
      expect(env).toMatchObject({ HOST: '0.0.0.0', VITALINK_ALLOW_PLAINTEXT_PUBLIC: '1' });
      expect(healthcheck[0]).toBe('node');
      const run = (httpPort: number) =>
        promisify(execFile)(process.execPath, healthcheck.slice(1), {
          env: { ...process.env, HTTP_PORT: String(httpPort) },
          timeout: 20_000,
        }).then(
          () => 0,
          (error: { code?: number }) => error.code ?? -1,
        );
      const service = await startService({ DATABASE_URL: database.url, NODE_ENV: 'production', ...env }, 30_000);
      const port = service.ports.http;
      try {
        expect(await run(port)).toBe(0);
      } finally {
        expect(await service.stop(30_000)).toBe(0);
      }
      expect(await run(port)).toBe(1);
    },
  );
});
