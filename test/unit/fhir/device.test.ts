import { afterAll, describe, expect, it } from 'vitest';
import { PHD_DEVICE_PROFILE, phdDevice } from '../../../src/fhir/device.ts';
import { closeFhirValidator, errorsOf, validateAgainst } from '../../helpers/fhir-validator.ts';

afterAll(closeFhirValidator);

describe('phdDevice', () => {
  it('is a valid PhdDevice with or without a model, an OID and reading types', async () => {
    const cases = [
      phdDevice({ id: 'cuff-1', model: 'BP-7', types: ['blood_pressure'] }, { profileBase: 'x', oid: '1.2.250.1.999' }),
      phdDevice({ id: 'watch-1', model: null, types: [] }),
      phdDevice({ id: 'multi', model: 'M', types: ['spo2', 'heart_rate', 'steps', 'spo2'] }),
    ];
    for (const d of cases) {
      expect(errorsOf(await validateAgainst(d as never, PHD_DEVICE_PROFILE)), d.id).toEqual([]);
    }
  });

  it('names the device by the configured OID, else by urn:vitalink:device, beside the zero EUI-64', () => {
    const withOid = phdDevice(
      { id: 'cuff-1', model: 'BP-7', types: ['blood_pressure'] },
      { profileBase: 'x', oid: '1.2.3' },
    );
    expect(withOid.identifier.map((i) => `${i.system}|${i.value}`)).toEqual([
      'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|00-00-00-00-00-00-00-00',
      'urn:oid:1.2.3|cuff-1',
    ]);
    expect(withOid.meta.source).toBe('urn:oid:1.2.3');
    expect(withOid.modelNumber).toBe('BP-7');
    expect(withOid.specialization.map((s) => s.systemType.coding[0].code)).toEqual(['528391']);
    const without = phdDevice({ id: 'w', model: null, types: ['respiratory_rate'] });
    expect(without.identifier[1]).toEqual({ system: 'urn:vitalink:device', value: 'w' });
    expect(without.modelNumber).toBeUndefined();
    expect(without._modelNumber?.extension[0].valueCode).toBe('unknown');
    expect(without.specialization.map((s) => s.systemType.coding[0].code)).toEqual(['528457']);
  });

  it('a PhdDevice without the unknown-manufacturer marker is refused (the validator sees the rule)', async () => {
    const { _manufacturer: _m, ...rest } = phdDevice({ id: 'cuff-1', model: 'BP-7', types: ['blood_pressure'] });
    const issues = errorsOf(await validateAgainst(rest as never, PHD_DEVICE_PROFILE));
    expect(issues.map((i) => i.path).join(' ')).toContain('Device.manufacturer');
  });
});
