import net from 'node:net';

/**
 * A TCP proxy a test controls, to make PostgreSQL unreachable for the service
 * without touching the machine's shared server: `cut()` drops every connection
 * and refuses new ones until `restore()`.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  #server: net.Server;
  #sockets = new Set<net.Socket>();
  #cut = false;
  port = 0;

  constructor(targetHost: string, targetPort: number) {
    this.#target = { host: targetHost, port: targetPort };
    this.#server = net.createServer((client) => {
      if (this.#cut) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.#target.port, this.#target.host);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The same connection string, through this proxy. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }
}

/**
 * The service's database reached only through a TcpProxy the test controls:
 * `useTestService({ env: behind.env, afterStop: behind.afterStop })`, then
 * `behind.proxy.cut()` / `restore()`.
 */
export function databaseBehindProxy() {
  let proxy: TcpProxy | undefined;
  return {
    get proxy(): TcpProxy {
      if (!proxy) throw new Error('the proxy starts with the service (useTestService env)');
      return proxy;
    },
    env: async (database: { readonly url: string }): Promise<Record<string, string>> => {
      const u = new URL(database.url);
      proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
      await proxy.start();
      return { DATABASE_URL: proxy.rewrite(database.url) };
    },
    afterStop: async (): Promise<void> => {
      await proxy?.close();
    },
  };
}
