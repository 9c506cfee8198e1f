/**
 * The CapabilityStatement of GET /fhir/metadata (https://hl7.org/fhir/R4/capabilitystatement.html):
 * exactly what this FHIR facade serves, so that a client can find out without reading the README.
 *
 * One entry per resource (or per feature of a resource) in CAPABILITY_RESOURCES; entries
 * of the same type are merged (interactions, search parameters and operations
 * concatenated), so that a feature that adds an operation to a resource (the bulk
 * export's Patient/$export) and the one that adds its read stay two separate entries.
 * To add a resource: declare a `CapabilityResource` (in this file or beside its
 * builder) and put it in the list; `resourceCapability` fills the defaults.
 */
import { OBSERVATION_SEARCH_DOCUMENTATION, OBSERVATION_SEARCH_PARAM_SPECS } from './search-params.ts';

export type Interaction = 'read' | 'search-type';
export type SearchParamType = 'reference' | 'token' | 'date' | 'number' | 'string' | 'special';

export interface CapabilitySearchParam {
  name: string;
  type: SearchParamType;
  definition?: string;
  documentation: string;
}

export interface CapabilityOperation {
  name: string;
  definition: string;
  documentation?: string;
}

/** One resource type's entry in rest.resource. */
export interface CapabilityResource {
  type: string;
  profile?: string;
  supportedProfile?: string[];
  documentation?: string;
  /** Absent for a type served by an operation only (FHIR JSON has no empty arrays). */
  interaction?: { code: Interaction }[];
  searchParam?: CapabilitySearchParam[];
  operation?: CapabilityOperation[];
}

export interface CapabilityStatement {
  resourceType: 'CapabilityStatement';
  status: 'active';
  date: string;
  publisher: string;
  kind: 'instance';
  instantiates: string[];
  software: { name: string };
  implementation: { description: string; url: string };
  fhirVersion: '4.0.1';
  format: string[];
  rest: {
    mode: 'server';
    documentation: string;
    security: { description: string };
    resource: CapabilityResource[];
  }[];
}

/** When this statement last changed. */
const STATEMENT_DATE = '2026-12-07';

/** A resource entry from its type and what it offers. */
export function resourceCapability(entry: {
  type: string;
  interactions?: Interaction[];
  searchParams?: CapabilitySearchParam[];
  operations?: CapabilityOperation[];
  profile?: string;
  supportedProfiles?: string[];
  documentation?: string;
}): CapabilityResource {
  return {
    type: entry.type,
    ...(entry.profile ? { profile: entry.profile } : {}),
    ...(entry.supportedProfiles?.length ? { supportedProfile: entry.supportedProfiles } : {}),
    ...(entry.documentation ? { documentation: entry.documentation } : {}),
    ...(entry.interactions?.length ? { interaction: entry.interactions.map((code) => ({ code })) } : {}),
    ...(entry.searchParams?.length ? { searchParam: entry.searchParams } : {}),
    ...(entry.operations?.length ? { operation: entry.operations } : {}),
  };
}

const SEARCH_DEFINITION = 'http://hl7.org/fhir/SearchParameter/';

const observationCapability = resourceCapability({
  type: 'Observation',
  interactions: ['read', 'search-type'],
  documentation: OBSERVATION_SEARCH_DOCUMENTATION,
  searchParams: Object.entries(OBSERVATION_SEARCH_PARAM_SPECS).map(([name, p]) => ({
    name,
    type: p.type,
    ...(p.definition ? { definition: `${SEARCH_DEFINITION}${p.definition}` } : {}),
    documentation: p.documentation,
  })),
});

const detectedIssueCapability = resourceCapability({
  type: 'DetectedIssue',
  interactions: ['read', 'search-type'],
  documentation: 'Alerts; search by patient only, newest first.',
  searchParams: [
    {
      name: 'patient',
      type: 'reference',
      definition: `${SEARCH_DEFINITION}DetectedIssue-patient`,
      documentation: 'required: Patient/{id} or {id}',
    },
    { name: '_count', type: 'number', documentation: 'page size, 1 to 1000, default 50' },
  ],
});

const BULK = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/';
const EXPORT_DOCUMENTATION =
  'FHIR Bulk Data kick-off (Prefer: respond-async): _type (Observation) and _since; NDJSON files, one per resource type.';

/** Bulk export of one patient (src/fhir/bulk-export.ts): merged with the Patient read entry when there is one. */
const patientExportCapability = resourceCapability({
  type: 'Patient',
  operations: [{ name: 'export', definition: `${BULK}patient-export`, documentation: EXPORT_DOCUMENTATION }],
});

/** Patient read (issue #15, item 1): FR Core patient, with the INS only when the identity is qualified. */
const patientReadCapability = resourceCapability({
  type: 'Patient',
  interactions: ['read'],
  supportedProfiles: [
    'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient',
    'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins',
  ],
  documentation: 'FR Core patient (fr-core-patient; fr-core-patient-ins when the identity is qualified).',
});

/** A care team as a Group, for its bulk export only. */
const groupExportCapability = resourceCapability({
  type: 'Group',
  documentation: 'A care team (its id); the patients enrolled with it now that the caller may see.',
  operations: [{ name: 'export', definition: `${BULK}group-export`, documentation: EXPORT_DOCUMENTATION }],
});

/** Every resource entry, in type order; entries of one type are merged. */
export const CAPABILITY_RESOURCES: readonly CapabilityResource[] = [
  detectedIssueCapability,
  // Device read (issue #15, PHD device): add its entry here.
  groupExportCapability,
  observationCapability,
  patientExportCapability,
  patientReadCapability,
];

function merged(entries: readonly CapabilityResource[]): CapabilityResource[] {
  const byType = new Map<string, CapabilityResource>();
  for (const e of entries) {
    const seen = byType.get(e.type);
    if (!seen) {
      byType.set(e.type, structuredClone(e));
      continue;
    }
    for (const i of e.interaction ?? []) {
      seen.interaction ??= [];
      if (!seen.interaction.some((s) => s.code === i.code)) seen.interaction.push(i);
    }
    if (e.searchParam) seen.searchParam = [...(seen.searchParam ?? []), ...e.searchParam];
    if (e.operation) seen.operation = [...(seen.operation ?? []), ...e.operation];
    if (e.profile) seen.profile = e.profile;
    if (e.supportedProfile) seen.supportedProfile = [...(seen.supportedProfile ?? []), ...e.supportedProfile];
    if (e.documentation) {
      seen.documentation = seen.documentation ? `${seen.documentation} ${e.documentation}` : e.documentation;
    }
  }
  return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
}

export function capabilityStatement(baseUrl: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: STATEMENT_DATE,
    publisher: 'Vitalink',
    kind: 'instance',
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
    software: { name: 'Vitalink' },
    implementation: { description: 'Vitalink remote patient monitoring, FHIR R4 facade', url: `${baseUrl}/fhir` },
    fhirVersion: '4.0.1',
    // JSON only: _format or Accept asking for anything else is a 406.
    format: ['json', 'application/fhir+json', 'application/json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'JSON only (_format or Accept asking for XML or Turtle: 406). Unsupported search parameters are refused with a 400 OperationOutcome unless the request sends Prefer: handling=lenient, which ignores them (and leaves them out of the self link). _summary: count (Bundle.total only) and false.',
        security: {
          description:
            "Authorization: Bearer with a clinician API token; the caller's patients only (any other is a 404).",
        },
        resource: merged(CAPABILITY_RESOURCES),
      },
    ],
  };
}
