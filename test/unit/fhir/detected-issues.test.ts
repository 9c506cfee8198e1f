import { describe, expect, it } from 'vitest';
import { alertDetectedIssue } from '../../../src/fhir/detected-issues.ts';
import { opaqueId } from '../../../src/fhir/observations.ts';
import type { StoredAlert } from '../../../src/store/alerts.repository.ts';

const OPENED = Date.parse('2026-11-02T10:01:00Z');

function alert(over: Partial<StoredAlert> = {}, state: Partial<StoredAlert['state']> = {}): StoredAlert {
  return {
    id: '42',
    patientId: 'p-1',
    rule: 'tachycardia',
    occurredAt: new Date('2026-11-02T10:00:00Z'),
    eventReadings: null,
    acknowledgedBy: null,
    acknowledgedAction: null,
    acknowledgedNote: null,
    ...over,
    state: {
      status: 'open',
      openedAt: OPENED,
      acknowledgedAt: null,
      resolvedAt: null,
      conditionClearedAt: null,
      readingIds: ['hr-1/a', 'hr-1/b'],
      threshold: 120,
      ...state,
    },
  };
}

describe('alertDetectedIssue', () => {
  it('an open alert recorded before values were kept: preliminary, implicated by reading ids only', () => {
    const issue = alertDetectedIssue(alert());
    expect(issue).toMatchObject({
      resourceType: 'DetectedIssue',
      id: '42',
      status: 'preliminary',
      severity: 'high',
      patient: { reference: 'Patient/p-1' },
      identifiedDateTime: '2026-11-02T10:00:00.000Z',
      detail: 'Alert tachycardia (open), threshold 120 /min, opened 2026-11-02T10:01:00.000Z',
    });
    expect(issue.implicated).toEqual([
      {
        reference: `Observation/${opaqueId('r', 'hr-1', 'a')}`,
        identifier: { system: 'urn:vitalink:device:hr-1', value: 'a' },
      },
      {
        reference: `Observation/${opaqueId('r', 'hr-1', 'b')}`,
        identifier: { system: 'urn:vitalink:device:hr-1', value: 'b' },
      },
    ]);
    expect(issue.mitigation).toBeUndefined();
  });

  it('no_data: no implicated reading, identified when the gap began; critical maps to high, moderate stays', () => {
    const gap = alertDetectedIssue(alert({ rule: 'no_data', eventReadings: [] }, { readingIds: [], threshold: 48 }));
    expect(gap.implicated).toBeUndefined();
    expect(gap.evidence).toBeUndefined();
    expect(gap.severity).toBe('low');
    expect(
      alertDetectedIssue(alert({ rule: 'bp_high' }, { threshold: { systolic: 180, diastolic: 110 } })).detail,
    ).toContain('threshold 180/110 mm[Hg]');
    expect(alertDetectedIssue(alert({ rule: 'hypoglycemia' }, { threshold: 54 })).severity).toBe('high');
    expect(alertDetectedIssue(alert({ rule: 'fever' }, { threshold: 38 })).severity).toBe('moderate');
  });

  it('acknowledged: final, the action as a mitigation, its author when a practitioner; without an action, text only', () => {
    const acked = { status: 'acknowledged' as const, acknowledgedAt: Date.parse('2026-11-02T10:30:00Z') };
    const byPractitioner = alertDetectedIssue(
      alert(
        { acknowledgedBy: 'practitioner:dr-a', acknowledgedAction: 'no_action', acknowledgedNote: 'private' },
        acked,
      ),
    );
    expect(byPractitioner.status).toBe('final');
    expect(byPractitioner.mitigation).toEqual([
      {
        action: {
          coding: [{ system: 'urn:vitalink:alert-action', code: 'no_action', display: 'No action' }],
          text: 'No action',
        },
        date: '2026-11-02T10:30:00.000Z',
        author: { reference: 'Practitioner/dr-a' },
      },
    ]);
    expect(JSON.stringify(byPractitioner)).not.toContain('private');
    const byOldClient = alertDetectedIssue(alert({ acknowledgedBy: 'token:3' }, acked));
    expect(byOldClient.mitigation).toEqual([
      { action: { text: 'Acknowledged (no action stated)' }, date: '2026-11-02T10:30:00.000Z' },
    ]);
  });
});
