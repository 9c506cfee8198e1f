import { MAX_FUTURE_MS } from '../domain/protocol.ts';
import { keysBefore } from '../domain/retention.ts';
import { type DecodeOptions, decodeMessage, decodeReading } from '../ingest/decode.ts';
import type { DecodedMessage } from '../domain/reading.ts';
import type { RejectionReason } from '../domain/rejection-reasons.ts';
import { type MessageToStore, writeMessages } from '../store/reading-sink.ts';
import type { Db } from '../store/database.ts';
import type { Partitions } from '../store/partitions.ts';
import { prunedKeysHorizon } from '../store/retention.repository.ts';
import {
  closeRejection,
  listOpenRejections,
  type StoredRejection,
  updateOpenRejection,
} from '../store/rejections.repository.ts';

export type ReprocessOutcome =
  /** Every reading of it is now stored (or was already): the rejection is closed. */
  | 'stored'
  | 'duplicate'
  /** Rejected again for the same reason: the rejection stays open. */
  | 'still_rejected'
  /** Rejected again for other reasons: closed, and the new rejections recorded. */
  | 'rejected'
  /** Its raw bytes were not kept (over the device's quota, README "Security"): nothing to replay; it stays open. */
  | 'not_replayable';

export interface ReprocessedRejection {
  rejectionId: string;
  deviceId: string;
  readingId: string | null;
  previousReason: RejectionReason;
  outcome: ReprocessOutcome;
  /** Reasons of the new rejections (same reason for still_rejected). */
  reasons: RejectionReason[];
  stored: number;
}

export interface ReprocessReport {
  items: ReprocessedRejection[];
  counts: Record<ReprocessOutcome, number>;
}

/**
 * Runs recorded rejections through validation and storage again, through the
 * same code as live messages. Times are checked against the moment the
 * rejection was first received, so a reading kept for weeks as `unassigned`
 * is not turned away as `too_old` for having waited; but not before the horizon
 * of duplicate keys (src/domain/retention.ts): older keys may have been removed,
 * and such a reading could then be stored twice.
 */
export async function reprocessRejections(
  db: Db,
  partitions: Partitions,
  filter: { reason?: string; deviceId?: string },
  readingMaxAgeMs: number,
  now: () => Date,
): Promise<ReprocessReport> {
  const report: ReprocessReport = {
    items: [],
    counts: { stored: 0, duplicate: 0, still_rejected: 0, rejected: 0, not_replayable: 0 },
  };
  // Keys of readings before this are gone, even if the window was raised since they went.
  const horizon = (await prunedKeysHorizon(db)) ?? -Infinity;
  let afterId: string | undefined;
  for (;;) {
    const page = await listOpenRejections(db, { ...filter, limit: 500, afterId });
    if (page.length === 0) break;
    afterId = page[page.length - 1].id;
    for (const rejection of page) {
      const item = await reprocessOne(db, partitions, rejection, readingMaxAgeMs, horizon, now());
      report.items.push(item);
      report.counts[item.outcome]++;
    }
  }
  return report;
}

/** A rejection reprocessing left open as it was. */
function leftAsItWas(rejection: StoredRejection, outcome: 'not_replayable' | 'still_rejected'): ReprocessedRejection {
  return {
    rejectionId: rejection.id,
    deviceId: rejection.deviceId,
    readingId: rejection.readingId,
    previousReason: rejection.reason,
    reasons: [rejection.reason],
    stored: 0,
    outcome,
  };
}

function decodeAgain(rejection: StoredRejection & { raw: Buffer }, options: DecodeOptions): DecodedMessage {
  // Message-level reasons kept the whole payload; reading-level ones the reading object.
  if (rejection.readingId === null && (rejection.reason === 'invalid_json' || rejection.reason === 'invalid_shape')) {
    return decodeMessage(rejection.raw, options);
  }
  let input: unknown;
  try {
    input = JSON.parse(rejection.raw.toString('utf8'));
  } catch {
    return decodeMessage(rejection.raw, options);
  }
  const outcome = decodeReading(input, options);
  return outcome.ok
    ? { readings: [outcome.reading], rejections: [] }
    : { readings: [], rejections: [outcome.rejection] };
}

async function reprocessOne(
  db: Db,
  partitions: Partitions,
  rejection: StoredRejection,
  readingMaxAgeMs: number,
  horizon: number,
  now: Date,
): Promise<ReprocessedRejection> {
  const { raw } = rejection;
  if (raw === null) {
    return leftAsItWas(rejection, 'not_replayable');
  }
  const receivedAt = rejection.receivedAt.getTime();
  const decoded = decodeAgain(
    { ...rejection, raw },
    {
      now: receivedAt,
      maxAgeMs: readingMaxAgeMs,
      maxFutureMs: MAX_FUTURE_MS,
      notBefore: Math.max(keysBefore(now.getTime(), readingMaxAgeMs), horizon),
    },
  );
  await partitions.ensureFor(decoded.readings.map((r) => r.measuredAt));
  const message: MessageToStore = {
    deviceId: rejection.deviceId,
    receivedAt,
    readings: decoded.readings,
    rejections: decoded.rejections,
  };
  return db.transaction().execute(async (trx) => {
    const [outcome] = await writeMessages(trx, [message]);
    if (outcome.deviceDisabled) {
      // A disabled device's readings are not stored: its rejection stays open as it was.
      return leftAsItWas(rejection, 'still_rejected');
    }
    const reasons = outcome.rejections.map((r) => r.reason);
    const base = {
      rejectionId: rejection.id,
      deviceId: rejection.deviceId,
      readingId: rejection.readingId,
      previousReason: rejection.reason,
      reasons,
      stored: outcome.stored,
    };
    if (reasons.length === 0) {
      const result: ReprocessOutcome = outcome.stored > 0 ? 'stored' : 'duplicate';
      await closeRejection(trx, rejection.id, result, now);
      return { ...base, outcome: result };
    }
    if (reasons.length === 1 && reasons[0] === rejection.reason && outcome.stored === 0) {
      await updateOpenRejection(
        trx,
        rejection.id,
        { reason: rejection.reason, detail: outcome.rejections[0].detail },
        now,
      );
      return { ...base, outcome: 'still_rejected' };
    }
    await closeRejection(trx, rejection.id, 'superseded', now);
    return { ...base, outcome: 'rejected' };
  });
}
