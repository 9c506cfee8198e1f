/**
 * A real OpenID provider on this machine for the tests (panva's oidc-provider,
 * the certified implementation), serving the claims of Pro Santé Connect
 * (../shared/design/french-interop.md): `SubjectNameID` ("8" + RPPS, also as
 * `preferred_username`), `given_name`, `family_name`, `SubjectRefPro`, under the
 * scope `scope_all`. As at PSC, those claims come from userinfo only: the ID
 * token carries `sub` (conformIdTokenClaims).
 *
 * Sign-in goes through the provider's own pages (devInteractions: any login that
 * is an account id below, any password, then a consent page); the login step
 * also records the account's level of assurance (`acr`, eidas1 by default), which
 * devInteractions alone does not. API access tokens
 * are JWTs the provider itself issues and signs for the resource server
 * `apiAudience` (issueAccessToken); `sign` signs any payload with the provider's
 * own key, for the refusals a real issuer does not produce on demand (expired).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

export interface TestAccount {
  /** What one types as the login on the provider's page; the `sub`. */
  readonly id: string;
  readonly rpps: string;
  readonly givenName: string;
  readonly familyName: string;
  /** Profession codes (SubjectRefPro.exercices[].codeProfession), default ['10'] (physician). */
  readonly professions?: string[];
  /** The level of assurance of this account's sign-in (the ID token's `acr`), default `eidas1` as at PSC. */
  readonly acr?: string;
}

export interface LocalProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly apiAudience: string;
  /** An access token (JWT) the provider issues for the account, for `apiAudience`. */
  issueAccessToken(accountId: string): Promise<string>;
  /** A JWT signed with the provider's own signing key (kid and alg of its JWKS). */
  sign(payload: JWTPayload): Promise<string>;
  stop(): Promise<void>;
}

/** The claims of an account as Pro Santé Connect returns them (french-interop.md). */
export function pscClaims(a: TestAccount): Record<string, unknown> {
  const idNat = `8${a.rpps}`;
  return {
    SubjectNameID: idNat,
    preferred_username: idNat,
    given_name: a.givenName,
    family_name: a.familyName,
    SubjectRefPro: {
      codeCivilite: 'DR',
      exercices: (a.professions ?? ['10']).map((codeProfession) => ({
        codeProfession,
        codeCategorieProfessionnelle: 'C',
        activities: [{ codeModeExercice: 'S', ancienIdentifiantDeLaStructure: '499700000000000' }],
      })),
    },
  };
}

export async function startOidcProvider(options: {
  port: number;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  accounts: TestAccount[];
  apiAudience?: string;
  /** Userinfo answered as a signed JWT (application/jwt), as Pro Santé Connect may; default JSON. */
  signedUserinfo?: boolean;
  /** A second client, authenticated with private_key_jwt by the key whose public half is given. */
  privateKeyJwtClient?: { clientId: string; publicJwk: JWK };
}): Promise<LocalProvider> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const clientId = 'vitalink-test';
  const clientSecret = 'vitalink-test-client-secret-0123456789abcdef';
  const apiAudience = options.apiAudience ?? 'https://vitalink.test/api';
  const accounts = new Map(options.accounts.map((a) => [a.id, a]));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };
  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...(options.signedUserinfo ? { userinfo_signed_response_alg: 'RS256' } : {}),
      },
      ...(options.privateKeyJwtClient
        ? [
            {
              client_id: options.privateKeyJwtClient.clientId,
              redirect_uris: options.redirectUris,
              post_logout_redirect_uris: options.postLogoutRedirectUris,
              grant_types: ['authorization_code'],
              response_types: ['code'],
              token_endpoint_auth_method: 'private_key_jwt',
              jwks: { keys: [options.privateKeyJwtClient.publicJwk as never] },
            } satisfies ClientMetadata,
          ]
        : []),
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['oidc-provider-test-cookie-key-0123456789'] },
    scopes: ['openid', 'scope_all'],
    claims: {
      openid: ['sub'],
      scope_all: ['SubjectNameID', 'preferred_username', 'given_name', 'family_name', 'SubjectRefPro'],
    },
    acrValues: ['eidas1'],
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    conformIdTokenClaims: true,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      jwtUserinfo: { enabled: options.signedUserinfo === true },
    },
    findAccount: async (_ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...pscClaims(account) }) };
    },
    // Keycloak (Pro Santé Connect) puts the national identifier in its access tokens too.
    extraTokenClaims: async (_ctx, token) => {
      const account = 'accountId' in token && token.accountId ? accounts.get(token.accountId as string) : undefined;
      if (!account) return undefined;
      const idNat = `8${account.rpps}`;
      return { SubjectNameID: idNat, preferred_username: idNat };
    },
  };
  const provider = new Provider(issuer, configuration);
  // The login form of devInteractions, finished with the account's acr (PSC's ID tokens carry acr=eidas1).
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name !== 'login') return next();
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const login = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('login') ?? '';
    const acr = accounts.get(login)?.acr ?? 'eidas1';
    ctx.respond = false;
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: login, acr } },
      {
        mergeWithLastSubmission: false,
      },
    );
  });
  const server = http.createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (port !== options.port) throw new Error('the provider did not listen where asked');

  return {
    issuer,
    clientId,
    clientSecret,
    apiAudience,
    async issueAccessToken(accountId) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error('the test client is missing');
      const grant = new provider.Grant({ accountId, clientId });
      grant.addResourceScope(apiAudience, 'api');
      const grantId = await grant.save();
      const token = new provider.AccessToken({
        accountId,
        client,
        grantId,
        gty: 'authorization_code',
        scope: 'api',
        resourceServer: new provider.ResourceServer(apiAudience, {
          audience: apiAudience,
          scope: 'api',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
        }),
      });
      return token.save();
    },
    async sign(payload) {
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' }).sign(privateKey);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The browser's part of a sign-in without a browser (plain fetch, one cookie jar
 * per host): the service's /auth/login, the provider's login and consent pages
 * (forms posted as a person would), back to the service's /auth/callback.
 * `redirectUrl`: the redirect URL registered at the provider, rewritten to
 * `serviceBase` when it is not where the service listens. Returns the callback's
 * response and the service's cookies.
 */
export async function signInWithoutBrowser(
  serviceBase: string,
  redirectUrl: string,
  login: string,
): Promise<{ callback: Response; cookies: Map<string, string> }> {
  const jars = new Map<string, Map<string, string>>();
  const jarOf = (url: URL) => {
    let jar = jars.get(url.host);
    if (!jar) jars.set(url.host, (jar = new Map()));
    return jar;
  };
  const service = new URL(serviceBase);
  const request = async (target: string, init: { method?: string; form?: Record<string, string> } = {}) => {
    let url = new URL(target);
    if (url.href.startsWith(redirectUrl)) url = new URL(`${url.pathname}${url.search}`, service);
    const jar = jarOf(url);
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim()];
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return { url, response };
  };
  let { url, response } = await request(new URL('/auth/login', service).href);
  for (let hops = 0; hops < 20; hops++) {
    if (url.host === service.host && url.pathname === '/auth/callback') {
      return { callback: response, cookies: jarOf(service) };
    }
    if (response.status >= 300 && response.status < 400) {
      ({ url, response } = await request(new URL(response.headers.get('location')!, url).href));
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(page)?.[1];
    if (response.status !== 200 || !action) throw new Error(`unexpected page at ${url.href}: ${response.status}`);
    const form: Record<string, string> = page.includes('name="login"')
      ? { prompt: 'login', login, password: 'any password' }
      : { prompt: 'consent' };
    ({ url, response } = await request(new URL(action, url).href, { method: 'POST', form }));
  }
  throw new Error('the sign-in did not come back to the service');
}
