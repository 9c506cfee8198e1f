import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every response (README, "Security"), errors included,
 * added in one onSend hook:
 * - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere;
 * - `Cache-Control: no-store` on everything under /api and /fhir (patient data
 *   must not stay in a browser's or a proxy's cache), and on any other response
 *   that does not set its own (the dashboard's files set theirs);
 * - a Content-Security-Policy: the dashboard sets its own (src/http/dashboard.ts);
 *   /docs gets DOCS_CSP; anything else `default-src 'none'; frame-ancestors 'none'`
 *   (JSON and text need no resources, and no page may frame them);
 * - `X-Frame-Options: DENY` on HTML (for browsers without frame-ancestors);
 * - `Strict-Transport-Security: max-age=N` on responses over HTTPS only, when
 *   `hstsMaxAgeS` is not 0 (RFC 6797 §7.2: never over plaintext, where anyone on
 *   the path could forge or strip it). No includeSubDomains: the service cannot
 *   know that every sibling host has TLS.
 */

/**
 * The one inline style of Swagger UI 5 (@fastify/swagger-ui 6.1.3): the `<style>` of
 * its logo's SVG (`.logo_small_svg__cls-2{fill:#fff}...`), allowed by its hash
 * rather than by 'unsafe-inline'. Another version may change it:
 * test/browser/docs.test.ts then reports the violation, and Chromium's console
 * message gives the new hash.
 */
const SWAGGER_UI_LOGO_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";

/**
 * Swagger UI loads its scripts and styles from /docs/static, needs no inline
 * script and one inline style (above); its icons are data: images; it fetches
 * /docs/json. Checked in Debian's Chromium (test/browser/docs.test.ts: the
 * operations rendered, no CSP violation reported).
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' ${SWAGGER_UI_LOGO_STYLE}`,
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

export function securityHeaders(app: FastifyInstance, options: { hstsMaxAgeS?: number } = {}): void {
  const hsts = options.hstsMaxAgeS ? `max-age=${options.hstsMaxAgeS}` : undefined;
  app.addHook('onSend', async (request, reply, payload) => {
    const path = pathOf(request.url);
    if (hsts && (request.socket as Partial<TLSSocket>).encrypted) reply.header('strict-transport-security', hsts);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (under(path, '/api') || under(path, '/fhir') || !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
    if (under(path, '/docs')) reply.header('content-security-policy', DOCS_CSP);
    else if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DATA_CSP);
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('x-frame-options', 'DENY');
    return payload;
  });
}
