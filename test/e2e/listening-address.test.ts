/**
 * README, "Security", "Listening on a network": `vitalink serve` refuses to open its
 * plaintext listeners on a non-loopback HOST unless VITALINK_ALLOW_PLAINTEXT_PUBLIC=1
 * says so. The accepted case listens on 0.0.0.0 on ephemeral ports, briefly, and is
 * reached over loopback only.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../fixture.ts';
import { startService } from '../helpers/service.ts';

const database = useTestDatabase();

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
