import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { type Db, isDatabaseUnreachable } from './database.ts';

/**
 * Credential changes, told to every instance on the database (README, "Security"):
 * a NOTIFY on this channel, sent in the transaction of the change (delivered when
 * it commits). The payload names what changed, never a secret.
 */
export const CREDENTIALS_CHANNEL = 'vitalink_credentials';

export interface CredentialChange {
  /** A device disabled or whose secret was rotated: its live sessions are re-checked. */
  device: string;
}

export async function notifyCredentialChange(db: Db, change: CredentialChange): Promise<void> {
  await sql`SELECT pg_notify(${CREDENTIALS_CHANNEL}, ${JSON.stringify(change)})`.execute(db);
}

/**
 * New MQTT sessions, told to every instance (README, "Running several
 * instances"): the instance that accepted them and their device ids. Delivered to
 * every listener, the sender's own included, in commit order, which is what
 * src/broker/session-takeover.ts orders sessions by.
 */
export const SESSIONS_CHANNEL = 'vitalink_sessions';

export interface SessionsStarted {
  instance: string;
  devices: string[];
}

/** PostgreSQL refuses a payload of 8,000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_500;

/** One NOTIFY per payload that fits (device ids are at most 64 characters, so about 100 a payload). */
export async function notifySessionsStarted(db: Db, instance: string, devices: readonly string[]): Promise<void> {
  let chunk: string[] = [];
  let bytes = 0;
  const send = async () => {
    if (chunk.length === 0) return;
    const payload: SessionsStarted = { instance, devices: chunk };
    await sql`SELECT pg_notify(${SESSIONS_CHANNEL}, ${JSON.stringify(payload)})`.execute(db);
    chunk = [];
    bytes = 0;
  };
  const overhead = Buffer.byteLength(JSON.stringify({ instance, devices: [] }));
  for (const id of devices) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (overhead + bytes + size > MAX_PAYLOAD_BYTES) await send();
    chunk.push(id);
    bytes += size;
  }
  await send();
}

export interface CredentialListenerOptions {
  /** Connection settings of the service's pool (a LISTEN needs a connection of its own). */
  readonly connection: pg.ClientConfig;
  readonly log: Logger;
  /** A device's credentials changed. */
  readonly onDevice: (deviceId: string) => void;
  /** The listening connection was (re)established: notifications may have been missed meanwhile. */
  readonly onListening: () => void;
  /** Sessions started on an instance (this one included), in commit order. */
  readonly onSessionsStarted?: (started: SessionsStarted) => void;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * One connection that LISTENs on the channel, reconnecting with backoff when it
 * is lost. After every (re)connection `onListening` runs, so that the caller can
 * re-check what a missed notification would have told it.
 */
export class CredentialListener {
  readonly #o: CredentialListenerOptions;
  #client: pg.Client | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;

  constructor(options: CredentialListenerOptions) {
    this.#o = options;
  }

  /** Resolves once listening, or after the first failure (it keeps retrying in the background). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    // Bounded: ending a connection whose peer vanished waits for TCP otherwise.
    await Promise.race([client?.end().catch(() => {}), new Promise((r) => setTimeout(r, 2_000).unref())]);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    // Named apart from the pool's connections (`vitalink:<instance>:events` in pg_stat_activity).
    const name = `${this.#o.connection.application_name ?? 'vitalink'}:events`.slice(0, 63);
    const client = new pg.Client({ ...this.#o.connection, application_name: name, keepAlive: true });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => {});
      if (this.#stopped) return;
      // The database away (the pool says it once, `database unreachable`), or a reconnection that failed: at debug.
      const outage = err === undefined || isDatabaseUnreachable(err);
      this.#o.log[outage ? 'debug' : 'warn'](
        { error: err?.message },
        'credential notifications connection lost, reconnecting',
      );
      this.#schedule();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === SESSIONS_CHANNEL && message.payload) {
        try {
          const started = JSON.parse(message.payload) as Partial<SessionsStarted>;
          if (typeof started.instance === 'string' && Array.isArray(started.devices)) {
            this.#o.onSessionsStarted?.({ instance: started.instance, devices: started.devices.map(String) });
          }
        } catch {
          this.#o.log.warn('unreadable sessions notification ignored');
        }
        return;
      }
      if (message.channel !== CREDENTIALS_CHANNEL || !message.payload) return;
      try {
        const change = JSON.parse(message.payload) as Partial<CredentialChange>;
        this.#o.log.debug({ deviceId: change.device }, 'credential change notified');
        if (typeof change.device === 'string') this.#o.onDevice(change.device);
      } catch {
        this.#o.log.warn('unreadable credential notification ignored');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CREDENTIALS_CHANNEL}`);
      if (this.#o.onSessionsStarted) await client.query(`LISTEN ${SESSIONS_CHANNEL}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    this.#o.onListening();
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#attempt++;
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.#attempt - 1));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delay);
    this.#timer.unref();
  }
}
