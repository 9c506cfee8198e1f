import type { Logger } from '../logger.ts';
import type { DeviceTransport } from '../domain/device-transports.ts';
import { isDatabaseUnreachable } from '../store/database.ts';
import type { DeviceActivity } from '../store/devices.repository.ts';

export interface DeviceActivityDeps {
  /** Writes what was seen since the last flush (one statement). */
  readonly write: (rows: DeviceActivity[]) => Promise<void>;
  readonly intervalMs: number;
  readonly log: Logger;
}

/**
 * When each device was last seen (CONNECT, publish, disconnect; an HTTPS request;
 * a Nightscout upload), over which transport, and when it last had a reading
 * stored, for `vitalink devices list` and the dashboard: kept in memory and written every
 * `intervalMs` in one statement, at most one row per device per interval, so
 * that the hot path costs a Map update per message and no write. What the
 * database shows is up to one interval behind (and the last interval is lost if
 * the process dies).
 */
export class DeviceActivityRecorder {
  readonly #d: DeviceActivityDeps;
  #pending = new Map<string, DeviceActivity>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(deps: DeviceActivityDeps) {
    this.#d = deps;
  }

  /** A contact of the device over `transport` (MQTT: CONNECT, publish, disconnect; an HTTPS request; a Nightscout upload). */
  seen(deviceId: string, at: number, transport: DeviceTransport = 'mqtt'): void {
    const entry = this.#entry(deviceId);
    if (at >= entry.lastSeenAt) {
      entry.lastSeenAt = at;
      entry.lastTransport = transport;
    }
  }

  readingStored(deviceId: string, receivedAt: number): void {
    const entry = this.#entry(deviceId);
    if (receivedAt > entry.lastReadingAt) entry.lastReadingAt = receivedAt;
    if (receivedAt > entry.lastSeenAt) entry.lastSeenAt = receivedAt;
  }

  start(): void {
    this.#timer = setInterval(() => void this.flush(), this.#d.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Writes what was seen since the last flush; on failure it is kept for the next one. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const rows = [...this.#pending.values()];
      this.#pending = new Map();
      try {
        await this.#d.write(rows);
      } catch (err) {
        // The database away is said once by its pool (`database unreachable`): here at debug.
        this.#d.log[isDatabaseUnreachable(err) ? 'debug' : 'warn'](
          { err, devices: rows.length },
          'device activity not recorded; will retry',
        );
        for (const row of rows) {
          if (row.lastTransport) this.seen(row.deviceId, row.lastSeenAt, row.lastTransport);
          if (row.lastReadingAt > 0) this.readingStored(row.deviceId, row.lastReadingAt);
        }
      }
    });
    return this.#flushing;
  }

  #entry(deviceId: string): DeviceActivity {
    let entry = this.#pending.get(deviceId);
    if (!entry) {
      entry = { deviceId, lastSeenAt: 0, lastTransport: null, lastReadingAt: 0 };
      this.#pending.set(deviceId, entry);
    }
    return entry;
  }
}
