import { afterAll, describe, expect, it } from 'vitest';
import { closeFhirValidator, errorsOf, validateAgainst } from '../../helpers/fhir-validator.ts';

/**
 * The profile validator harness (test/helpers/fhir-validator.ts) is only worth
 * something if it rejects: each case below breaks one rule of a profile and
 * expects the error on that element, beside a valid resource that passes.
 */

const MES = 'https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/';
const PHD = 'http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice';

afterAll(closeFhirValidator);

const weight = () => ({
  resourceType: 'Observation' as const,
  status: 'final',
  category: [
    {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/observation-category',
          code: 'vital-signs',
          display: 'vital-signs',
        },
      ],
    },
  ],
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: 'Patient/1' },
  effectiveDateTime: '2026-12-01T08:00:00Z',
  valueQuantity: { value: 71.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  device: { reference: 'Device/1' },
});

const glucose = () => ({
  ...weight(),
  code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
  valueQuantity: { value: 99, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  extension: [
    {
      url: `${MES}mesures-moment-of-measurement`,
      valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '53049-3' }] },
    },
  ],
});

const device = () => ({
  resourceType: 'Device' as const,
  identifier: [
    {
      type: {
        coding: [{ system: 'http://hl7.org/fhir/uv/phd/CodeSystem/ContinuaDeviceIdentifiers', code: 'SYSID' }],
      },
      system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680',
      value: '00-00-00-00-00-00-00-00',
    },
  ],
  manufacturer: 'Acme',
  modelNumber: 'X1',
  type: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '65573' }] },
  specialization: [
    { systemType: { coding: [{ system: 'urn:iso:std:iso:11073:10101', code: '528391' }] }, version: '1' },
  ],
});

const paths = (issues: { path: string }[]) => issues.map((i) => i.path).join(' | ');

describe('FHIR profile validator harness', () => {
  it('accepts a valid body weight, glucose and PHD device', async () => {
    expect(errorsOf(await validateAgainst(weight(), `${MES}mesures-fr-observation-body-weight`))).toEqual([]);
    expect(errorsOf(await validateAgainst(glucose(), `${MES}mesures-observation-glucose`))).toEqual([]);
    expect(errorsOf(await validateAgainst(device(), PHD))).toEqual([]);
  });

  it('rejects a missing required element (R4 base: status; R4 vital signs: subject)', async () => {
    const { status: _status, ...noStatus } = weight();
    const issues = errorsOf(await validateAgainst(noStatus, `${MES}mesures-fr-observation-body-weight`));
    expect(paths(issues)).toContain('Observation.status');
    const { subject: _subject, ...noSubject } = weight();
    const issues2 = errorsOf(await validateAgainst(noSubject, `${MES}mesures-fr-observation-body-weight`));
    expect(paths(issues2)).toContain('Observation.subject');
  });

  it('rejects a wrong fixed unit (ANS body weight: kg only)', async () => {
    const w = weight();
    w.valueQuantity = { value: 157.6, unit: 'lb', system: 'http://unitsofmeasure.org', code: '[lb_av]' };
    const issues = errorsOf(await validateAgainst(w, `${MES}mesures-fr-observation-body-weight`));
    expect(issues.length).toBeGreaterThan(0);
    expect(paths(issues)).toContain('Observation.value[x]');
  });

  it('rejects a unit outside UCUM on glucose (ANS: system fixed to UCUM)', async () => {
    const g = glucose();
    g.valueQuantity = { ...g.valueQuantity, system: 'http://example.org/units' };
    const issues = errorsOf(await validateAgainst(g, `${MES}mesures-observation-glucose`));
    expect(paths(issues)).toContain('Observation.value[x].system');
  });

  it('rejects a malformed ANS extension (moment of measurement without a code)', async () => {
    const g = glucose();
    g.extension = [
      {
        url: `${MES}mesures-moment-of-measurement`,
        valueCodeableConcept: { coding: [{ system: 'http://loinc.org' }] } as never,
      },
    ];
    const issues = errorsOf(await validateAgainst(g, `${MES}mesures-observation-glucose`));
    expect(paths(issues)).toContain('code');
  });

  it('rejects a PHD device without its EUI-64 system identifier, model or manufacturer', async () => {
    const d = device();
    const { manufacturer: _m, modelNumber: _n, ...rest } = d;
    const issues = errorsOf(
      await validateAgainst({ ...rest, identifier: [{ system: 'urn:oid:1.2.3', value: 'x' }] }, PHD),
    );
    const text = paths(issues);
    expect(text).toContain('Device.manufacturer');
    expect(text).toContain('Device.modelNumber');
    expect(text).toContain('Device.identifier');
  });
});
