import { describe, expect, it } from 'vitest';
import type { Rejection, ValidReading } from '../../../src/domain/reading.ts';
import { decodeMessage } from '../../../src/ingest/decode.ts';
import { quarantineMessage } from '../../../src/ingest/quarantine.ts';
import { readingResults } from '../../../src/ingest/reading-results.ts';
import type { MessageOutcome } from '../../../src/store/reading-sink.ts';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const decode = (payload: unknown) =>
  decodeMessage(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), {
    now: NOW,
    maxAgeMs: 90 * 86_400_000,
    maxFutureMs: 300_000,
  });
const hr = (id: string, value = 70) => ({ id, type: 'heart_rate', at: NOW - 60_000, value, unit: '/min' });

const storageRejection = (id: string, reason: 'conflict' | 'unassigned'): Rejection => ({
  readingId: id,
  reason,
  detail: `${reason} of ${id}`,
  raw: Buffer.from('{}'),
});

describe('readingResults (the HTTPS answer, one result per reading in the order sent)', () => {
  it('puts validation rejections back in their places among the valid readings', () => {
    const message = decode({ readings: [hr('a'), { ...hr('b'), unit: 'kg' }, hr('c'), hr('d'), { id: 'e' }] });
    const outcome: MessageOutcome = {
      stored: 1,
      duplicates: 1,
      rejections: [...message.rejections, storageRejection('d', 'conflict')],
      readings: ['stored', 'duplicate', 'rejected'],
    };
    expect(readingResults(message, outcome).map((r) => [r.id, r.outcome, r.reason])).toEqual([
      ['a', 'stored', null],
      ['b', 'rejected', 'unit'],
      ['c', 'duplicate', null],
      ['d', 'rejected', 'conflict'],
      ['e', 'rejected', 'invalid_reading'],
    ]);
  });

  it('one result with id null for a body refused whole', () => {
    const message = decode('not json');
    const outcome: MessageOutcome = { stored: 0, duplicates: 0, rejections: message.rejections, readings: [] };
    expect(readingResults(message, outcome)).toEqual([
      { id: null, outcome: 'rejected', reason: 'invalid_json', detail: message.rejections[0].detail },
    ]);
  });

  it('a message quarantined by the store (no statuses): each valid reading takes its invalid_reading rejection', () => {
    const message = decode({ readings: [hr('a'), { ...hr('b'), unit: 'kg' }, hr('c')] });
    const replaced = quarantineMessage(
      { deviceId: 'd', receivedAt: NOW, readings: message.readings as ValidReading[], rejections: message.rejections },
      { code: '22P02' },
    )!;
    const outcome: MessageOutcome = { stored: 0, duplicates: 0, rejections: replaced.rejections };
    expect(readingResults(message, outcome).map((r) => [r.id, r.outcome, r.reason])).toEqual([
      ['a', 'rejected', 'invalid_reading'],
      ['b', 'rejected', 'unit'],
      ['c', 'rejected', 'invalid_reading'],
    ]);
  });
});
