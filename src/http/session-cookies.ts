import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The two cookies of sign-in (README, "Sign-in", "Cookies and CSRF"), both
 * HttpOnly (no script reads them), Path=/, and, when the redirect URL is https,
 * Secure with the `__Host-` prefix (the browser then refuses them from any other
 * host or over plaintext):
 * - the session: SameSite=Strict, no Max-Age (gone with the browser; the server
 *   ends it anyway at its absolute or idle expiry);
 * - the pending sign-in (state, nonce, PKCE verifier) between /auth/login and
 *   /auth/callback: SameSite=Lax, since the issuer sends the browser back with a
 *   cross-site top-level GET; Max-Age 600.
 */
export interface CookieNames {
  readonly session: string;
  readonly pending: string;
  readonly secure: boolean;
}

export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}vitalink_session`, pending: `${prefix}vitalink_signin`, secure };
}

/** The value of a cookie of the request (RFC 6265 §5.4 Cookie header), or undefined. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function serialize(
  names: CookieNames,
  name: string,
  value: string,
  options: { sameSite: 'Strict' | 'Lax'; maxAgeS?: number },
): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', `SameSite=${options.sameSite}`];
  if (options.maxAgeS !== undefined) parts.push(`Max-Age=${options.maxAgeS}`);
  if (names.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Fastify appends to Set-Cookie (one header line per cookie), never replaces it. */
function appendCookie(reply: FastifyReply, cookie: string): void {
  reply.header('set-cookie', cookie);
}

export function setSessionCookie(reply: FastifyReply, names: CookieNames, sessionId: string): void {
  appendCookie(reply, serialize(names, names.session, sessionId, { sameSite: 'Strict' }));
}

export function clearSessionCookie(reply: FastifyReply, names: CookieNames): void {
  appendCookie(reply, serialize(names, names.session, '', { sameSite: 'Strict', maxAgeS: 0 }));
}

export function setPendingCookie(reply: FastifyReply, names: CookieNames, value: string, maxAgeS: number): void {
  appendCookie(reply, serialize(names, names.pending, value, { sameSite: 'Lax', maxAgeS }));
}

export function clearPendingCookie(reply: FastifyReply, names: CookieNames): void {
  appendCookie(reply, serialize(names, names.pending, '', { sameSite: 'Lax', maxAgeS: 0 }));
}
