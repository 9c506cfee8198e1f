import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readOidcSettings } from '../../src/config.ts';

/** The VITALINK_OIDC_* and VITALINK_SESSION_* settings (README, "Sign-in", settings table). */

const PSC_SANDBOX = 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet';
const minimal = {
  VITALINK_OIDC_ISSUER: PSC_SANDBOX,
  VITALINK_OIDC_CLIENT_ID: 'vitalink-ght-42',
  VITALINK_OIDC_CLIENT_SECRET: 'a-client-secret',
  VITALINK_PUBLIC_URL: 'https://vitalink.example.org/',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'vitalink-oidc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  return readOidcSettings(env).problems;
}

describe('sign-in settings', () => {
  it('are off without VITALINK_OIDC_ISSUER', () => {
    expect(readOidcSettings({})).toEqual({ oidc: undefined, problems: [] });
  });

  it('take Pro Santé Connect defaults, the redirect URL from VITALINK_PUBLIC_URL, and Secure cookies for https', () => {
    const { oidc, problems } = readOidcSettings(minimal);
    expect(problems).toEqual([]);
    expect(oidc).toEqual({
      issuer: PSC_SANDBOX,
      clientId: 'vitalink-ght-42',
      clientAuth: { method: 'client_secret_basic', secret: 'a-client-secret' },
      redirectUrl: 'https://vitalink.example.org/auth/callback',
      postLogoutRedirectUrl: 'https://vitalink.example.org/',
      scopes: 'openid scope_all',
      acrValues: 'eidas1',
      label: 'Pro Santé Connect',
      practitionerClaims: ['SubjectNameID', 'preferred_username'],
      practitionerMatch: 'idnat-rpps',
      apiAudience: null,
      jwtAlgorithms: ['RS256', 'PS256', 'ES256'],
      sessionMaxMs: 12 * 3_600_000,
      sessionIdleMs: 30 * 60_000,
      secureCookies: true,
    });
  });

  it('take another issuer’s rule: sub is the practitioner id, no acr_values, an API audience', () => {
    const { oidc } = readOidcSettings({
      ...minimal,
      VITALINK_OIDC_PRACTITIONER_CLAIM: 'sub',
      VITALINK_OIDC_PRACTITIONER_MATCH: 'id',
      VITALINK_OIDC_ACR_VALUES: 'none',
      VITALINK_OIDC_SCOPES: 'openid profile',
      VITALINK_OIDC_LABEL: 'Keycloak du GHT',
      VITALINK_OIDC_API_AUDIENCE: 'https://vitalink.example.org/api',
      VITALINK_SESSION_MAX_HOURS: '8',
      VITALINK_SESSION_IDLE_MINUTES: '15',
    });
    expect(oidc).toMatchObject({
      practitionerClaims: ['sub'],
      practitionerMatch: 'id',
      acrValues: null,
      label: 'Keycloak du GHT',
      apiAudience: 'https://vitalink.example.org/api',
      sessionMaxMs: 8 * 3_600_000,
      sessionIdleMs: 15 * 60_000,
    });
  });

  it('read the client secret from a private file', () => {
    const file = path.join(dir, 'secret');
    writeFileSync(file, 'secret-from-file\n');
    chmodSync(file, 0o600);
    const env = { ...minimal, VITALINK_OIDC_CLIENT_SECRET: '', VITALINK_OIDC_CLIENT_SECRET_FILE: file };
    expect(readOidcSettings(env).oidc?.clientAuth).toEqual({
      method: 'client_secret_basic',
      secret: 'secret-from-file',
    });
    chmodSync(file, 0o644);
    expect(problems(env)).toEqual([
      expect.stringMatching(/^VITALINK_OIDC_CLIENT_SECRET_FILE: .* is accessible by other users/),
    ]);
  });

  it('take a private key for private_key_jwt: RS256 for RSA, ES256 for P-256; refuse anything else', () => {
    const ec = path.join(dir, 'client-ec.pem');
    writeFileSync(
      ec,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }),
    );
    chmodSync(ec, 0o600);
    const env = {
      ...minimal,
      VITALINK_OIDC_CLIENT_SECRET: '',
      VITALINK_OIDC_CLIENT_KEY_FILE: ec,
      VITALINK_OIDC_CLIENT_KEY_ID: 'k1',
    };
    expect(readOidcSettings(env).oidc?.clientAuth).toMatchObject({
      method: 'private_key_jwt',
      alg: 'ES256',
      keyId: 'k1',
    });
    const rsa = path.join(dir, 'client-rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    chmodSync(rsa, 0o600);
    expect(readOidcSettings({ ...env, VITALINK_OIDC_CLIENT_KEY_FILE: rsa }).oidc?.clientAuth).toMatchObject({
      alg: 'RS256',
    });
    const p384 = path.join(dir, 'client-p384.pem');
    writeFileSync(
      p384,
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    chmodSync(p384, 0o600);
    expect(problems({ ...env, VITALINK_OIDC_CLIENT_KEY_FILE: p384 })).toEqual([
      expect.stringMatching(
        /^VITALINK_OIDC_CLIENT_KEY_FILE: .* holds no RSA \(2048 bits or more\) or P-256 private key/,
      ),
    ]);
    expect(problems({ ...env, VITALINK_OIDC_CLIENT_SECRET: 'x' })).toEqual([
      'VITALINK_OIDC_CLIENT_SECRET and VITALINK_OIDC_CLIENT_KEY_FILE are all set: set one of them (a client secret, or a private key)',
    ]);
  });

  it('name the setting of every problem, and never quote the secret', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...minimal, VITALINK_OIDC_CLIENT_ID: '' }, /^VITALINK_OIDC_CLIENT_ID: required/],
      [
        { ...minimal, VITALINK_OIDC_CLIENT_SECRET: '' },
        /^VITALINK_OIDC_CLIENT_SECRET \(or VITALINK_OIDC_CLIENT_SECRET_FILE, or VITALINK_OIDC_CLIENT_KEY_FILE for private_key_jwt\): required/,
      ],
      [
        { ...minimal, VITALINK_OIDC_ISSUER: 'http://psc.example.org/realm' },
        /^VITALINK_OIDC_ISSUER: must be an https:\/\/ URL/,
      ],
      [{ ...minimal, VITALINK_OIDC_ISSUER: 'not a url' }, /^VITALINK_OIDC_ISSUER: must be an absolute https:\/\/ URL/],
      [{ ...minimal, VITALINK_PUBLIC_URL: '' }, /^VITALINK_OIDC_REDIRECT_URL: needed with VITALINK_OIDC_ISSUER/],
      [
        { ...minimal, VITALINK_OIDC_REDIRECT_URL: 'https://vitalink.example.org/callback' },
        /^VITALINK_OIDC_REDIRECT_URL: must end in \/auth\/callback/,
      ],
      [{ ...minimal, VITALINK_OIDC_SCOPES: 'profile' }, /^VITALINK_OIDC_SCOPES: must include openid/],
      [
        { ...minimal, VITALINK_OIDC_PRACTITIONER_MATCH: 'email' },
        /^VITALINK_OIDC_PRACTITIONER_MATCH: must be one of idnat-rpps, rpps, id/,
      ],
      [
        { ...minimal, VITALINK_OIDC_PRACTITIONER_CLAIM: 'a b' },
        /^VITALINK_OIDC_PRACTITIONER_CLAIM: must be claim names/,
      ],
      [{ ...minimal, VITALINK_OIDC_JWT_ALGORITHMS: 'RS256,none' }, /^VITALINK_OIDC_JWT_ALGORITHMS: .*never accepted/],
      [{ ...minimal, VITALINK_OIDC_JWT_ALGORITHMS: 'HS256' }, /^VITALINK_OIDC_JWT_ALGORITHMS:/],
      [
        { ...minimal, VITALINK_SESSION_MAX_HOURS: '0' },
        /^VITALINK_SESSION_MAX_HOURS: must be a whole number from 1 to 720/,
      ],
      [{ ...minimal, VITALINK_SESSION_IDLE_MINUTES: '5.5' }, /^VITALINK_SESSION_IDLE_MINUTES: must be a whole number/],
      [{ VITALINK_OIDC_CLIENT_ID: 'x' }, /^VITALINK_OIDC_CLIENT_ID set without VITALINK_OIDC_ISSUER/],
    ];
    for (const [env, expected] of cases) {
      const found = problems(env);
      expect(found, JSON.stringify(env)).toEqual([expect.stringMatching(expected)]);
      expect(found.join(' ')).not.toContain('a-client-secret');
    }
  });

  it('allow a plain http issuer on this machine only (a local provider)', () => {
    expect(problems({ ...minimal, VITALINK_OIDC_ISSUER: 'http://127.0.0.1:9000' })).toEqual([]);
    expect(problems({ ...minimal, VITALINK_OIDC_ISSUER: 'http://localhost:9000/realms/x' })).toEqual([]);
  });

  it('make loadConfig fail with every problem at once', () => {
    const error = (() => {
      try {
        loadConfig({ ...minimal, VITALINK_OIDC_CLIENT_ID: '', VITALINK_SESSION_MAX_HOURS: 'x' });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      expect.stringMatching(/^VITALINK_OIDC_CLIENT_ID/),
      expect.stringMatching(/^VITALINK_SESSION_MAX_HOURS/),
    ]);
  });
});
