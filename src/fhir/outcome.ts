/** FHIR errors: an OperationOutcome (https://hl7.org/fhir/R4/operationoutcome.html) with the HTTP status. */
import type { IssueType, OperationOutcome } from './types.ts';

export function operationOutcome(code: IssueType, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] };
}

/** The issue type of an HTTP error status. */
export function issueTypeOf(status: number): IssueType {
  switch (status) {
    case 400:
    case 422:
      return 'invalid';
    case 401:
      return 'login';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 429:
      return 'throttled';
    case 503:
      return 'transient';
    default:
      return 'exception';
  }
}
