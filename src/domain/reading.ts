import type { ReadingType } from './reading-types.ts';
import type { RejectionReason } from './rejection-reasons.ts';

/** A reading that passed validation, converted to its stored unit. */
export interface ValidReading {
  readonly readingId: string;
  readonly type: ReadingType;
  readonly loinc: string;
  /** Epoch milliseconds of `at`. */
  readonly measuredAt: number;
  /** Stored unit and values in it (null where the type has no such component). */
  readonly unit: string;
  readonly value: number | null;
  readonly systolic: number | null;
  readonly diastolic: number | null;
  readonly pulse: number | null;
  /** Unit and values as the device sent them. */
  readonly sentUnit: string;
  readonly sentValue: number | null;
  readonly sentSystolic: number | null;
  readonly sentDiastolic: number | null;
  readonly context: string | null;
  /** Fingerprint of the content, to tell a duplicate resend from a conflicting one. */
  readonly contentHash: string;
  /** The reading object as received, kept for a later rejection (unassigned, conflict). */
  readonly source: unknown;
}

/** A reading (or a whole message) that will be stored as a rejection. */
export interface Rejection {
  readonly readingId: string | null;
  readonly reason: RejectionReason;
  /** A sentence for people: what is wrong and what to send instead. */
  readonly detail: string;
  /** The raw message (message-level reasons) or the reading object (reading-level). */
  readonly raw: Buffer;
  /**
   * Where the reading stood in the message (0 for a single reading), for a
   * rejection of validation; absent for message-level and storage rejections.
   */
  readonly position?: number;
}

export interface DecodedMessage {
  readonly readings: ValidReading[];
  readonly rejections: Rejection[];
}
