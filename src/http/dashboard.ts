/**
 * The dashboard (interfaces.md, "Outside /api/v1": `GET /`): the static files that
 * `npm run build` writes to dashboard/dist, served outside the /api/v1 auth hook.
 * The page itself is public; every figure on it comes from /api/v1 with the token
 * the user types in.
 *
 * - `GET /` (and `/index.html`): dashboard/dist/index.html, read at each request so a
 *   rebuild is picked up without a restart, `Cache-Control: no-cache`.
 * - `GET /assets/*`: the hashed bundles, cached for a year (`immutable`): a rebuild
 *   gives them new names.
 * - Every response carries a restrictive Content-Security-Policy: scripts, styles,
 *   images and connections from this origin only, no inline script, no framing.
 * - dist missing: `GET /` is a 503 with the sentence that says what to do.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const DASHBOARD_NOT_BUILT = 'the dashboard is not built: run npm run build';

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

/** Registers `GET /` and `/assets/*`; `distDir` is for tests. */
export function dashboardRoutes(distDir: string = DASHBOARD_DIST) {
  const dir = distDir.endsWith('/') ? distDir : `${distDir}/`;
  return async function dashboard(app: FastifyInstance): Promise<void> {
    const sendIndex = async (_request: unknown, reply: FastifyReply) => {
      let html: Buffer;
      try {
        html = await readFile(`${dir}index.html`);
      } catch {
        return reply
          .status(503)
          .header('cache-control', 'no-store')
          .type('text/plain; charset=utf-8')
          .send(`${DASHBOARD_NOT_BUILT}\n`);
      }
      return securityHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    };
    app.get('/', { schema: { hide: true } }, sendIndex);
    app.get('/index.html', { schema: { hide: true } }, sendIndex);

    await app.register(fastifyStatic, {
      root: `${dir}assets`,
      prefix: '/assets/',
      // Resolved per request, so a build made after the start is served too.
      wildcard: true,
      index: false,
      list: false,
      dotfiles: 'deny',
      decorateReply: false,
      // A missing dist is reported by GET / (503), not by a warning at every start.
      suppressWarning: true,
      cacheControl: false,
      setHeaders: (reply) => {
        reply.header('cache-control', 'public, max-age=31536000, immutable');
        reply.header('content-security-policy', DASHBOARD_CSP);
        reply.header('x-content-type-options', 'nosniff');
      },
    });
  };
}
