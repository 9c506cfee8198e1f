import { createRemoteJWKSet, exportJWK, importPKCS8, type JWK, type JWTVerifyGetKey } from 'jose';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcClientAuth, OidcSettings } from '../config.ts';
import { AppError } from '../errors.ts';

/**
 * The OpenID provider as this service sees it (README, "Sign-in"): its metadata,
 * read from `<issuer>/.well-known/openid-configuration` at the first use (not at
 * start-up: an issuer that is down must not stop the service, whose machine
 * clients use vlk_ tokens), kept for the life of the process; a failed discovery
 * is retried at the next use.
 *
 * Its signing keys (jwks_uri) are cached in memory by jose: fetched once, fetched
 * again when a token names a key id the cache lacks (at most every 30 s) or after
 * 10 minutes, so an API request costs no HTTP call in the steady state.
 */
export class OidcIssuer {
  readonly settings: OidcSettings;
  #configuration: Promise<client.Configuration> | undefined;
  #jwks: JWTVerifyGetKey | undefined;

  constructor(settings: OidcSettings) {
    this.settings = settings;
  }

  /** The client's configuration from discovery; 503 when the issuer does not answer. */
  async configuration(): Promise<client.Configuration> {
    this.#configuration ??= this.#discover();
    try {
      return await this.#configuration;
    } catch (error) {
      this.#configuration = undefined;
      throw error;
    }
  }

  async #discover(): Promise<client.Configuration> {
    const s = this.settings;
    const issuer = new URL(s.issuer);
    try {
      return await client.discovery(
        issuer,
        s.clientId,
        s.clientAuth.method === 'client_secret_basic' ? { client_secret: s.clientAuth.secret } : {},
        await clientAuthentication(s.clientAuth),
        {
          // Signatures of the ID token and of a signed userinfo checked against the issuer's keys
          // too, not only TLS; plain http only for an issuer on this machine (src/config.ts refuses any other).
          execute: [
            client.enableNonRepudiationChecks,
            ...(issuer.protocol === 'http:' ? [client.allowInsecureRequests] : []),
          ],
          timeout: 10,
        },
      );
    } catch (cause) {
      const error = new AppError(
        'unavailable',
        'the sign-in provider (VITALINK_OIDC_ISSUER) did not answer its discovery document; try again later, or check VITALINK_OIDC_ISSUER',
      );
      throw Object.assign(error, { cause });
    }
  }

  /** The issuer's signing keys, cached (see above). */
  async keys(): Promise<JWTVerifyGetKey> {
    if (this.#jwks) return this.#jwks;
    const metadata = (await this.configuration()).serverMetadata();
    if (!metadata.jwks_uri) {
      throw new AppError(
        'unavailable',
        'the sign-in provider publishes no jwks_uri: bearer access tokens cannot be checked',
      );
    }
    this.#jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
      timeoutDuration: 10_000,
    });
    return this.#jwks;
  }
}

/**
 * The client authentication at the token endpoint: client_secret_basic, or
 * private_key_jwt (RFC 7523: a short assertion signed with the service's key,
 * whose public half the issuer holds; no shared secret travels).
 */
async function clientAuthentication(auth: OidcClientAuth): Promise<client.ClientAuth> {
  if (auth.method === 'client_secret_basic') return client.ClientSecretBasic(auth.secret);
  const key = await importPKCS8(pkcs8(auth.keyPem), auth.alg);
  return client.PrivateKeyJwt(auth.keyId ? { key, kid: auth.keyId } : key);
}

/** The key as PKCS#8 PEM (an "EC PRIVATE KEY" or "RSA PRIVATE KEY" file is converted). */
function pkcs8(pem: string): string {
  return createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The public half of the private_key_jwt key, as a JWK Set (GET /auth/jwks.json):
 * what to register at the issuer (as a jwks_uri or pasted). Null with a client secret.
 */
export async function clientPublicJwks(auth: OidcClientAuth): Promise<{ keys: JWK[] } | null> {
  if (auth.method !== 'private_key_jwt') return null;
  const jwk = await exportJWK(createPublicKey(auth.keyPem));
  return { keys: [{ ...jwk, alg: auth.alg, use: 'sig', ...(auth.keyId ? { kid: auth.keyId } : {}) }] };
}
