/**
 * Sign-in with OpenID Connect, the API side (README, "Sign-in"): bearer access
 * tokens issued by a real local OpenID provider (oidc-provider, test/helpers/
 * oidc-provider.ts) checked against its keys, and the dashboard's session cookie
 * (rows written as /auth/callback writes them; the whole flow runs in Chromium in
 * test/browser/oidc-sign-in.test.ts). A practitioner sees the patients enrolled
 * with their teams and no other; every refusal is a 401 that tells nothing.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, SignJWT, UnsecuredJWT } from 'jose';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { type LocalProvider, signInWithoutBrowser, startOidcProvider } from '../helpers/oidc-provider.ts';
import { freePort } from '../helpers/free-port.ts';
import { runCli } from '../helpers/service.ts';

let provider: LocalProvider | undefined;

/** The service's own key for private_key_jwt (its public half registered at the provider). */
const CLIENT_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const CLIENT_PUBLIC_JWK = {
  ...(await exportJWK(CLIENT_KEY.publicKey)),
  kid: 'vitalink-client-1',
  alg: 'ES256',
  use: 'sig',
};
const KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'vitalink-pkjwt-'));

const DR_MARTIN = { id: 'psc-martin', rpps: '10003456789', givenName: 'Anne', familyName: 'Martin' };
const NOBODY = { id: 'psc-nobody', rpps: '10009999999', givenName: 'Paul', familyName: 'Inconnu' };

const t = useTestService({
  adminToken: true,
  env: async () => {
    const port = await freePort();
    provider = await startOidcProvider({
      port,
      redirectUris: ['http://127.0.0.1:1/auth/callback'],
      postLogoutRedirectUris: ['http://127.0.0.1:1/'],
      accounts: [DR_MARTIN, NOBODY],
      signedUserinfo: true,
      privateKeyJwtClient: { clientId: 'vitalink-test-pkjwt', publicJwk: CLIENT_PUBLIC_JWK },
    });
    return {
      VITALINK_OIDC_ISSUER: provider.issuer,
      VITALINK_OIDC_CLIENT_ID: provider.clientId,
      VITALINK_OIDC_CLIENT_SECRET: provider.clientSecret,
      VITALINK_OIDC_REDIRECT_URL: 'http://127.0.0.1:1/auth/callback',
      VITALINK_OIDC_API_AUDIENCE: provider.apiAudience,
      VITALINK_SESSION_IDLE_MINUTES: '30',
      VITALINK_HTTP_AUTH_FAILURES_PER_MIN: '0',
    };
  },
  beforeStart: async (t) => {
    for (const id of ['p-cardio-1', 'p-cardio-2', 'p-diab-1']) await t.addPatient(id);
    await t.query(
      `INSERT INTO practitioners (id, name, rpps, role) VALUES ('dr-martin', 'Dr Anne Martin', $1, 'physician')`,
      [DR_MARTIN.rpps],
    );
    await t.query(`INSERT INTO care_teams (id, name) VALUES ('cardio', 'Cardiologie'), ('diabeto', 'Diabétologie')`);
    await t.query(`INSERT INTO team_members (team_id, practitioner_id) VALUES ('cardio', 'dr-martin')`);
    await t.query(
      `INSERT INTO enrolments (patient_id, team_id, programme, starts_at) VALUES
         ('p-cardio-1', 'cardio', 'heart_failure', now() - interval '10 days'),
         ('p-cardio-2', 'cardio', 'heart_failure', now() - interval '1 day'),
         ('p-diab-1', 'diabeto', 'diabetes', now() - interval '10 days')`,
    );
  },
  afterStop: async () => {
    await provider?.stop();
  },
});

afterAll(async () => {
  await provider?.stop();
  rmSync(KEY_DIR, { recursive: true, force: true });
});

const p = () => provider!;
const now = () => Math.floor(Date.now() / 1000);

describe('bearer access tokens from the OpenID provider', () => {
  it('accepts a token the provider issued: the practitioner sees the patients of their teams, and no other', async () => {
    const token = await p().issueAccessToken(DR_MARTIN.id);
    const me = await t.api.get('/api/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      role: 'clinician',
      patientIds: ['p-cardio-1', 'p-cardio-2'],
      practitioner: { id: 'dr-martin' },
    });
    expect((await t.api.get('/api/v1/patients/p-cardio-1', { token })).status).toBe(200);
    const other = await t.api.get('/api/v1/patients/p-diab-1', { token });
    expect(other.status).toBe(404);
    // The denial is audited under the practitioner's name.
    const { rows } = await t.query(
      `SELECT principal, outcome FROM audit_log WHERE patient_id = 'p-diab-1' ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toEqual({ principal: 'practitioner:dr-martin', outcome: 'denied' });
  });

  it('refuses an expired token, a token signed with another key, alg none, a wrong audience or issuer, an ID token', async () => {
    const base = {
      iss: p().issuer,
      aud: p().apiAudience,
      sub: DR_MARTIN.id,
      SubjectNameID: `8${DR_MARTIN.rpps}`,
      iat: now() - 60,
      exp: now() + 600,
    };
    // The same payload signed with the provider's key is accepted: each refusal below is for its one difference.
    expect((await t.api.get('/api/v1/me', { token: await p().sign(base) })).status).toBe(200);

    const expired = await p().sign({ ...base, iat: now() - 7200, exp: now() - 3600 });
    const notYet = await p().sign({ ...base, nbf: now() + 3600 });
    const otherAudience = await p().sign({ ...base, aud: 'https://another-api.example' });
    const otherIssuer = await p().sign({
      ...base,
      iss: 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet',
    });
    const noExpiry = await p().sign({ ...base, exp: undefined });
    const idToken = await p().sign({ ...base, nonce: 'n-0S6_WzA2Mj' });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT(base)
      .setProtectedHeader({ alg: 'RS256', kid: 'test-signing-key' })
      .sign(privateKey);
    const none = new UnsecuredJWT(base).encode();
    const hmac = await new SignJWT(base)
      .setProtectedHeader({ alg: 'HS256', kid: 'test-signing-key' })
      .sign(
        new TextEncoder().encode(
          JSON.stringify(await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)),
        ),
      );
    const refused = { expired, notYet, otherAudience, otherIssuer, noExpiry, idToken, forged, none, hmac };
    for (const [what, token] of Object.entries(refused)) {
      const res = await t.api.get('/api/v1/me', { token });
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe('unauthorized');
    }
  });

  it('refuses the token of a person who is no practitioner here', async () => {
    const token = await p().issueAccessToken(NOBODY.id);
    const res = await t.api.get('/api/v1/me', { token });
    expect(res.status).toBe(401);
  });

  it('keeps accepting vlk_ API tokens for machine clients', async () => {
    const operator = await t.createToken('operator');
    expect((await t.api.get('/api/v1/me', { token: operator.token })).body.role).toBe('operator');
  });
});

/** A session row as /auth/callback writes it, and the cookie that names it. */
async function session(
  options: { expiresIn?: string; lastSeen?: string; revoked?: boolean } = {},
): Promise<{ cookie: string; id: string }> {
  const id = randomBytes(32).toString('base64url');
  await t.query(
    `INSERT INTO sign_in_sessions (id_hash, practitioner_id, created_at, last_seen_at, expires_at, revoked_at)
     VALUES ($1, 'dr-martin', now() - interval '1 hour', now() - $2::interval, now() + $3::interval, CASE WHEN $4 THEN now() END)`,
    [
      createHash('sha256').update(id).digest(),
      options.lastSeen ?? '0 seconds',
      options.expiresIn ?? '1 hour',
      options.revoked ?? false,
    ],
  );
  return { id, cookie: `vitalink_session=${id}` };
}

describe('the session cookie', () => {
  it('signs the practitioner in: /auth/session names them and gives the CSRF token; the API answers with their patients', async () => {
    const { cookie } = await session();
    const s = await t.api.get('/auth/session', { headers: { cookie } });
    expect(s.status).toBe(200);
    expect(s.body.signIn).toEqual({ label: 'Pro Santé Connect', loginUrl: 'auth/login' });
    expect(s.body.session).toMatchObject({ practitionerId: 'dr-martin', name: 'Dr Anne Martin' });
    const me = await t.api.get('/api/v1/me', { headers: { cookie } });
    expect(me.body).toMatchObject({
      role: 'clinician',
      patientIds: ['p-cardio-1', 'p-cardio-2'],
      practitioner: { id: 'dr-martin' },
    });
    expect((await t.api.get('/api/v1/patients/p-diab-1', { headers: { cookie } })).status).toBe(404);
  });

  it('refuses a request that changes something without the CSRF token, and takes it with it', async () => {
    const { cookie } = await session();
    const csrf = (await t.api.get('/auth/session', { headers: { cookie } })).body.session.csrfToken as string;
    const body = { hypertension_systolic: 150 };
    const without = await t.api.put('/api/v1/patients/p-cardio-1/thresholds', body, { headers: { cookie } });
    expect(without.status).toBe(403);
    const wrong = await t.api.put('/api/v1/patients/p-cardio-1/thresholds', body, {
      headers: { cookie, 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrong.status).toBe(403);
    const withToken = await t.api.put('/api/v1/patients/p-cardio-1/thresholds', body, {
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(withToken.status).not.toBe(403);
    expect(withToken.status).not.toBe(401);
  });

  it('refuses an expired, an idle, a revoked and an unknown session with 401', async () => {
    const cases = {
      expired: (await session({ expiresIn: '-1 second' })).cookie,
      idle: (await session({ lastSeen: '31 minutes' })).cookie,
      revoked: (await session({ revoked: true })).cookie,
      unknown: `vitalink_session=${randomBytes(32).toString('base64url')}`,
    };
    for (const [what, cookie] of Object.entries(cases)) {
      const res = await t.api.get('/api/v1/me', { headers: { cookie } });
      expect(res.status, what).toBe(401);
      expect((await t.api.get('/auth/session', { headers: { cookie } })).body.session, what).toBeNull();
    }
  });

  it('signs out: the session row is revoked, the next request refused, and the issuer sign-out URL given', async () => {
    const { cookie } = await session();
    const csrf = (await t.api.get('/auth/session', { headers: { cookie } })).body.session.csrfToken as string;
    expect((await t.api.post('/auth/logout', {}, { headers: { cookie } })).status).toBe(403);
    const out = await t.api.post('/auth/logout', {}, { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.body.endSessionUrl).toMatch(new RegExp(`^${p().issuer}/session/end\\?`));
    expect(out.headers.get('set-cookie')).toMatch(/vitalink_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    expect((await t.api.get('/api/v1/me', { headers: { cookie } })).status).toBe(401);
  });
});

describe('the whole sign-in without a browser (userinfo as a signed JWT, as PSC may answer)', () => {
  it('comes back with a session cookie naming the practitioner, found from SubjectNameID in the signed userinfo', async () => {
    const { callback, cookies } = await signInWithoutBrowser(
      t.httpUrl,
      'http://127.0.0.1:1/auth/callback',
      DR_MARTIN.id,
    );
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('http://127.0.0.1:1/');
    // The pending sign-in cleared, the session set: one line each.
    expect(callback.headers.getSetCookie()).toEqual([
      'vitalink_signin=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0',
      expect.stringMatching(/^vitalink_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/),
    ]);
    const id = cookies.get('vitalink_session');
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await t.query(`SELECT practitioner_id FROM sign_in_sessions WHERE id_hash = $1`, [
      createHash('sha256').update(id!).digest(),
    ]);
    expect(rows).toEqual([{ practitioner_id: 'dr-martin' }]);
    const me = await t.api.get('/api/v1/me', { headers: { cookie: `vitalink_session=${id}` } });
    expect(me.body).toMatchObject({
      role: 'clinician',
      patientIds: ['p-cardio-1', 'p-cardio-2'],
      practitioner: { id: 'dr-martin' },
    });
  });

  it('refuses the replay of an authorization code: no second session', async () => {
    const { callback } = await signInWithoutBrowser(t.httpUrl, 'http://127.0.0.1:1/auth/callback', DR_MARTIN.id);
    expect(callback.status).toBe(303);
    const { rows: before } = await t.query(`SELECT count(*)::int AS n FROM sign_in_sessions`);
    // The same callback URL again, with a fresh pending cookie of another sign-in: state mismatch.
    const login = await fetch(`${t.httpUrl}/auth/login`, { redirect: 'manual' });
    const pending = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const replay = await fetch(`${t.httpUrl}/auth/callback${new URL(callback.url).search}`, {
      redirect: 'manual',
      headers: { cookie: pending },
    });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('could not be verified');
    const { rows: after } = await t.query(`SELECT count(*)::int AS n FROM sign_in_sessions`);
    expect(after).toEqual(before);
  });
});

describe('private_key_jwt', () => {
  it("signs in with the service's private key instead of a client secret, and publishes its public half", async () => {
    const keyFile = path.join(KEY_DIR, 'client.pem');
    writeFileSync(keyFile, CLIENT_KEY.privateKey.export({ type: 'sec1', format: 'pem' }));
    chmodSync(keyFile, 0o600);
    const instance = await t.startInstance({
      VITALINK_OIDC_ISSUER: p().issuer,
      VITALINK_OIDC_CLIENT_ID: 'vitalink-test-pkjwt',
      VITALINK_OIDC_CLIENT_KEY_FILE: keyFile,
      VITALINK_OIDC_CLIENT_KEY_ID: 'vitalink-client-1',
      VITALINK_OIDC_REDIRECT_URL: 'http://127.0.0.1:1/auth/callback',
    });
    const base = `http://127.0.0.1:${instance.ports.http}`;
    const jwks = await (await fetch(`${base}/auth/jwks.json`)).json();
    expect(jwks).toEqual({ keys: [CLIENT_PUBLIC_JWK] });
    const { callback, cookies } = await signInWithoutBrowser(base, 'http://127.0.0.1:1/auth/callback', DR_MARTIN.id);
    expect(callback.status).toBe(303);
    expect(cookies.get('vitalink_session')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('failed sign-ins from one address', () => {
  it('count against its failed-authentication limit: beyond it, 429 before the issuer is asked', async () => {
    const instance = await t.startInstance({
      VITALINK_OIDC_ISSUER: p().issuer,
      VITALINK_OIDC_CLIENT_ID: p().clientId,
      VITALINK_OIDC_CLIENT_SECRET: p().clientSecret,
      VITALINK_OIDC_REDIRECT_URL: 'http://127.0.0.1:1/auth/callback',
      VITALINK_HTTP_AUTH_FAILURES_PER_MIN: '2',
    });
    const base = `http://127.0.0.1:${instance.ports.http}`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A pending sign-in of this browser, and a code the issuer never gave.
      const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
      const pending = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const state = new URL(login.headers.get('location')!).searchParams.get('state');
      const res = await fetch(`${base}/auth/callback?code=forged-code-${i}&state=${state}`, {
        redirect: 'manual',
        headers: { cookie: pending },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([400, 400, 429]);
  });
});

describe('vitalink sessions revoke', () => {
  it(
    'ends every live session of a practitioner: each is refused from its next request',
    { timeout: 60_000 },
    async () => {
      const [a, b] = [await session(), await session()];
      const result = await runCli(['sessions', 'revoke', '--practitioner', 'dr-martin', '--json'], {
        DATABASE_URL: t.url,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ practitionerId: 'dr-martin' });
      expect(JSON.parse(result.stdout).revoked).toBeGreaterThanOrEqual(2);
      for (const { cookie } of [a, b])
        expect((await t.api.get('/api/v1/me', { headers: { cookie } })).status).toBe(401);
      const unknown = await runCli(['sessions', 'revoke', '--practitioner', 'dr-nobody'], { DATABASE_URL: t.url });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('practitioner dr-nobody does not exist');
    },
  );
});

describe('the sign-in routes', () => {
  it('are in the OpenAPI document, which stays valid', async () => {
    const doc = (await t.api.get('/openapi.json')).body;
    expect(
      Object.keys(doc.paths)
        .filter((x) => x.startsWith('/auth/'))
        .sort(),
    ).toEqual(['/auth/callback', '/auth/login', '/auth/logout', '/auth/session']);
    const result = await new Validator().validate(doc);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
  });

  it('GET /auth/login sends the browser to the issuer with PKCE S256, state, nonce and acr_values=eidas1', async () => {
    const res = await fetch(`${t.httpUrl}/auth/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe(`${p().issuer}/auth`);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      client_id: p().clientId,
      response_type: 'code',
      scope: 'openid scope_all',
      code_challenge_method: 'S256',
      acr_values: 'eidas1',
      redirect_uri: 'http://127.0.0.1:1/auth/callback',
    });
    for (const k of ['state', 'nonce', 'code_challenge'])
      expect(to.searchParams.get(k)).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(res.headers.get('set-cookie')).toMatch(
      /^vitalink_signin=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/,
    );
  });

  it('GET /auth/callback without the sign-in cookie is a page saying to start again, and no session', async () => {
    const res = await fetch(`${t.httpUrl}/auth/callback?code=abc&state=def`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('sign in again');
    expect(res.headers.get('set-cookie')).not.toMatch(/vitalink_session=[^;]/);
  });
});
