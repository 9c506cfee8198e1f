/**
 * Alerts as FHIR R4 DetectedIssue resources (README, "FHIR R4"): a DetectedIssue is
 * "an actual or potential clinical issue" with the resources that implicate it,
 * evidence, and mitigations, which is what an alert is here: the rule (code), its
 * urgency (severity), the event time (identifiedDateTime), the Observations of the
 * readings that raised it (implicated and evidence; ids as GET /fhir/Observation
 * gives them, each with the reading's identifier and its value in `display`), and
 * the acknowledgement as a mitigation (action, date, author when a practitioner).
 *
 * status: `preliminary` while the alert is open (no clinician has looked at it),
 * `final` once acknowledged or resolved (R4 ObservationStatus codes).
 */
import { ACKNOWLEDGE_ACTIONS, type AcknowledgeAction, alertRule, isRuleKey } from '../domain/alerts/index.ts';
import type { AlertSeverity } from '../domain/alerts/index.ts';
import { isReadingType, READING_TYPES } from '../domain/reading-types.ts';
import type { StoredAlert } from '../store/alerts.repository.ts';
import { opaqueId } from './observations.ts';
import type { DetectedIssue, Reference } from './types.ts';

/** The code system of Vitalink's alert rules (indicators.md, "Alerts"). */
export const ALERT_RULE_SYSTEM = 'urn:vitalink:alert-rule';
/** The code system of the actions taken on acknowledgement. */
export const ALERT_ACTION_SYSTEM = 'urn:vitalink:alert-action';
/** Identifier system of alerts: the value is the alert's id in the API. */
export const ALERT_ID_SYSTEM = 'urn:vitalink:alert';

const SEVERITY: Readonly<Record<AlertSeverity, DetectedIssue['severity']>> = {
  critical: 'high',
  high: 'high',
  moderate: 'moderate',
  low: 'low',
};

const ACTION_DISPLAY: Readonly<Record<AcknowledgeAction, string>> = {
  called_patient: 'Called the patient',
  adjusted_treatment: 'Adjusted the treatment',
  sent_to_consultation: 'Sent to a consultation',
  no_action: 'No action',
};

const TYPE_TEXT = new Map<string, string>(READING_TYPES.map((t) => [t.type, t.observation.text]));

function observationReference(deviceId: string, readingId: string, display?: string): Reference {
  return {
    reference: `Observation/${opaqueId('r', deviceId, readingId)}`,
    identifier: { system: `urn:vitalink:device:${deviceId}`, value: readingId },
    ...(display ? { display } : {}),
  };
}

/** The Observations that raised the alert: with their values when the alert recorded them. */
function implicated(a: StoredAlert): Reference[] {
  if (a.eventReadings !== null) {
    return a.eventReadings.map((r) => {
      const value = r.value !== undefined ? `${r.value}` : `${r.systolic ?? '?'}/${r.diastolic ?? '?'}`;
      const what = isReadingType(r.type) ? (TYPE_TEXT.get(r.type) ?? r.type) : r.type;
      return observationReference(r.deviceId, r.readingId, `${what} ${value} ${r.unit} at ${r.at}`);
    });
  }
  return a.state.readingIds.map((id) => {
    const slash = id.indexOf('/');
    return observationReference(id.slice(0, slash), id.slice(slash + 1));
  });
}

export function alertDetectedIssue(a: StoredAlert): DetectedIssue {
  const rule = isRuleKey(a.rule) ? alertRule(a.rule) : undefined;
  const refs = implicated(a);
  const threshold = a.state.threshold;
  const thresholdText = typeof threshold === 'number' ? `${threshold}` : `${threshold.systolic}/${threshold.diastolic}`;
  const issue: DetectedIssue = {
    resourceType: 'DetectedIssue',
    id: a.id,
    identifier: [{ system: ALERT_ID_SYSTEM, value: a.id }],
    status: a.state.status === 'open' ? 'preliminary' : 'final',
    code: {
      coding: [{ system: ALERT_RULE_SYSTEM, code: a.rule }],
      text: rule?.description ?? a.rule,
    },
    severity: SEVERITY[rule?.severity ?? 'low'],
    patient: { reference: `Patient/${a.patientId}` },
    identifiedDateTime: new Date(a.occurredAt ?? a.state.openedAt).toISOString(),
    detail: [
      `Alert ${a.rule} (${a.state.status})`,
      `threshold ${thresholdText}${rule ? ` ${rule.unit}` : ''}`,
      `opened ${new Date(a.state.openedAt).toISOString()}`,
    ].join(', '),
  };
  if (refs.length > 0) {
    issue.implicated = refs;
    issue.evidence = [{ detail: refs }];
  }
  if (a.state.acknowledgedAt !== null) {
    const action = a.acknowledgedAction;
    const practitioner = a.acknowledgedBy?.startsWith('practitioner:')
      ? a.acknowledgedBy.slice('practitioner:'.length)
      : undefined;
    issue.mitigation = [
      {
        action:
          action && (ACKNOWLEDGE_ACTIONS as readonly string[]).includes(action)
            ? {
                coding: [{ system: ALERT_ACTION_SYSTEM, code: action, display: ACTION_DISPLAY[action] }],
                text: ACTION_DISPLAY[action],
              }
            : { text: 'Acknowledged (no action stated)' },
        date: new Date(a.state.acknowledgedAt).toISOString(),
        ...(practitioner ? { author: { reference: `Practitioner/${practitioner}` } } : {}),
      },
    ];
  }
  return issue;
}
