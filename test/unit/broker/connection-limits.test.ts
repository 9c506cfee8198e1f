import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionLimits, type ListenerRefusalReason } from '../../../src/broker/connection-limits.ts';

/** The caps on real loopback sockets: 127.0.0.2 and up stand for other source addresses. */
describe('ConnectionLimits', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function server(maxConnections: number, maxPerAddress: number) {
    const refused: ListenerRefusalReason[] = [];
    const counts: number[] = [];
    const limits = new ConnectionLimits(
      { maxConnections, maxPerAddress },
      { refused: (_l, reason) => refused.push(reason), counted: (_l, n) => counts.push(n) },
    );
    const accepted: net.Socket[] = [];
    const srv = net.createServer((s) => {
      if (limits.admit('mqtt', s)) accepted.push(s);
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as net.AddressInfo;
    const clients: net.Socket[] = [];
    const connect = async (localAddress: string) => {
      const c = net.connect({ port, host: '127.0.0.1', localAddress });
      c.on('error', () => {});
      c.resume();
      clients.push(c);
      // A refused socket may be reset before or after its client sees it connected.
      await new Promise<void>((resolve) => {
        c.once('connect', () => resolve());
        c.once('close', () => resolve());
      });
      return c;
    };
    cleanups.push(() => {
      for (const c of clients) c.destroy();
      srv.close();
    });
    return { limits, refused, counts, accepted, connect };
  }

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };

  it('refuses beyond the global cap, whatever the address, and admits again once one closes', async () => {
    const { limits, refused, accepted, connect } = await server(3, 10);
    await connect('127.0.0.2');
    await connect('127.0.0.3');
    await connect('127.0.0.4');
    await until(() => limits.open() === 3);
    const fourth = await connect('127.0.0.5');
    await until(() => fourth.destroyed);
    expect(refused).toEqual(['max_connections']);
    accepted[0].destroy();
    await until(() => limits.open() === 2);
    await connect('127.0.0.5');
    await until(() => limits.open() === 3);
    expect(refused).toEqual(['max_connections']);
  });

  it('refuses beyond the per-address cap, and forgets an address once its sockets are closed', async () => {
    const { limits, refused, accepted, connect } = await server(100, 2);
    await connect('127.0.0.6');
    await connect('127.0.0.6');
    await until(() => limits.open() === 2);
    const third = await connect('127.0.0.6');
    await until(() => third.destroyed);
    expect(refused).toEqual(['max_connections_per_address']);
    await connect('127.0.0.7');
    await until(() => limits.open('mqtt') === 3 && limits.addresses === 2);
    for (const s of accepted) s.destroy();
    await until(() => limits.open() === 0 && limits.addresses === 0);
  });
});
