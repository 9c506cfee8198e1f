import type { Duplex } from 'node:stream';

/**
 * Refuses MQTT packets larger than a bound before they are buffered.
 *
 * mqtt-packet buffers a packet up to its declared length (up to 256 MB) before
 * Aedes sees it, even before CONNECT, and Aedes has no maximum packet size
 * (architecture.md, "Security facts"). This reads the fixed header of every
 * packet as bytes arrive (MQTT-2.2: one type byte, then the remaining length as
 * a variable byte integer of 1 to 4 bytes) and skips the bodies by count, so it
 * costs O(1) per chunk for large packets.
 */
export class PacketLengthTracker {
  #maxRemainingLength: number;
  #state: 'type' | 'length' | 'body' = 'type';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #bodyLeft = 0;

  constructor(maxRemainingLength: number) {
    this.#maxRemainingLength = maxRemainingLength;
  }

  get limit(): number {
    return this.#maxRemainingLength;
  }

  /** Changes the bound for the packets whose header has not been read yet (raised once a session is authenticated). */
  setLimit(maxRemainingLength: number): void {
    this.#maxRemainingLength = maxRemainingLength;
  }

  /**
   * Feeds a chunk; returns the declared remaining length of the first packet that
   * is over the bound (or malformed: -1), or undefined when all is well.
   */
  feed(chunk: Uint8Array): number | undefined {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#state === 'body') {
        const skip = Math.min(this.#bodyLeft, n - i);
        i += skip;
        this.#bodyLeft -= skip;
        if (this.#bodyLeft === 0) this.#state = 'type';
        continue;
      }
      if (this.#state === 'type') {
        i++;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        continue;
      }
      const b = chunk[i++];
      this.#length += (b & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if (b & 0x80) {
        if (this.#lengthBytes === 4) return -1; // MQTT-2.2.3: at most four bytes
        // No bound check on a partial length: it would report a lower bound, not the
        // declared length, and waiting costs at most three more header bytes.
        continue;
      }
      if (this.#length > this.#maxRemainingLength) return this.#length;
      this.#bodyLeft = this.#length;
      this.#state = this.#bodyLeft > 0 ? 'body' : 'type';
    }
    return undefined;
  }
}

/**
 * Puts a tracker in front of a stream that Aedes will read. It wraps the
 * stream's own `push`, through which both net.Socket and ws' stream hand over
 * received bytes, so it sees each chunk before anything buffers it, without an
 * extra stream in the path. An oversize packet destroys the stream. The bound
 * starts at `maxRemainingLength` (the small pre-CONNECT bound) and can be
 * raised with `setLimit` on the returned tracker once the session is authenticated.
 */
export function guardPacketSize(
  stream: Duplex,
  maxRemainingLength: number,
  onOversize: (declaredLength: number, limit: number) => void,
): PacketLengthTracker {
  const tracker = new PacketLengthTracker(maxRemainingLength);
  const push = stream.push;
  let refused = false;
  stream.push = function guardedPush(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (refused) return false;
    if (chunk !== null && chunk !== undefined && typeof chunk !== 'string') {
      const declared = tracker.feed(chunk as Uint8Array);
      if (declared !== undefined) {
        refused = true;
        onOversize(declared, tracker.limit);
        stream.destroy();
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
  return tracker;
}
