import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** VITALINK_FHIR_PROFILE_BASE and VITALINK_FHIR_OID (README, "Mesures de santé profiles"). */

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('FHIR profile settings', () => {
  it('default to the ANS canonical and no OID', () => {
    expect(loadConfig({}).fhirProfiles).toEqual({ profileBase: 'https://interop.esante.gouv.fr/ig/fhir/mesures' });
  });

  it('take another base (without its trailing slash) and an OID', () => {
    const config = loadConfig({
      VITALINK_FHIR_PROFILE_BASE: 'http://esante.gouv.fr/ci-sis/fhir/',
      VITALINK_FHIR_OID: '1.2.250.1.999.1',
    });
    expect(config.fhirProfiles).toEqual({ profileBase: 'http://esante.gouv.fr/ci-sis/fhir', oid: '1.2.250.1.999.1' });
  });

  it('refuse a base that is not an http(s) URL and an OID that is not one, naming the variable', () => {
    for (const value of ['interop.esante.gouv.fr', 'ftp://x.org', 'https://x.org/?a=1']) {
      const [problem] = problems({ VITALINK_FHIR_PROFILE_BASE: value });
      expect(problem, value).toMatch(/^VITALINK_FHIR_PROFILE_BASE: must be an absolute http:\/\/ or https:\/\/ URL/);
    }
    for (const value of ['urn:oid:1.2.3', '1.02.3', '1', '3.1.2', '1.2.']) {
      const [problem] = problems({ VITALINK_FHIR_OID: value });
      expect(problem, value).toMatch(/^VITALINK_FHIR_OID: must be an OID/);
    }
  });
});
