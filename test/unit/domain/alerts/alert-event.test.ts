import { describe, expect, it } from 'vitest';
import { actorName, eventReadings, type HeldReading } from '../../../../src/domain/alerts/index.ts';

const held = (r: Partial<HeldReading> & { id: string; deviceId: string; type: string; at: number }): HeldReading => ({
  value: null,
  systolic: null,
  diastolic: null,
  ...r,
});

describe('eventReadings', () => {
  const readings = new Map<string, HeldReading>([
    [
      'hr-1/a',
      held({ id: 'a', deviceId: 'hr-1', type: 'heart_rate', at: Date.parse('2026-11-02T10:00:00Z'), value: 131 }),
    ],
    [
      'hr-1/b',
      held({ id: 'b', deviceId: 'hr-1', type: 'heart_rate', at: Date.parse('2026-11-02T10:05:00Z'), value: 135 }),
    ],
    [
      'cuff/c',
      held({
        id: 'c',
        deviceId: 'cuff',
        type: 'blood_pressure',
        at: Date.parse('2026-11-02T08:00:00Z'),
        systolic: 182,
        diastolic: 95,
      }),
    ],
  ]);

  it('gives each reading of the occurrence with its time and value in the stored unit, in the given order', () => {
    expect(eventReadings(['hr-1/a', 'hr-1/b'], readings)).toEqual([
      {
        deviceId: 'hr-1',
        readingId: 'a',
        type: 'heart_rate',
        at: '2026-11-02T10:00:00.000Z',
        unit: '/min',
        value: 131,
      },
      {
        deviceId: 'hr-1',
        readingId: 'b',
        type: 'heart_rate',
        at: '2026-11-02T10:05:00.000Z',
        unit: '/min',
        value: 135,
      },
    ]);
    expect(eventReadings(['cuff/c'], readings)).toEqual([
      {
        deviceId: 'cuff',
        readingId: 'c',
        type: 'blood_pressure',
        at: '2026-11-02T08:00:00.000Z',
        unit: 'mm[Hg]',
        systolic: 182,
        diastolic: 95,
      },
    ]);
  });

  it('no_data records none; a reading not held makes it unknown (null), never half an event', () => {
    expect(eventReadings([], readings)).toEqual([]);
    expect(eventReadings(['hr-1/a', 'hr-1/zz'], readings)).toBeNull();
  });
});

describe('actorName', () => {
  it('names the practitioner when the caller acts as one, else its token, else the bootstrap admin token', () => {
    expect(actorName({ tokenId: '7', practitionerId: 'dr-a' })).toBe('practitioner:dr-a');
    expect(actorName({ tokenId: '7', practitionerId: null })).toBe('token:7');
    expect(actorName({ tokenId: '7' })).toBe('token:7');
    expect(actorName({ tokenId: null })).toBe('admin-token');
  });
});
