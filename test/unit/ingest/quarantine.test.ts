import { describe, expect, it } from 'vitest';
import type { Rejection, ValidReading } from '../../../src/domain/reading.ts';
import { quarantineMessage } from '../../../src/ingest/quarantine.ts';

const reading = (id: string, source: unknown = { id }) => ({ readingId: id, source }) as unknown as ValidReading;

const message = (readings: ValidReading[], rejections: Rejection[] = []) => ({
  deviceId: 'dev-1',
  receivedAt: 1_000,
  readings,
  rejections,
  extra: 'kept',
});

describe('quarantineMessage (the policy for data PostgreSQL refuses)', () => {
  it('turns every reading into an invalid_reading rejection keeping its raw content, on a class 22 error', () => {
    const original = message([reading('a', { id: 'a', value: 1 }), reading('b')]);
    const replacement = quarantineMessage(original, Object.assign(new Error('bad'), { code: '22P02' }));
    expect(replacement?.readings).toEqual([]);
    expect(replacement?.rejections.map((r) => [r.readingId, r.reason, r.raw.toString()])).toEqual([
      ['a', 'invalid_reading', '{"id":"a","value":1}'],
      ['b', 'invalid_reading', '{"id":"b"}'],
    ]);
    expect(replacement?.rejections[0].detail).toContain('database error 22P02');
    expect(replacement).toMatchObject({ deviceId: 'dev-1', receivedAt: 1_000, extra: 'kept' });
    expect(original.readings).toHaveLength(2);
  });

  it('keeps the message’s own rejections first, with their details made printable', () => {
    const own: Rejection = { readingId: 'x', reason: 'unit', detail: 'bad\u0000unit', raw: Buffer.from('{}') };
    const replacement = quarantineMessage(message([reading('a')], [own]), { code: '22021' });
    expect(replacement?.rejections.map((r) => r.readingId)).toEqual(['x', 'a']);
    expect(replacement?.rejections[0].detail).toBe('bad\uFFFDunit');
  });

  it('gives no replacement for errors that are not data errors', () => {
    const m = message([reading('a')]);
    expect(quarantineMessage(m, Object.assign(new Error('check'), { code: '23514' }))).toBeUndefined();
    expect(quarantineMessage(m, new Error('no code'))).toBeUndefined();
    expect(quarantineMessage(m, { code: 22 })).toBeUndefined();
    expect(quarantineMessage(m, undefined)).toBeUndefined();
  });
});
