/**
 * The few FHIR R4 data types that Vitalink produces (https://hl7.org/fhir/R4/),
 * as plain JSON shapes. Only the elements we fill are listed.
 */

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

export interface CodeableConcept {
  coding: Coding[];
  text?: string;
}

export interface Quantity {
  value: number;
  unit: string;
  system: string;
  code: string;
}

export interface Reference {
  reference: string;
  identifier?: Identifier;
  display?: string;
}

export interface Identifier {
  system: string;
  value: string;
}

export interface Period {
  start: string;
  end: string;
}

export interface ObservationComponent {
  code: CodeableConcept;
  valueQuantity: Quantity;
}

/** An extension with the value types Vitalink emits. */
export interface Extension {
  url: string;
  valueCodeableConcept?: CodeableConcept;
}

export interface Observation {
  resourceType: 'Observation';
  id: string;
  meta?: { profile?: string[]; source?: string };
  extension?: Extension[];
  identifier?: Identifier[];
  status: 'final';
  category: CodeableConcept[];
  code: CodeableConcept;
  subject: Reference;
  effectiveDateTime?: string;
  effectivePeriod?: Period;
  issued?: string;
  valueQuantity?: Quantity;
  note?: { text: string }[];
  device?: Reference;
  component?: ObservationComponent[];
}

export interface BundleLink {
  relation: 'self' | 'next';
  url: string;
}

/** R4 DetectedIssue (https://hl7.org/fhir/R4/detectedissue.html): an alert (src/fhir/detected-issues.ts). */
export interface DetectedIssue {
  resourceType: 'DetectedIssue';
  id: string;
  identifier: Identifier[];
  status: 'preliminary' | 'final';
  code: CodeableConcept;
  severity: 'high' | 'moderate' | 'low';
  patient: Reference;
  identifiedDateTime: string;
  implicated?: Reference[];
  evidence?: { detail: Reference[] }[];
  detail: string;
  mitigation?: { action: { coding?: Coding[]; text: string }; date: string; author?: Reference }[];
}

export interface BundleEntry {
  fullUrl: string;
  resource: Observation | DetectedIssue;
  search: { mode: 'match' };
}

export interface SearchsetBundle {
  resourceType: 'Bundle';
  id: string;
  meta: { lastUpdated: string };
  type: 'searchset';
  /** On the first page only. */
  total?: number;
  link: BundleLink[];
  entry: BundleEntry[];
}

export type IssueType =
  'invalid' | 'login' | 'forbidden' | 'not-found' | 'exception' | 'not-supported' | 'transient' | 'throttled';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: 'error' | 'fatal'; code: IssueType; diagnostics: string }[];
}

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** HL7 CGM IG (http://hl7.org/fhir/uv/cgm), temporary code system of the CGM summary observations. */
export const CGM_SUMMARY_SYSTEM = 'http://hl7.org/fhir/uv/cgm/CodeSystem/cgm-summary-codes-temporary';
