import type { Aedes, Client, PublishPacket } from 'aedes';
import { readingsTopic } from './topics.ts';

type Publish = (packet: PublishPacket, client: Client | null, done?: (error?: Error) => void) => void;

/**
 * Aedes hands every publish it has acknowledged to its own publish pipeline: the
 * retained store, the offline queues of persistent sessions, the emitter that
 * delivers to subscribers, the `publish` event. For a device's reading that work
 * is for nobody unless the device itself listens: a subscription outside the
 * subscriber's own `v1/devices/{id}/#` is refused (broker.ts, `authorizeSubscribe`),
 * device ids hold no `/`, `+` or `#`, the service subscribes to nothing, and a
 * retained reading is not retained (publish-hook.ts). So when the publishing
 * connection has no subscription whose filter matches its readings topic, the
 * pipeline is skipped; a device subscribed to its own `v1/devices/{id}/#` still
 * hears its readings. Under the bench with single-reading messages the pipeline was
 * about a tenth of the service's CPU (`node --cpu-prof`).
 */
export function skipUnheardReadings(aedes: Aedes): void {
  const target = aedes as unknown as { publish: Publish };
  const publish = target.publish.bind(aedes);
  target.publish = (packet, client, done) => {
    if (
      client !== null &&
      typeof client === 'object' &&
      packet.topic === readingsTopic(client.id) &&
      !anyFilterMatches((client as unknown as { subscriptions: Record<string, unknown> }).subscriptions, packet.topic)
    ) {
      done?.();
      return;
    }
    publish(packet, client, done);
  };
}

/** The connection's subscriptions: Aedes keeps them by topic filter (not in its types). */
function anyFilterMatches(subscriptions: Record<string, unknown>, topic: string): boolean {
  for (const filter in subscriptions) if (topicMatches(filter, topic)) return true;
  return false;
}

/** MQTT 3.1.1, 4.7: `+` is one level, a trailing `#` this level and all below (and the parent). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
