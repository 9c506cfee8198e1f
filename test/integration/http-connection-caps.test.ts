/**
 * README, "Security", "HTTP limits": the plaintext HTTP listener caps its open
 * sockets per source address (and in all), as the HTTPS and MQTT listeners do: an
 * address that holds its share is reset at accept, counted, and another address is
 * served meanwhile.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { waitFor } from '../helpers/device.ts';

const t = useTestService({ env: { VITALINK_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '3' } });

function open(localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: t.ports.http!, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function refusals(): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(
    /^vitalink_listener_refusals_total\{listener="http",reason="max_connections_per_address"\} (\d+)$/m.exec(
      text,
    )?.[1] ?? 0,
  );
}

describe('the plaintext HTTP listener', () => {
  it('resets the sockets of an address beyond its share, and serves another address', async () => {
    const before = await refusals();
    const held = [await open('127.0.3.1'), await open('127.0.3.1'), await open('127.0.3.1')];
    try {
      // Reset at accept: during the connect, or right after it.
      const extra = await open('127.0.3.1').then(
        (socket) =>
          new Promise<string>((resolve) => {
            socket.once('close', () => resolve('closed'));
            socket.once('error', () => {});
            socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
          }),
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      );
      expect(['closed', 'ECONNRESET']).toContain(extra);
      await waitFor(async () => (await refusals()) === before + 1, 'the refusal counted');
      // Another address (this test's own fetch, from 127.0.0.1) is served.
      expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      for (const s of held) s.destroy();
    }
    // Its sockets closed, the address is served again.
    await waitFor(async () => {
      const again = await open('127.0.3.1').catch(() => undefined);
      if (!again) return false;
      const answered = await new Promise<boolean>((resolve) => {
        again.once('data', () => resolve(true));
        again.once('close', () => resolve(false));
        again.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      again.destroy();
      return answered;
    }, 'the address served again');
  });
});
