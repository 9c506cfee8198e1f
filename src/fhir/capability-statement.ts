/**
 * The CapabilityStatement of GET /fhir/metadata (https://hl7.org/fhir/R4/capabilitystatement.html):
 * what this FHIR facade serves, so that a client can find out without reading the README.
 */

export interface CapabilityStatement {
  resourceType: 'CapabilityStatement';
  status: 'active';
  date: string;
  kind: 'instance';
  software: { name: string };
  implementation: { description: string; url: string };
  fhirVersion: '4.0.1';
  format: string[];
  rest: {
    mode: 'server';
    security: { description: string };
    resource: {
      type: string;
      interaction: { code: 'read' | 'search-type' }[];
      searchParam?: {
        name: string;
        type: 'reference' | 'token' | 'date' | 'number' | 'string';
        documentation: string;
      }[];
    }[];
  }[];
}

/** When this statement last changed (the date of the DetectedIssue resource). */
const STATEMENT_DATE = '2026-12-07';

export function capabilityStatement(baseUrl: string): CapabilityStatement {
  const count = { name: '_count', type: 'number', documentation: 'page size, 1 to 1000, default 50' } as const;
  const patient = { name: 'patient', type: 'reference', documentation: 'required: Patient/{id} or {id}' } as const;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: STATEMENT_DATE,
    kind: 'instance',
    software: { name: 'Vitalink' },
    implementation: { description: 'Vitalink remote patient monitoring, FHIR R4 facade', url: `${baseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: {
          description:
            "Authorization: Bearer with a clinician API token; the caller's patients only (any other is a 404).",
        },
        resource: [
          {
            type: 'Observation',
            interaction: [{ code: 'search-type' }],
            searchParam: [
              patient,
              { name: 'code', type: 'token', documentation: 'comma-separated system|code or code' },
              { name: 'date', type: 'date', documentation: 'repeatable, prefixes eq, ge, gt, le, lt' },
              count,
            ],
          },
          { type: 'Patient', interaction: [{ code: 'read' }], searchParam: [] },
          { type: 'Device', interaction: [{ code: 'read' }] },
          {
            type: 'DetectedIssue',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [patient, count],
          },
        ],
      },
    ],
  };
}
