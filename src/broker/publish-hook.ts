import type { Client, PublishPacket } from 'aedes';
import type { CloseReason } from '../domain/close-reasons.ts';
import { MAX_PAYLOAD_BYTES } from '../domain/protocol.ts';
import { DeviceDisabledError, type Ingest } from '../ingest/ingest.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AckQueue } from './ordered-acks.ts';
import { readingsTopic } from './topics.ts';

export interface PublishHookDeps {
  readonly ingest: Pick<Ingest, 'submit'>;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
  readonly acksFor: (client: Client) => AckQueue;
  readonly isDraining: () => boolean;
}

/**
 * The MQTT side of a publish (architecture.md, decision 1). Aedes sends the
 * PUBACK (or PUBREC) right after this hook calls back, so the hook checks the
 * topic and the payload size, hands the payload to ingest/ and calls back only
 * once ingest replies (the batch holding it has committed), in arrival order per
 * connection (AckQueue). Only an ACL violation (or a payload over the protocol's
 * size) fails the hook, which closes the connection; invalid readings are stored
 * as rejections and acknowledged like valid ones.
 */
export function createPublishHook(deps: PublishHookDeps) {
  const { ingest, metrics, log } = deps;

  const refuse = (client: Client, reason: CloseReason, callback: (error?: Error | null) => void) => {
    metrics.connectionsClosed.labels(reason).inc();
    log.info({ clientId: client.id, reason }, 'publish refused, closing connection');
    callback(new Error(reason));
  };

  return function authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ): void {
    // A will is published by the broker after the connection closed: not a reading.
    if (!client || client.closed) {
      callback(new Error('will messages are not accepted'));
      return;
    }
    if (packet.topic !== readingsTopic(client.id)) {
      refuse(client, 'publish_not_authorized', callback);
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (payload.length > MAX_PAYLOAD_BYTES) {
      refuse(client, 'payload_too_large', callback);
      return;
    }
    // device-protocol.md: retained publishes are processed like any other and never retained.
    packet.retain = false;

    const arrived = performance.now();
    const acks = deps.acksFor(client);
    const ticket = acks.enqueue(callback, arrived);
    // Draining for a stop: hold it; the connection closes without an ack and the device resends later.
    if (deps.isDraining()) return;

    const submission = ingest.submit(client.id, payload, deps.now(), (error) => {
      if (error) {
        if (error instanceof DeviceDisabledError) {
          metrics.connectionsClosed.labels('device_disabled').inc();
          log.info({ clientId: client.id, reason: 'device_disabled' }, 'publish refused, closing connection');
        }
        acks.settle(ticket, error);
        return;
      }
      const ackSeconds = (performance.now() - arrived) / 1000;
      metrics.ackSeconds.observe(ackSeconds);
      metrics.ingestion.recordAck(ackSeconds);
      acks.settle(ticket, null);
    });
    ticket.onAbandon = () => submission.cancel();
  };
}
