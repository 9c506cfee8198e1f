import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './service.ts';

/** The receiver's check of README, "Verifying a webhook", as a receiver would copy it. */
export type Verify = (
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  toleranceSeconds?: number,
  nowSeconds?: number,
) => unknown;

/**
 * The code sample of the README's "Verifying a webhook", run as it is written there
 * (copied to a .mjs file and imported), so that the documented check is the tested one.
 */
export async function readmeVerifier(): Promise<Verify> {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const match = /```js\n(\/\/ verify-vitalink-webhook\.mjs[\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no "verify-vitalink-webhook.mjs" code sample');
  const dir = mkdtempSync(path.join(tmpdir(), 'vitalink-readme-'));
  try {
    const file = path.join(dir, 'verify-vitalink-webhook.mjs');
    writeFileSync(file, match[1]!);
    const module = (await import(pathToFileURL(file).href)) as { verifyVitalinkWebhook: Verify };
    return module.verifyVitalinkWebhook;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ReceivedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The verified payload; undefined when the check refused it (the receiver answered 401). */
  payload: any;
  status: number;
}

/**
 * A real HTTP receiver of webhooks on a local port: it checks each request with the
 * README's code (the secret of the request's path), records it, and answers what the
 * test says (200 by default, 401 to a request that does not verify). It can be
 * stopped and started again on the same port (a receiver outage).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly secrets = new Map<string, string>();
  /** The status to answer a verified request of a path (default 200). */
  readonly statusOf = new Map<string, number>();
  #server: http.Server | undefined;
  #port = 0;
  readonly #verify: Verify;
  readonly #now: () => number;

  /** `now`: the clock the timestamps are checked against (the worker's). */
  constructor(verify: Verify, now: () => number) {
    this.#verify = verify;
    this.#now = now;
  }

  get port(): number {
    return this.#port;
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.#port}${pathname}`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const pathname = req.url ?? '/';
        let payload: unknown;
        try {
          payload = this.#verify(this.secrets.get(pathname) ?? '', req.headers, raw, 300, this.#now() / 1000);
        } catch {
          payload = undefined;
        }
        const status = payload === undefined ? 401 : (this.statusOf.get(pathname) ?? 200);
        this.received.push({ path: pathname, headers: req.headers, body: raw.toString('utf8'), payload, status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  of(pathname: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === pathname);
  }
}
