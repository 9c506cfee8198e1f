import { afterEach, describe, expect, it } from 'vitest';
import type { Rejection } from '../../../src/domain/reading.ts';
import { createIngest, type Ingest } from '../../../src/ingest/ingest.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics/metrics.ts';
import type { MessageOutcome, MessageToStore, ReadingSink } from '../../../src/store/reading-sink.ts';

const NOW = Date.parse('2026-11-22T08:00:00Z');
const log = createLogger('silent');

/** An in-memory sink: every reading id stored once, a second one is a duplicate. */
class MemorySink implements ReadingSink {
  readonly stored = new Set<string>();
  readonly batches: MessageToStore[][] = [];
  fail: Error | undefined;
  async write(messages: readonly MessageToStore[]): Promise<MessageOutcome[]> {
    this.batches.push([...messages]);
    if (this.fail) throw this.fail;
    return messages.map((m) => {
      const outcome: MessageOutcome = { stored: 0, duplicates: 0, rejections: m.rejections.slice() };
      for (const r of m.readings) {
        const key = `${m.deviceId}/${r.readingId}`;
        if (this.stored.has(key)) outcome.duplicates++;
        else {
          this.stored.add(key);
          outcome.stored++;
        }
      }
      return outcome;
    });
  }
}

const ingests: Ingest[] = [];

function setup(options: { queueMaxReadings?: number; maxWaitMs?: number } = {}) {
  const sink = new MemorySink();
  const metrics = createMetrics();
  const published: { deviceId: string; rejections: Rejection[] }[] = [];
  const ingest = createIngest({
    sink,
    isRetryable: () => false,
    batch: {
      maxRows: 100,
      maxWaitMs: options.maxWaitMs ?? 0,
      maxInflight: 1,
      queueMaxReadings: options.queueMaxReadings ?? 10_000,
      queueMaxBytes: 1_000_000,
    },
    readingMaxAgeMs: 90 * 86_400_000,
    metrics,
    log,
    onRejections: (deviceId, rejections) => published.push({ deviceId, rejections }),
  });
  ingests.push(ingest);
  return { sink, metrics, published, ingest };
}

function submit(ingest: Ingest, deviceId: string, body: unknown) {
  return new Promise<{ error: Error | null; outcome?: MessageOutcome }>((resolve) => {
    ingest.submit(deviceId, Buffer.from(JSON.stringify(body)), NOW, (error, outcome) => resolve({ error, outcome }));
  });
}

const heartRate = (id: string) => ({ id, type: 'heart_rate', at: NOW - 60_000, value: 70, unit: '/min' });

afterEach(async () => {
  for (const i of ingests.splice(0)) await i.stop(0);
});

describe('createIngest: the path of a message', () => {
  it('replies with the outcome after the sink committed, and counts it', async () => {
    const { sink, metrics, ingest, published } = setup();
    const first = await submit(ingest, 'dev-1', { readings: [heartRate('r1'), heartRate('r2')] });
    expect(first).toEqual({ error: null, outcome: { stored: 2, duplicates: 0, rejections: [] } });
    expect([...sink.stored]).toEqual(['dev-1/r1', 'dev-1/r2']);
    const again = await submit(ingest, 'dev-1', heartRate('r1'));
    expect(again.outcome).toEqual({ stored: 0, duplicates: 1, rejections: [] });
    expect((await metrics.readingsStored.get()).values[0].value).toBe(2);
    expect((await metrics.readingsDuplicate.get()).values[0].value).toBe(1);
    expect((await metrics.messagesReceived.get()).values[0].value).toBe(2);
    expect((await metrics.readingsReceived.get()).values[0].value).toBe(3);
    expect(published).toEqual([]);
  });

  it('hands the rejections of a committed message to onRejections, with the device id', async () => {
    const { metrics, ingest, published, sink } = setup();
    const { outcome } = await submit(ingest, 'dev-2', {
      readings: [heartRate('ok'), { ...heartRate('bad'), unit: 'kg' }],
    });
    expect(outcome?.stored).toBe(1);
    expect(published.map((p) => [p.deviceId, p.rejections.map((r) => [r.readingId, r.reason])])).toEqual([
      ['dev-2', [['bad', 'unit']]],
    ]);
    expect(sink.batches[0][0].rejections.map((r) => r.reason)).toEqual(['unit']);
    const rejected = (await metrics.readingsRejected.get()).values.find((v) => v.labels.reason === 'unit');
    expect(rejected?.value).toBe(1);
  });

  it('replies with the error when the message cannot be stored', async () => {
    const { ingest, sink } = setup();
    sink.fail = Object.assign(new Error('check violation'), { code: '23514' });
    const { error, outcome } = await submit(ingest, 'dev-3', heartRate('r1'));
    expect(error?.message).toBe('check violation');
    expect(outcome).toBeUndefined();
  });

  it('records the readings of a message refused as data as rejections (quarantine) and replies with them', async () => {
    const { ingest, sink, published } = setup();
    sink.fail = Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    const written: number[] = [];
    const write = sink.write.bind(sink);
    sink.write = async (messages) => {
      written.push(messages[0].readings.length);
      if (messages[0].readings.length === 0) sink.fail = undefined;
      return write(messages);
    };
    const { error, outcome } = await submit(ingest, 'dev-4', heartRate('r1'));
    expect(error).toBeNull();
    expect(outcome?.rejections.map((r) => [r.readingId, r.reason])).toEqual([['r1', 'invalid_reading']]);
    expect(written).toEqual([1, 0]);
    expect(published).toHaveLength(1);
  });

  it('drops a cancelled message that was waiting for room, unstored, with an error', async () => {
    const { ingest, sink } = setup({ queueMaxReadings: 1, maxWaitMs: 60_000 });
    const replies: [string, string | null][] = [];
    ingest.submit('dev-5', Buffer.from(JSON.stringify(heartRate('a'))), NOW, (e) =>
      replies.push(['a', e?.message ?? null]),
    );
    const waiting = ingest.submit('dev-5', Buffer.from(JSON.stringify(heartRate('b'))), NOW, (e) =>
      replies.push(['b', e?.message ?? null]),
    );
    expect(ingest.depth).toEqual({ rows: 1, bytes: expect.any(Number), waiting: 1 });
    waiting.cancel();
    expect(await ingest.stop(60_000)).toEqual({ drained: true });
    expect([...sink.stored]).toEqual(['dev-5/a']);
    expect(replies).toEqual([
      ['a', null],
      ['b', 'connection closed before the message was queued'],
    ]);
  });
});
