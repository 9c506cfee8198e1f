/**
 * README, "Commands": assignments of one device to the same patient that overlap or touch
 * end to end merge into one; an overlap with another patient's stays refused (an
 * open-ended one that began earlier is ended, as before). Checked on the stored rows.
 */
import { describe, expect, it } from 'vitest';
import { addPatient, assignDevice } from '../../src/actions/provisioning.ts';
import { AppError } from '../../src/errors.ts';
import { useTestDatabase } from '../fixture.ts';

const t = useTestDatabase();

const at = (iso: string) => new Date(iso);

async function device(id: string, ...patients: string[]): Promise<void> {
  await t.provisionDevice(id, null);
  for (const p of patients) await addPatient(t.db, { id: p });
}

async function rows(deviceId: string): Promise<[string, string, string | null][]> {
  const { rows } = await t.query<{ patient_id: string; valid_from: Date; valid_to: Date | null }>(
    'SELECT patient_id, valid_from, valid_to FROM device_assignments WHERE device_id = $1 ORDER BY valid_from',
    [deviceId],
  );
  return rows.map((r) => [r.patient_id, r.valid_from.toISOString(), r.valid_to?.toISOString() ?? null]);
}

describe('assignDevice, same patient', () => {
  it('extends an open-ended assignment backwards (--from earlier, no --to)', async () => {
    await device('am-1', 'am-p1');
    const first = await assignDevice(t.db, {
      deviceId: 'am-1',
      patientId: 'am-p1',
      from: at('2026-12-07T10:00:00.123Z'),
      to: null,
    });
    const back = await assignDevice(t.db, {
      deviceId: 'am-1',
      patientId: 'am-p1',
      from: at('2026-11-22T07:00:00Z'),
      to: null,
    });
    expect(back.assignment.id).toBe(first.assignment.id);
    expect(back.merged.map((m) => m.validFrom.toISOString())).toEqual(['2026-12-07T10:00:00.123Z']);
    expect(back.ended).toBeNull();
    expect(await rows('am-1')).toEqual([['am-p1', '2026-11-22T07:00:00.000Z', null]]);
  });

  it('extends it backwards when --to falls inside it (no need to copy its start to the millisecond): the end stays open', async () => {
    await device('am-2', 'am-p2');
    await assignDevice(t.db, { deviceId: 'am-2', patientId: 'am-p2', from: at('2026-12-07T10:00:00.123Z'), to: null });
    await assignDevice(t.db, {
      deviceId: 'am-2',
      patientId: 'am-p2',
      from: at('2026-11-22T07:00:00Z'),
      to: at('2026-12-07T11:00:00Z'),
    });
    expect(await rows('am-2')).toEqual([['am-p2', '2026-11-22T07:00:00.000Z', null]]);
  });

  it('joins adjacent intervals, and bridges two with the one between them', async () => {
    await device('am-3', 'am-p3');
    await assignDevice(t.db, {
      deviceId: 'am-3',
      patientId: 'am-p3',
      from: at('2026-01-01T00:00:00Z'),
      to: at('2026-01-02T00:00:00Z'),
    });
    await assignDevice(t.db, {
      deviceId: 'am-3',
      patientId: 'am-p3',
      from: at('2026-01-03T00:00:00Z'),
      to: at('2026-01-04T00:00:00Z'),
    });
    expect(await rows('am-3')).toHaveLength(2);
    const bridge = await assignDevice(t.db, {
      deviceId: 'am-3',
      patientId: 'am-p3',
      from: at('2026-01-02T00:00:00Z'),
      to: at('2026-01-03T00:00:00Z'),
    });
    expect(bridge.merged).toHaveLength(2);
    expect(await rows('am-3')).toEqual([['am-p3', '2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z']]);
    // Adjacent at the end: extends forwards.
    await assignDevice(t.db, {
      deviceId: 'am-3',
      patientId: 'am-p3',
      from: at('2026-01-04T00:00:00Z'),
      to: at('2026-01-05T00:00:00Z'),
    });
    expect(await rows('am-3')).toEqual([['am-p3', '2026-01-01T00:00:00.000Z', '2026-01-05T00:00:00.000Z']]);
  });

  it('an interval inside an assignment of the patient changes nothing', async () => {
    await device('am-4', 'am-p4');
    await assignDevice(t.db, { deviceId: 'am-4', patientId: 'am-p4', from: at('2026-01-01T00:00:00Z'), to: null });
    const inside = await assignDevice(t.db, {
      deviceId: 'am-4',
      patientId: 'am-p4',
      from: at('2026-02-01T00:00:00Z'),
      to: at('2026-03-01T00:00:00Z'),
    });
    expect(inside.merged).toHaveLength(1);
    expect(await rows('am-4')).toEqual([['am-p4', '2026-01-01T00:00:00.000Z', null]]);
  });
});

describe('assignDevice, another patient', () => {
  it('refuses an overlap with another patient, saying which, and changes nothing', async () => {
    await device('am-5', 'am-p5a', 'am-p5b');
    await assignDevice(t.db, {
      deviceId: 'am-5',
      patientId: 'am-p5a',
      from: at('2026-01-01T00:00:00Z'),
      to: at('2026-01-10T00:00:00Z'),
    });
    const refused = await assignDevice(t.db, {
      deviceId: 'am-5',
      patientId: 'am-p5b',
      from: at('2026-01-05T00:00:00Z'),
      to: at('2026-01-20T00:00:00Z'),
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('conflict');
    expect((refused as AppError).message).toBe(
      'device am-5 is assigned to patient am-p5a from 2026-01-01T00:00:00.000Z to 2026-01-10T00:00:00.000Z, which overlaps ' +
        '2026-01-05T00:00:00.000Z to 2026-01-20T00:00:00.000Z for patient am-p5b: a device is with one patient at a time; ' +
        'choose an interval outside it, or end that assignment first',
    );
    expect(await rows('am-5')).toEqual([['am-p5a', '2026-01-01T00:00:00.000Z', '2026-01-10T00:00:00.000Z']]);
  });

  it('refuses a merge that would cover another patient, and leaves both as they were', async () => {
    await device('am-6', 'am-p6a', 'am-p6b');
    await assignDevice(t.db, {
      deviceId: 'am-6',
      patientId: 'am-p6a',
      from: at('2026-01-01T00:00:00Z'),
      to: at('2026-01-02T00:00:00Z'),
    });
    await assignDevice(t.db, {
      deviceId: 'am-6',
      patientId: 'am-p6b',
      from: at('2026-01-02T00:00:00Z'),
      to: at('2026-01-03T00:00:00Z'),
    });
    const refused = await assignDevice(t.db, {
      deviceId: 'am-6',
      patientId: 'am-p6a',
      from: at('2026-01-01T12:00:00Z'),
      to: at('2026-01-05T00:00:00Z'),
    }).catch((e: unknown) => e);
    expect((refused as AppError).code).toBe('conflict');
    expect((refused as AppError).message).toContain('assigned to patient am-p6b');
    expect(await rows('am-6')).toEqual([
      ['am-p6a', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      ['am-p6b', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'],
    ]);
  });

  it("adjacent to another patient's assignment is not an overlap; a hand-over still ends the open-ended one", async () => {
    await device('am-7', 'am-p7a', 'am-p7b');
    await assignDevice(t.db, { deviceId: 'am-7', patientId: 'am-p7a', from: at('2026-01-01T00:00:00Z'), to: null });
    const handover = await assignDevice(t.db, {
      deviceId: 'am-7',
      patientId: 'am-p7b',
      from: at('2026-02-01T00:00:00Z'),
      to: null,
    });
    expect(handover.ended?.patientId).toBe('am-p7a');
    expect(handover.merged).toEqual([]);
    // Back to the first patient from later: another hand-over, not a merge across am-p7b's time.
    await assignDevice(t.db, { deviceId: 'am-7', patientId: 'am-p7a', from: at('2026-03-01T00:00:00Z'), to: null });
    expect(await rows('am-7')).toEqual([
      ['am-p7a', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
      ['am-p7b', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
      ['am-p7a', '2026-03-01T00:00:00.000Z', null],
    ]);
  });
});
