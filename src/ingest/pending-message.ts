import type { MessageOutcome, MessageToStore } from '../store/reading-sink.ts';

/**
 * A decoded message waiting for the commit that holds it: what the store
 * takes, plus what the batcher needs to queue it (its size, its cancellation
 * and the callback of its outcome).
 */
export interface PendingMessage extends MessageToStore {
  /** Payload size, counted against the queue's byte bound. */
  readonly bytes: number;
  /** Set when the connection closed before the message was admitted: it is then dropped unstored. */
  cancelled: boolean;
  /** Called once: after the commit that holds the message, or with the error that prevents it. */
  done(error: Error | null, outcome?: MessageOutcome): void;
}
