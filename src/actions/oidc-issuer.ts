import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import * as client from 'openid-client';
import type { OidcSettings } from '../config.ts';
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
        { client_secret: s.clientSecret },
        client.ClientSecretBasic(s.clientSecret),
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
