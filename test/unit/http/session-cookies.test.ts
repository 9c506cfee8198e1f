import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  clearSessionCookie,
  cookieNames,
  readCookie,
  setPendingCookie,
  setSessionCookie,
} from '../../../src/http/session-cookies.ts';

/** README, "Sign-in", "Sessions and cookies": the flags of the two cookies, over http and https. */

async function setCookies(secure: boolean): Promise<string[]> {
  const app = Fastify();
  app.get('/', async (_request, reply) => {
    const names = cookieNames(secure);
    setPendingCookie(reply, names, 'pending-value', 600);
    setSessionCookie(reply, names, 'session-id');
    clearSessionCookie(reply, names);
    return 'ok';
  });
  const res = await app.inject({ method: 'GET', url: '/' });
  await app.close();
  const header = res.headers['set-cookie'];
  return Array.isArray(header) ? header : [String(header)];
}

describe('sign-in cookies', () => {
  it('over https: Secure, with the __Host- prefix, HttpOnly, Path=/; the session SameSite=Strict, the pending sign-in Lax', async () => {
    expect(await setCookies(true)).toEqual([
      '__Host-vitalink_signin=pending-value; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure',
      '__Host-vitalink_session=session-id; Path=/; HttpOnly; SameSite=Strict; Secure',
      '__Host-vitalink_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure',
    ]);
  });

  it('over plain http (a local development setup): the same without Secure nor the prefix', async () => {
    expect(await setCookies(false)).toEqual([
      'vitalink_signin=pending-value; Path=/; HttpOnly; SameSite=Lax; Max-Age=600',
      'vitalink_session=session-id; Path=/; HttpOnly; SameSite=Strict',
      'vitalink_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0',
    ]);
  });

  it('reads a cookie among others', async () => {
    const app = Fastify();
    app.get('/', async (request) => ({ value: readCookie(request, '__Host-vitalink_session') ?? null }));
    const res = await app.inject({
      method: 'GET',
      url: '/',
      headers: { cookie: 'a=1; __Host-vitalink_session=abc; vitalink_session=other' },
    });
    await app.close();
    expect(res.json()).toEqual({ value: 'abc' });
  });
});
