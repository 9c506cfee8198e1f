/**
 * Per-connection acknowledgement order. Aedes writes a PUBACK as soon as the
 * authorizePublish callback is called, and it handles all the packets of one
 * socket read at once, so their commits may finish in any order (two batches in
 * flight). This queue calls the callbacks in the order the publishes arrived
 * (MQTT-4.6.0-2: PUBACKs in the order of the PUBLISH packets).
 */
export interface AckTicket {
  readonly arrivedAt: number;
  settled: boolean;
  error: Error | null;
  readonly callback: (error?: Error | null) => void;
  /** Called when the connection closes before the ticket is released. */
  onAbandon?: () => void;
}

export class AckQueue {
  #tickets: AckTicket[] = [];
  #head = 0;
  #closed = false;

  /** Arrival time (performance.now()) of the oldest unacknowledged publish, if any. */
  get oldestArrival(): number | undefined {
    return this.#head < this.#tickets.length ? this.#tickets[this.#head].arrivedAt : undefined;
  }

  get size(): number {
    return this.#tickets.length - this.#head;
  }

  enqueue(callback: (error?: Error | null) => void, arrivedAt: number): AckTicket {
    const ticket: AckTicket = { arrivedAt, settled: false, error: null, callback };
    this.#tickets.push(ticket);
    return ticket;
  }

  settle(ticket: AckTicket, error: Error | null): void {
    ticket.settled = true;
    ticket.error = error;
    if (this.#closed) return;
    while (this.#head < this.#tickets.length && this.#tickets[this.#head].settled) {
      const t = this.#tickets[this.#head];
      this.#tickets[this.#head++] = undefined as unknown as AckTicket;
      t.callback(t.error);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#tickets.length) {
      this.#tickets = this.#tickets.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The connection is gone: no callback will be called; pending work is told. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let i = this.#head; i < this.#tickets.length; i++) this.#tickets[i].onAbandon?.();
    this.#tickets = [];
    this.#head = 0;
  }
}
