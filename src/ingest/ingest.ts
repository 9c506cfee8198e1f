import { Batcher, itemRows, type QueueDepth } from '../batch/batcher.ts';
import type { Config } from '../config.ts';
import type { Rejection, ValidReading } from '../domain/reading.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { MessageOutcome, ReadingSink } from '../store/reading-sink.ts';
import { MAX_FUTURE_MS } from '../domain/protocol.ts';
import { decodeMessage } from './decode.ts';
import type { PendingMessage } from './pending-message.ts';
import { quarantineMessage } from './quarantine.ts';

/**
 * The reply to a message of a device that was disabled when its batch was written:
 * nothing was stored, and the broker closes the connection without acknowledging.
 */
export class DeviceDisabledError extends Error {
  readonly deviceId: string;
  constructor(deviceId: string) {
    super('the device is disabled; its message was not stored');
    this.name = 'DeviceDisabledError';
    this.deviceId = deviceId;
  }
}

/** Called once per submitted message: its outcome after the commit that holds it, or the error that prevents it. */
export type IngestReply = (error: Error | null, outcome?: MessageOutcome) => void;

/** What `submit` returns: the caller cancels when nobody waits for the outcome any more (the connection closed). */
export interface Submission {
  cancel(): void;
  /** The message as decoded (valid readings and validation rejections, each in the order sent). */
  readonly readings: readonly ValidReading[];
  readonly rejections: readonly Rejection[];
}

export interface SubmitOptions {
  /** The caller answers per reading (HTTPS): the outcome carries each valid reading's status. */
  readonly perReading?: boolean;
}

export interface IngestOptions {
  /** Where committed batches go (store/). */
  readonly sink: ReadingSink;
  /** Which write errors are retried (the database went away) rather than surfaced. */
  readonly isRetryable: (error: unknown) => boolean;
  /** Which of those mean the database cannot be reached (logged once by the pool; the retries at debug). */
  readonly isUnreachable?: (error: unknown) => boolean;
  readonly batch: Config['batch'];
  /** device-protocol.md, "Time": readings older than this are `too_old`. */
  readonly readingMaxAgeMs: number;
  /**
   * Readings measured before this are `too_old` too: the end of the newest month
   * whose duplicate keys retention removed (src/store/retention.repository.ts), so
   * that a window raised since then cannot let a reading be stored twice.
   */
  readonly keysHorizon?: () => number | undefined;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The rejections of a committed message, for the device (the broker publishes them on its rejections topic). */
  readonly onRejections: (deviceId: string, rejections: Rejection[]) => void;
  /** A committed message stored readings (the devices' last reading, src/broker/device-activity.ts). */
  readonly onStored?: (deviceId: string, receivedAt: number) => void;
}

export interface Ingest {
  /**
   * Decodes and validates one payload, queues it for the group commit and calls
   * `reply` once the batch holding it has committed (architecture.md, decision 1).
   * `receivedAt` (epoch ms) is the service's clock for the protocol's time checks.
   */
  submit(
    deviceId: string,
    payload: Buffer,
    receivedAt: number,
    reply: IngestReply,
    options?: SubmitOptions,
  ): Submission;
  /** Rows, bytes and waiting messages of the queue (ops report, queue gauges). */
  readonly depth: QueueDepth;
  /**
   * Graceful stop (once the broker stopped taking publishes in): flushes
   * everything queued, each message replied after its commit. What is not
   * committed within `timeoutMs` is failed (not acknowledged: devices resend it
   * later) and `drained` is false.
   */
  stop(timeoutMs: number): Promise<{ drained: boolean }>;
}

/** A message on its way: the pending message, the caller's reply, and the submission handle. */
interface IngestMessage extends PendingMessage {
  readonly reply: IngestReply;
  cancel(): void;
}

/**
 * The path of a message, from its payload to its outcome (one home per step):
 *
 *   submit: decode + validate (decode.ts) → pending message → batcher (batch/,
 *   group commit into the store's sink, quarantine.ts for data PostgreSQL
 *   refuses) → outcome: metrics of stored / duplicate / rejected, rejections
 *   handed to `onRejections`, then `reply`.
 *
 * The broker (broker/publish-hook.ts) is the MQTT caller: it holds the PUBACK
 * until `reply`, in arrival order per connection, and cancels the submission
 * when the connection closes. Backpressure is the batcher's: a message that
 * does not fit the queue waits with its reply uncalled (decision 3).
 *
 * Hot path: one object per message. `done` and `cancel` are shared functions
 * that read the message through `this` (the batcher calls `m.done(...)`, and a
 * quarantine replacement is a copy that keeps them), so the only closure per
 * message is the caller's `reply`. A callback rather than a promise: no promise
 * and no microtask per message at tens of thousands of messages a second.
 *
 * Revocation: a disabled device's publishes are never acknowledged as stored
 * after the moment the disable committed. The store checks it in the statement
 * that inserts the readings (src/store/readings.repository.ts), so it holds on
 * every instance; the outcome then says `deviceDisabled` and `done` replies with
 * a DeviceDisabledError (the broker closes the connection unacknowledged).
 *
 * HTTPS ingestion (src/http/routes/device-readings.routes.ts) is the other
 * caller: it submits with `perReading`, so that the outcome carries each valid
 * reading's status, and answers once `reply` is called; its messages share the
 * batches of MQTT traffic (reading-results.ts turns an outcome into the answer).
 */
export function createIngest(options: IngestOptions): Ingest {
  const { metrics, readingMaxAgeMs, onRejections } = options;
  const log = options.log;

  const batcher = new Batcher<PendingMessage>({
    write: (messages) => options.sink.write(messages),
    isRetryable: options.isRetryable,
    isUnreachable: options.isUnreachable,
    maxRows: options.batch.maxRows,
    maxWaitMs: options.batch.maxWaitMs,
    maxInflight: options.batch.maxInflight,
    queueMaxReadings: options.batch.queueMaxReadings,
    queueMaxBytes: options.batch.queueMaxBytes,
    log: log.child({ component: 'batcher' }),
    onCommitted: (messages, _outcomes, seconds) => {
      let rows = 0;
      for (const m of messages) rows += itemRows(m);
      metrics.batchSize.observe(rows);
      metrics.commitSeconds.observe(seconds);
      metrics.ingestion.recordBatch(rows, seconds);
    },
    onWriteError: (_error, retryable) => metrics.batchWriteErrors.labels(String(retryable)).inc(),
    quarantine: quarantineMessage,
  });

  /** The outcome step: shared by every message, called by the batcher as `message.done(...)`. */
  function done(this: IngestMessage, error: Error | null, outcome?: MessageOutcome): void {
    if (error || !outcome) {
      this.reply(error ?? new Error('message not stored'));
      return;
    }
    if (outcome.deviceDisabled) {
      this.reply(new DeviceDisabledError(this.deviceId));
      return;
    }
    if (outcome.stored > 0) {
      metrics.readingsStored.inc(outcome.stored);
      metrics.ingestion.recordStored(outcome.stored);
      options.onStored?.(this.deviceId, this.receivedAt);
    }
    if (outcome.duplicates > 0) metrics.readingsDuplicate.inc(outcome.duplicates);
    if (outcome.rawDropped) {
      metrics.rejectionsRawDropped.inc(outcome.rawDropped.count);
      metrics.rejectionsRawDroppedBytes.inc(outcome.rawDropped.bytes);
    }
    if (outcome.rejections.length > 0) {
      for (const r of outcome.rejections) metrics.readingsRejected.labels(r.reason).inc();
      onRejections(this.deviceId, outcome.rejections);
    }
    this.reply(null, outcome);
  }

  function cancel(this: IngestMessage): void {
    this.cancelled = true;
  }

  return {
    submit(deviceId, payload, receivedAt, reply, submitOptions) {
      const decoded = decodeMessage(payload, {
        now: receivedAt,
        maxAgeMs: readingMaxAgeMs,
        maxFutureMs: MAX_FUTURE_MS,
        notBefore: options.keysHorizon?.(),
      });
      metrics.messagesReceived.inc();
      metrics.readingsReceived.inc(decoded.readings.length + decoded.rejections.length);
      const message: IngestMessage = {
        deviceId,
        receivedAt,
        readings: decoded.readings,
        rejections: decoded.rejections,
        bytes: payload.length,
        ...(submitOptions?.perReading ? { perReading: true } : {}),
        cancelled: false,
        reply,
        done,
        cancel,
      };
      batcher.submit(message);
      return message;
    },
    get depth() {
      return batcher.depth;
    },
    async stop(timeoutMs) {
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      const result = await Promise.race([batcher.drain().then(() => 'drained' as const), timeout]);
      if (result === 'drained') {
        log.info('batcher drained, every committed message acknowledged');
        return { drained: true };
      }
      log.error({ queued: batcher.depth }, 'drain timed out; unacknowledged messages will be resent by devices');
      batcher.abort(new Error('the service stopped before the message was stored'));
      return { drained: false };
    },
  };
}
