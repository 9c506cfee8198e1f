import { rawReading } from '../domain/raw-reading.ts';
import type { Rejection, ValidReading } from '../domain/reading.ts';
import type { Db } from './database.ts';
import type { Partitions } from './partitions.ts';
import { insertReadings, type ReadingToStore } from './readings.repository.ts';
import { insertRejections, type RejectionToStore } from './rejections.repository.ts';

/** One message as the store takes it: a device's readings and rejections, received at one time. */
export interface MessageToStore {
  readonly deviceId: string;
  /** Epoch milliseconds at which the service received the message. */
  readonly receivedAt: number;
  readonly readings: ValidReading[];
  readonly rejections: Rejection[];
  /**
   * The caller needs each valid reading's outcome (HTTPS answers per reading):
   * `MessageOutcome.readings` is filled. MQTT messages leave it unset.
   */
  readonly perReading?: boolean;
}

/** What became of one valid reading of a message (in `MessageOutcome.readings`). */
export type ReadingStatus = 'stored' | 'duplicate' | 'rejected';

/** What became of a message once its batch committed. */
export interface MessageOutcome {
  stored: number;
  duplicates: number;
  /** Every rejection recorded for the message: validation, unassigned and conflict. */
  rejections: Rejection[];
  /**
   * With `perReading`: the status of each valid reading, in the message's order
   * (`rejected`: its conflict or unassigned rejection is the next one of
   * `rejections` after those of validation).
   */
  readings?: ReadingStatus[];
  /**
   * The device was disabled when the batch was written: nothing of the message was
   * stored or recorded, and it must not be acknowledged (the broker closes the
   * connection without a PUBACK; device-protocol.md has no rejection for this).
   */
  deviceDisabled?: true;
  /** Rejections of the message recorded without their raw bytes (over the device's quota) and those bytes. */
  rawDropped?: { count: number; bytes: number };
}

/**
 * Where the group-commit batcher hands each batch (architecture.md, decision 2):
 * `write` resolves once the batch is committed, with one outcome per message in
 * the batch's order.
 */
export interface ReadingSink {
  write(messages: readonly MessageToStore[]): Promise<MessageOutcome[]>;
}

/** The sink of the service: batches go to PostgreSQL, into partitions it makes sure exist. */
export function createReadingSink(
  db: Db,
  partitions: Partitions,
  options: StoreOptions = { rejectionRawBytesPerDeviceDay: null },
): ReadingSink {
  return { write: (messages) => writeBatch(db, partitions, messages, options) };
}

export interface StoreOptions {
  /** Raw bytes of rejections kept per device and UTC day (null: no quota); see insertRejections. */
  readonly rejectionRawBytesPerDeviceDay: number | null;
}

/**
 * Writes one batch of messages in one transaction: readings (with duplicate,
 * conflict and assignment checks) and rejections. When this resolves, every
 * message of the batch is durably committed and its outcome is known.
 */
export async function writeBatch(
  db: Db,
  partitions: Partitions,
  messages: readonly MessageToStore[],
  options: StoreOptions = { rejectionRawBytesPerDeviceDay: null },
): Promise<MessageOutcome[]> {
  await partitions.ensureFor(measuredTimes(messages));
  // Most batches hold valid readings only. Their readings go in one statement, which
  // is a transaction of its own: BEGIN and COMMIT would add two round trips to every
  // commit the devices wait for. Should a later statement of the batch fail (the
  // rejections of conflicting or unassigned readings), the batch is written again and
  // its stored readings come back as duplicates: still stored once, still acked.
  if (messages.every((m) => m.rejections.length === 0)) return writeMessages(db, messages, options);
  return db.transaction().execute((trx) => writeMessages(trx, messages, options));
}

function* measuredTimes(messages: readonly MessageToStore[]): Iterable<number> {
  for (const m of messages) for (const r of m.readings) yield r.measuredAt;
}

/**
 * The body of a batch, in the caller's transaction (partitions must exist): also
 * used by `vitalink rejections reprocess`, so a reprocessed reading goes through
 * exactly the same checks as a live one.
 */
export async function writeMessages(
  trx: Db,
  messages: readonly MessageToStore[],
  options: StoreOptions = { rejectionRawBytesPerDeviceDay: null },
): Promise<MessageOutcome[]> {
  const readings: ReadingToStore[] = [];
  const owner: number[] = [];
  const outcomes: MessageOutcome[] = new Array(messages.length);
  for (let m = 0; m < messages.length; m++) {
    const msg = messages[m];
    outcomes[m] = { stored: 0, duplicates: 0, rejections: msg.rejections.slice() };
    if (msg.perReading) outcomes[m].readings = [];
    for (const reading of msg.readings) {
      readings.push({ deviceId: msg.deviceId, receivedAt: msg.receivedAt, reading });
      owner.push(m);
    }
  }
  const statuses = await insertReadings(trx, readings);
  for (let i = 0; i < statuses.length; i++) {
    const outcome = outcomes[owner[i]];
    const { status } = statuses[i];
    if (status === 'stored') outcome.stored++;
    else if (status === 'duplicate') outcome.duplicates++;
    else if (status === 'disabled') outcome.deviceDisabled = true;
    else outcome.rejections.push(storageRejection(status, readings[i]));
    outcome.readings?.push(status === 'stored' || status === 'duplicate' ? status : 'rejected');
  }
  const rejections: RejectionToStore[] = [];
  const rejectionOwner: number[] = [];
  for (let m = 0; m < messages.length; m++) {
    if (outcomes[m].deviceDisabled) continue;
    for (const rejection of outcomes[m].rejections) {
      rejections.push({ deviceId: messages[m].deviceId, receivedAt: messages[m].receivedAt, rejection });
      rejectionOwner.push(m);
    }
  }
  const { disabled, rawDropped } = await insertRejections(trx, rejections, options.rejectionRawBytesPerDeviceDay);
  for (const i of rawDropped) {
    const outcome = outcomes[rejectionOwner[i]];
    outcome.rawDropped ??= { count: 0, bytes: 0 };
    outcome.rawDropped.count++;
    outcome.rawDropped.bytes += rejections[i].rejection.raw.length;
  }
  if (disabled.length > 0) {
    const refused = new Set(disabled);
    for (let m = 0; m < messages.length; m++) if (refused.has(messages[m].deviceId)) outcomes[m].deviceDisabled = true;
  }
  for (const outcome of outcomes) {
    if (outcome.deviceDisabled) {
      outcome.stored = 0;
      outcome.duplicates = 0;
      outcome.rejections = [];
      delete outcome.readings;
      delete outcome.rawDropped;
    }
  }
  return outcomes;
}

function storageRejection(status: 'conflict' | 'unassigned', row: ReadingToStore): Rejection {
  const { reading } = row;
  return status === 'conflict'
    ? {
        readingId: reading.readingId,
        reason: 'conflict',
        detail: `reading id "${reading.readingId}" is already stored with different content; the first one is kept. Use a new id for a new reading`,
        raw: rawReading(reading.source),
      }
    : {
        readingId: reading.readingId,
        reason: 'unassigned',
        detail: `device ${row.deviceId} was not assigned to a patient at ${new Date(reading.measuredAt).toISOString()}; the reading is kept and will be stored once the assignment is recorded`,
        raw: rawReading(reading.source),
      };
}
