import type { Rejection, ValidReading } from '../domain/reading.ts';
import type { RejectionReason } from '../domain/rejection-reasons.ts';
import type { MessageOutcome } from '../store/reading-sink.ts';

/** What became of one reading of a message, as the HTTPS answer gives it (device-protocol.md, "Over HTTPS"). */
export type ReadingResult =
  | { readonly id: string; readonly outcome: 'stored' | 'duplicate'; readonly reason: null; readonly detail: null }
  | {
      readonly id: string | null;
      readonly outcome: 'rejected';
      readonly reason: RejectionReason;
      readonly detail: string;
    };

/**
 * One result per reading of a committed message, in the order the readings were
 * sent (one result with `id` null when the whole message was refused).
 *
 * The decoded message split the readings into valid ones and validation
 * rejections, each in the order sent; a validation rejection knows its position,
 * so the valid readings fill the other places. The outcome gives each valid
 * reading's status (`perReading`); a `rejected` one takes the next rejection after
 * those of validation (conflict or unassigned, in the readings' order). A message
 * quarantined by the store (quarantine.ts) has no statuses: each of its valid
 * readings takes the next of those rejections likewise.
 */
export function readingResults(
  message: { readonly readings: readonly ValidReading[]; readonly rejections: readonly Rejection[] },
  outcome: MessageOutcome,
): ReadingResult[] {
  const validation = message.rejections.length;
  const total = message.readings.length + validation;
  const results: ReadingResult[] = new Array(total);
  const taken = new Array<boolean>(total).fill(false);
  for (let i = 0; i < validation; i++) {
    const r = outcome.rejections[i];
    const at = message.rejections[i].position ?? i;
    results[at] = rejected(r);
    taken[at] = true;
  }
  let next = validation;
  let place = 0;
  for (let i = 0; i < message.readings.length; i++) {
    while (taken[place]) place++;
    const status = outcome.readings?.[i] ?? 'rejected';
    const id = message.readings[i].readingId;
    if (status === 'rejected') {
      const r = outcome.rejections[next++];
      results[place] = r ? rejected(r) : unknownOutcome(id);
    } else {
      results[place] = { id, outcome: status, reason: null, detail: null };
    }
    place++;
  }
  return results;
}

function rejected(r: Rejection): ReadingResult {
  return { id: r.readingId, outcome: 'rejected', reason: r.reason, detail: r.detail };
}

/** Cannot happen while the store keeps its promise (one rejection per reading not stored); said plainly if it does. */
function unknownOutcome(id: string): ReadingResult {
  return {
    id,
    outcome: 'rejected',
    reason: 'invalid_reading',
    detail: 'the reading was not stored and no reason was recorded; send it again',
  };
}
