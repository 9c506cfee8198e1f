import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMesSettings } from '../../src/config.ts';
import { MES_DEFAULT_TYPES } from '../../src/domain/mes-feed.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vitalink-mes-config-'));
const tokenFile = path.join(dir, 'token');
writeFileSync(tokenFile, 't\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('VITALINK_MES_* settings', () => {
  it('are off when unset', () => {
    const { settings, problems } = readMesSettings({});
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ editorOid: undefined, push: undefined, types: MES_DEFAULT_TYPES });
    expect(settings.types).not.toContain('cgm_glucose');
  });

  it('read a push endpoint with its token file, retries and OIDs', () => {
    const { settings, problems } = readMesSettings({
      VITALINK_MES_URL: 'https://mes.example/fhir',
      VITALINK_MES_EDITOR_OID: '1.2.250.1.999',
      VITALINK_MES_SOURCE_OID: '1.2.250.1.999.3',
      VITALINK_MES_TOKEN_FILE: tokenFile,
      VITALINK_MES_MAX_ATTEMPTS: '5',
      VITALINK_MES_TYPES: 'heart_rate, cgm_glucose',
    });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      editorOid: '1.2.250.1.999',
      sourceOid: '1.2.250.1.999.3',
      deviceOid: '1.2.250.1.999',
      types: ['heart_rate', 'cgm_glucose'],
      push: { url: 'https://mes.example/fhir', tokenFile, authHeader: 'Authorization', retry: { maxAttempts: 5 } },
    });
  });

  it("take VITALINK_FHIR_OID as the editor's OID when VITALINK_MES_EDITOR_OID is not set", () => {
    const { settings, problems } = readMesSettings({ VITALINK_FHIR_OID: '1.2.250.1.999.8' });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({ editorOid: '1.2.250.1.999.8', sourceOid: '1.2.250.1.999.8' });
  });

  it('name the setting at fault and say what to do', () => {
    const { problems } = readMesSettings({
      VITALINK_MES_URL: 'http://mes.example/fhir',
      VITALINK_MES_SOURCE_OID: '1.2.250.1.998.1',
      VITALINK_MES_DEVICE_OID: 'urn:oid:1.2',
      VITALINK_MES_TOKEN_FILE: path.join(dir, 'absent'),
      VITALINK_MES_TYPES: 'respiratory_rate,steps,pressure',
      VITALINK_MES_RETRY_BASE_MS: '5000',
      VITALINK_MES_RETRY_MAX_MS: '1000',
    });
    expect(problems).toEqual([
      'VITALINK_MES_DEVICE_OID: must be an OID (digits and dots), the system of the Devices\' identifiers (got "urn:oid:1.2")',
      "VITALINK_MES_TYPES: respiratory_rate cannot be fed (the feeding bundle's profile does not list the respiratory rate profile); remove it",
      'VITALINK_MES_TYPES: steps cannot be fed (a steps reading counts its own interval, the profile is steps per day); remove it',
      expect.stringMatching(/^VITALINK_MES_TYPES: "pressure" is not a reading type; use some of heart_rate, /),
      'VITALINK_MES_SOURCE_OID: set VITALINK_MES_EDITOR_OID too (the source must be under it)',
      'VITALINK_MES_URL: must be https:// (plain http:// only to this machine), since it carries health data',
      "VITALINK_MES_EDITOR_OID: set the editor's OID (the one the national agency gave; VITALINK_FHIR_OID serves when it is the same) along with VITALINK_MES_URL",
      `VITALINK_MES_TOKEN_FILE: ${path.join(dir, 'absent')} does not exist; check the path`,
      'VITALINK_MES_RETRY_MAX_MS: must be at least VITALINK_MES_RETRY_BASE_MS',
    ]);
    expect(
      readMesSettings({ VITALINK_MES_EDITOR_OID: '1.2.250.1.999', VITALINK_MES_SOURCE_OID: '1.2.250.1.9990' }).problems,
    ).toEqual([
      'VITALINK_MES_SOURCE_OID: 1.2.250.1.9990 is not under VITALINK_MES_EDITOR_OID 1.2.250.1.999; the receiver refuses such an Observation (422)',
    ]);
  });
});
