import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/service.ts';

/** `vitalink serve` with bad sign-in settings (README, "Sign-in"): exit 2, a sentence naming the setting. */
describe('vitalink serve with bad sign-in settings', () => {
  it('exits 2 naming the setting and what to do', { timeout: 60_000 }, async () => {
    const result = await runCli(['serve'], {
      VITALINK_OIDC_ISSUER: 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet',
      VITALINK_OIDC_CLIENT_SECRET: 'a-client-secret',
      VITALINK_PUBLIC_URL: 'https://vitalink.example.org',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'VITALINK_OIDC_CLIENT_ID: required with VITALINK_OIDC_ISSUER: the client id the issuer gave this service',
    );
    expect(result.stderr).toContain('Fix these environment variables and try again.');
    expect(result.stderr).not.toContain('a-client-secret');
  });
});
