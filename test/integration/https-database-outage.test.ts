import { describe, expect, it } from 'vitest';
import { createDeviceToken } from '../../src/actions/device-tokens.ts';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { postReadings } from '../helpers/https-device.ts';
import { databaseBehindProxy } from '../helpers/tcp-proxy.ts';

const behind = databaseBehindProxy();
// The service reaches PostgreSQL only through the proxy the test controls; a held request is answered 503 after 2 s.
const t = useTestService({
  env: async (database) => ({ ...(await behind.env(database)), VITALINK_HOLD_MAX_MS: '2000' }),
  afterStop: behind.afterStop,
});

const MINUTE = 60_000;

/**
 * A gateway that sends batches over HTTPS as the protocol asks: a batch is
 * forgotten only on a 200; on a 503 it is sent again (after a short pause here,
 * not the Retry-After of a real device, to keep the test short).
 */
class HttpsSender {
  readonly sent = new Set<string>();
  readonly answered = new Set<string>();
  unavailable = 0;
  retryAfter: string | null = null;
  #stop = false;
  #running: Promise<void> | undefined;

  readonly id: string;
  readonly secret: string;

  constructor(id: string, secret: string) {
    this.id = id;
    this.secret = secret;
  }

  start(batchSize: number, maxBatches: number): void {
    this.#running = this.#run(batchSize, maxBatches);
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
  }

  async #run(batchSize: number, maxBatches: number): Promise<void> {
    for (let b = 0; b < maxBatches && !this.#stop; b++) {
      const readings = Array.from({ length: batchSize }, (_, i) =>
        heartRate(`${this.id}-${b}-${i}`, 60 + i, Date.now() - MINUTE),
      );
      for (const r of readings) this.sent.add(r.id);
      // Bounded: at most 200 tries of one batch (the outage lasts seconds).
      for (let attempt = 0; attempt < 200; attempt++) {
        const res = await postReadings(t.httpUrl, this.id, { readings }, { deviceId: this.id, secret: this.secret });
        if (res.status === 200) {
          for (const r of res.body.results) {
            expect(['stored', 'duplicate']).toContain(r.outcome);
            this.answered.add(r.id);
          }
          break;
        }
        expect(res.status).toBe(503);
        this.unavailable++;
        this.retryAfter = res.headers.get('retry-after');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

async function storedIds(prefix: string): Promise<string[]> {
  const { rows } = await t.query<{ reading_id: string }>(
    `SELECT reading_id FROM readings WHERE device_id LIKE $1 ORDER BY reading_id`,
    [`${prefix}%`],
  );
  return rows.map((r) => r.reading_id);
}

describe('HTTPS ingest while PostgreSQL is unreachable', () => {
  it('answers 503 with Retry-After, then 200 on a resend; nothing lost, nothing stored twice', async () => {
    const senders: HttpsSender[] = [];
    for (let i = 0; i < 3; i++) {
      const id = `https-outage-${i}`;
      senders.push(new HttpsSender(id, await t.provisionDevice(id)));
    }
    for (const s of senders) s.start(5, 1_000);
    await waitFor(() => senders.every((s) => s.answered.size >= 20), 'the senders to get going');

    behind.proxy.cut();
    await waitFor(() => senders.every((s) => s.unavailable > 0), 'every sender to be answered 503', 20_000);
    behind.proxy.restore();
    const answeredAtRestore = senders.map((s) => s.answered.size);
    await waitFor(
      () => senders.every((s, i) => s.answered.size > answeredAtRestore[i] + 20),
      'the senders to be answered 200 again',
      30_000,
    );
    for (const s of senders) await s.stop();

    for (const s of senders) expect(s.retryAfter).toMatch(/^\d+$/);
    const stored = await storedIds('https-outage-');
    expect(new Set(stored).size).toBe(stored.length); // none stored twice
    const sent = senders.flatMap((s) => [...s.sent]);
    // Every batch sent was eventually answered 200, so every reading is stored, once.
    expect(stored.sort()).toEqual(sent.sort());
    for (const s of senders) expect(s.answered.size).toBe(s.sent.size);
  });

  it('a device token that cannot be looked up is answered 503 with Retry-After, then 200 once the database is back', async () => {
    const id = 'https-outage-token';
    await t.provisionDevice(id);
    const { token } = await createDeviceToken(t.db, await t.keys(), { deviceId: id });
    const bearer = { authorization: `Bearer ${token}` };
    const reading = heartRate('token-1', 70, Date.now() - MINUTE);
    behind.proxy.cut();
    let refused;
    try {
      refused = await postReadings(t.httpUrl, id, reading, bearer);
    } finally {
      behind.proxy.restore();
    }
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.body.error.code).toBe('unavailable');
    const again = await waitFor(async () => {
      const r = await postReadings(t.httpUrl, id, reading, bearer);
      return r.status === 200 && r;
    }, 'a 200 after the database came back');
    expect(again.body.results[0].outcome).toBe('stored');
    expect(await storedIds(id)).toEqual(['token-1']);
  });

  it('a request held when the database goes away is answered 503; its resend is stored once', async () => {
    const id = 'https-outage-held';
    const secret = await t.provisionDevice(id);
    const device = { deviceId: id, secret };
    const reading = heartRate('held-1', 70, Date.now() - MINUTE);
    const lock = await t.pgClient();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE reading_keys IN ACCESS EXCLUSIVE MODE');
    let res;
    try {
      const pending = postReadings(t.httpUrl, id, reading, device);
      // The batch is waiting for the lock (a lock request on reading_keys not granted).
      await waitFor(async () => {
        const { rows } = await t.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'reading_keys'::regclass AND NOT granted`,
        );
        return rows[0].n > 0;
      }, 'the batch to wait for the lock');
      behind.proxy.cut();
      res = await pending;
    } finally {
      await lock.query('ROLLBACK');
      await lock.end();
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body.error.code).toBe('unavailable');

    behind.proxy.restore();
    const again = await waitFor(async () => {
      const r = await postReadings(t.httpUrl, id, reading, device);
      return r.status === 200 && r;
    }, 'a 200 after the database came back');
    expect(['stored', 'duplicate']).toContain(again.body.results[0].outcome);
    expect(await storedIds(id)).toEqual(['held-1']);
  });
});
