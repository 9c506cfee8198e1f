import type { Rejection, ValidReading } from '../domain/reading.ts';

/** What became of a message once its batch committed. */
export interface MessageOutcome {
  stored: number;
  duplicates: number;
  /** Every rejection recorded for the message: validation, unassigned and conflict. */
  rejections: Rejection[];
}

/** A decoded MQTT message waiting for the commit that holds it. */
export interface PendingMessage {
  readonly deviceId: string;
  /** Epoch milliseconds at which the service received the message. */
  readonly receivedAt: number;
  readonly readings: ValidReading[];
  readonly rejections: Rejection[];
  /** Payload size, counted against the queue's byte bound. */
  readonly bytes: number;
  /** Set when the connection closed before the message was admitted: it is then dropped unstored. */
  cancelled: boolean;
  /** Called once: after the commit that holds the message, or with the error that prevents it. */
  readonly done: (error: Error | null, outcome?: MessageOutcome) => void;
}

/** Rows a message adds to a batch: one per reading or rejection. */
export function messageRows(m: PendingMessage): number {
  return Math.max(1, m.readings.length + m.rejections.length);
}
