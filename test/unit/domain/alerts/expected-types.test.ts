import { describe, expect, it } from 'vitest';
import { evaluateRule, expectedTypes } from '../../../../src/domain/alerts/index.ts';

const H = 3_600_000;
const DAY = 24 * H;
/** 2026-11-22T08:00:00Z */
const NOW = Date.UTC(2026, 10, 22, 8, 0, 0);

describe('expectedTypes (no_data)', () => {
  it('lists, sorted and once each, the types sent by assigned devices in the last 30 days', () => {
    const readings = [
      { deviceId: 'oximeter', type: 'spo2', at: NOW - 2 * DAY },
      { deviceId: 'oximeter', type: 'heart_rate', at: NOW - 3 * DAY },
      { deviceId: 'oximeter', type: 'spo2', at: NOW - 1 * DAY },
      { deviceId: 'scale', type: 'body_weight', at: NOW - 1 * DAY },
    ];
    expect(expectedTypes(['oximeter', 'scale'], readings, NOW)).toEqual(['body_weight', 'heart_rate', 'spo2']);
  });

  it('leaves out devices no longer assigned', () => {
    const readings = [
      { deviceId: 'old-scale', type: 'body_weight', at: NOW - DAY },
      { deviceId: 'oximeter', type: 'spo2', at: NOW - DAY },
    ];
    expect(expectedTypes(['oximeter'], readings, NOW)).toEqual(['spo2']);
    expect(expectedTypes([], readings, NOW)).toEqual([]);
  });

  it('leaves out types last sent 30 days ago or earlier: the window is (now − 30 days, now]', () => {
    const readings = [
      { deviceId: 'scale', type: 'body_weight', at: NOW - 30 * DAY },
      { deviceId: 'cuff', type: 'blood_pressure', at: NOW - 30 * DAY + 1 },
    ];
    expect(expectedTypes(['scale', 'cuff'], readings, NOW)).toEqual(['blood_pressure']);
  });

  it('feeds no_data: a scale silent for 3 days raises it, an unassigned one does not', () => {
    const readings = [{ deviceId: 'scale', type: 'body_weight', at: NOW - 3 * DAY }];
    const lastReadingAt = { body_weight: NOW - 3 * DAY };
    const assigned = evaluateRule(
      'no_data',
      { expectedTypes: expectedTypes(['scale'], readings, NOW), lastReadingAt },
      48,
      NOW,
    );
    expect(assigned).toMatchObject({ triggered: true, holdsNow: true, at: NOW - DAY });
    const unassigned = evaluateRule(
      'no_data',
      { expectedTypes: expectedTypes([], readings, NOW), lastReadingAt },
      48,
      NOW,
    );
    expect(unassigned.triggered).toBe(false);
  });
});
