import type { Aedes } from 'aedes';
import type { Rejection } from '../domain/reading.ts';
import { rejectionsTopic } from './topics.ts';

/**
 * Publishes rejections on `v1/devices/{id}/rejections` (device-protocol.md,
 * "Rejections": one QoS 1 message per rejected reading), one at a time per device.
 *
 * A message of 1000 invalid readings makes 1000 rejection messages: handing them
 * all to Aedes at once overflows the stack of its emitter (mqemitter) when the
 * device holds a persistent session, so they are queued and sent one after the
 * other's callback. The queue of a device is bounded: beyond it, rejections are
 * not published (they are all recorded in the database, which an operator reads),
 * and `onDropped` counts them.
 */
export class RejectionPublisher {
  readonly #broker: () => Aedes;
  readonly #maxQueued: number;
  readonly #onDropped: (count: number) => void;
  readonly #queues = new Map<string, Rejection[]>();

  constructor(broker: () => Aedes, options: { maxQueuedPerDevice: number; onDropped: (count: number) => void }) {
    this.#broker = broker;
    this.#maxQueued = options.maxQueuedPerDevice;
    this.#onDropped = options.onDropped;
  }

  publish(deviceId: string, rejections: Rejection[]): void {
    let queue = this.#queues.get(deviceId);
    const idle = queue === undefined;
    queue ??= [];
    const room = Math.max(0, this.#maxQueued - queue.length);
    if (rejections.length > room) this.#onDropped(rejections.length - room);
    for (let i = 0; i < Math.min(room, rejections.length); i++) queue.push(rejections[i]);
    if (!idle || queue.length === 0) return;
    this.#queues.set(deviceId, queue);
    this.#next(deviceId, queue);
  }

  #next(deviceId: string, queue: Rejection[]): void {
    const r = queue.shift();
    if (r === undefined) {
      this.#queues.delete(deviceId);
      return;
    }
    this.#broker().publish(
      {
        cmd: 'publish',
        topic: rejectionsTopic(deviceId),
        payload: Buffer.from(JSON.stringify({ id: r.readingId, reason: r.reason, detail: r.detail })),
        qos: 1,
        retain: false,
        dup: false,
      },
      // Out of the emitter's call stack before the next one.
      () => setImmediate(() => this.#next(deviceId, queue)),
    );
  }
}
