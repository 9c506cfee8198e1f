import { AppError } from '../errors.ts';
import { DeviceDisabledError, type Ingest } from '../ingest/ingest.ts';
import { type ReadingResult, readingResults } from '../ingest/reading-results.ts';
import type { MessageOutcome } from '../store/reading-sink.ts';
import { DATABASE_RETRY_AFTER_S } from './device-auth.ts';

/** A 503 that tells the device nothing was acknowledged and when to send again. */
export function unavailable(why: string): AppError {
  return new AppError(
    'unavailable',
    `${why}; nothing was acknowledged: send the readings again in ${DATABASE_RETRY_AFTER_S} s`,
    {
      retryAfterSeconds: DATABASE_RETRY_AFTER_S,
    },
  );
}

/**
 * Submits a payload to the ingest path and waits for the commit that holds it, at
 * most `holdMs` (then a 503: nothing acknowledged; the submission is cancelled if
 * it is still waiting for room, else it is committed later and its resend is a
 * duplicate). A device disabled meanwhile: 403.
 */
export function submitAndWait(
  deps: { readonly ingest: Pick<Ingest, 'submit'>; readonly now: () => number },
  deviceId: string,
  body: Buffer,
  holdMs: number,
): Promise<ReadingResult[]> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      submission.cancel();
      reject(unavailable('the readings could not be committed in time (the database is unreachable or busy)'));
    }, holdMs);
    const submission = deps.ingest.submit(
      deviceId,
      body,
      deps.now(),
      (error: Error | null, outcome?: MessageOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error instanceof DeviceDisabledError) {
          reject(
            new AppError(
              'forbidden',
              'this device is disabled; an administrator can enable it again (`vitalink devices enable`)',
            ),
          );
        } else if (error || !outcome) {
          reject(unavailable('the readings were not stored'));
        } else {
          resolve(readingResults(submission, outcome));
        }
      },
      { perReading: true },
    );
  });
}
