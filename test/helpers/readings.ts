import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { decodeReading } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/logger.ts';
import type { Db } from '../../src/store/database.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';

/** A reading as a device sends it (device-protocol.md), its time as epoch milliseconds. */
export interface TestReadingInput {
  id: string;
  type: string;
  at: number;
  unit: string;
  value?: number;
  systolic?: number;
  diastolic?: number;
}

const DAY_MS = 86_400_000;

/**
 * Decodes each input as ingest does (at `now`) and commits them through the service's
 * write path, 1000 readings a batch; a reading the decoder rejects fails the test.
 */
export async function writeReadings(db: Db, deviceId: string, inputs: readonly TestReadingInput[], now: number) {
  const partitions = new Partitions(db);
  for (let k = 0; k < inputs.length; k += 1000) {
    const readings = inputs.slice(k, k + 1000).map((input) => {
      const decoded = decodeReading(input, { now, maxAgeMs: 90 * DAY_MS, maxFutureMs: 300_000 });
      if (!decoded.ok) throw new Error(`test reading rejected: ${JSON.stringify(decoded)}`);
      return decoded.reading;
    });
    await writeBatch(db, partitions, [{ deviceId, receivedAt: now, readings, rejections: [] }]);
  }
}

/** Runs the aggregation job at `now` until it has nothing left to do. */
export async function drainAggregation(db: Db, now: number): Promise<void> {
  const job = new Aggregator({
    db,
    log: createLogger('silent'),
    intervalMs: 10,
    batchSize: 10,
    refreshEveryMs: 3_600_000,
    now: () => now,
  });
  for (;;) {
    const result = await job.runOnce();
    if (result.marks === 0 && result.patients === 0) return;
  }
}
