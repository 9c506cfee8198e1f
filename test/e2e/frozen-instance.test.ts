/**
 * README, "Running several instances", "Database sessions": an instance frozen
 * (SIGSTOP) inside a transaction holds the reading keys it had not committed. Its
 * device moves to the other instance and resends; that instance's batch waits on
 * those keys only until VITALINK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS ends the frozen
 * transaction, while the frozen instance is still stopped. Nothing acknowledged is
 * lost or stored twice. The longest pause of a device on the live instance is
 * printed, never asserted.
 */
import { describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { loadToolLimits, type ServiceProcess } from '../../simulators/harness/service-process.ts';
import { useTestDatabase } from '../fixture.ts';
import { connectDevice, StreamingDevice, waitFor } from '../helpers/device.ts';
import { startService } from '../helpers/service.ts';

const t = useTestDatabase();
const BOUND_MS = 2_000;

function instance(id: string): Promise<ServiceProcess> {
  return startService({
    ...loadToolLimits(),
    DATABASE_URL: t.url,
    VITALINK_INSTANCE_ID: id,
    VITALINK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(BOUND_MS),
  });
}

/** A device that sends, in every message, one valid reading and one out of range: every batch is a transaction of several statements. */
class MixedDevice {
  readonly unacked = new Map<string, string>();
  readonly acked = new Set<string>();
  #n = 0;
  #running = false;
  #client: MqttClient | undefined;
  readonly id: string;
  readonly secret: string;
  constructor(id: string, secret: string) {
    this.id = id;
    this.secret = secret;
  }

  #message(): [string[], string] {
    const n = ++this.#n;
    const at = Date.now();
    const ids = [`ok-${n}`, `bad-${n}`];
    const payload = JSON.stringify({
      readings: [
        { id: ids[0], type: 'heart_rate', at, value: 70, unit: '/min' },
        { id: ids[1], type: 'heart_rate', at, value: 9999, unit: '/min' },
      ],
    });
    return [ids, payload];
  }

  #send(client: MqttClient, ids: string[], payload: string, again: () => void): void {
    for (const id of ids) this.unacked.set(id, payload);
    client.publish(`v1/devices/${this.id}/readings`, payload, { qos: 1 }, (error) => {
      if (error) return;
      for (const id of ids) {
        this.unacked.delete(id);
        this.acked.add(id);
      }
      if (this.#running) again();
    });
  }

  async start(url: string): Promise<void> {
    this.#client = await connectDevice(url, this.id, this.secret, { reconnectPeriod: 0, keepalive: 60 });
    this.#client.on('error', () => {});
    this.#running = true;
    const client = this.#client;
    const loop = () => {
      const [ids, payload] = this.#message();
      this.#send(client, ids, payload, loop);
    };
    for (let k = 0; k < 8; k++) loop();
  }

  /** Leaves the frozen instance (its socket dropped) and resends what was not acknowledged on `url`. */
  async moveTo(url: string): Promise<void> {
    this.#running = false;
    this.#client?.stream.destroy();
    await this.#client?.endAsync(true).catch(() => {});
    const client = await connectDevice(url, this.id, this.secret, { reconnectPeriod: 0 });
    this.#client = client;
    const payloads = new Set(this.unacked.values());
    await Promise.all(
      [...payloads].map(
        (payload) =>
          new Promise<void>((resolve, reject) =>
            client.publish(`v1/devices/${this.id}/readings`, payload, { qos: 1 }, (error) => {
              if (error) return reject(error);
              for (const [id, p] of this.unacked) {
                if (p === payload) {
                  this.unacked.delete(id);
                  this.acked.add(id);
                }
              }
              resolve();
            }),
          ),
      ),
    );
  }

  async close(): Promise<void> {
    this.#running = false;
    await this.#client?.endAsync(true).catch(() => {});
  }
}

describe('an instance frozen inside a transaction', () => {
  it('stalls the other instance only until its transaction is ended by the bound', { timeout: 120_000 }, async () => {
    const a = await instance('vitalink-frozen');
    const b = await instance('vitalink-live').catch(async (e) => {
      await a.stop();
      throw e;
    });
    const mixed = new MixedDevice('fz-mixed', await t.provisionDevice('fz-mixed', 'p-fz'));
    const steady = new StreamingDevice(
      `mqtt://127.0.0.1:${b.ports.mqtt}`,
      'fz-steady',
      await t.provisionDevice('fz-steady', 'p-fz2'),
    );
    let stopped = false;
    try {
      await mixed.start(`mqtt://127.0.0.1:${a.ports.mqtt}`);
      steady.start(1, 4);
      await waitFor(() => mixed.acked.size > 200 && steady.acked.size > 200, 'both devices streaming', 30_000);

      // Freeze a until it is caught inside a transaction that claimed reading keys.
      let caught = false;
      for (let attempt = 0; attempt < 150 && !caught; attempt++) {
        a.child.kill('SIGSTOP');
        stopped = true;
        await new Promise((r) => setTimeout(r, 60));
        const { rows } = await t.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity s JOIN pg_locks l ON l.pid = s.pid
           WHERE s.application_name = 'vitalink:vitalink-frozen' AND s.state = 'idle in transaction'
             AND l.relation = 'reading_keys'::regclass`,
        );
        caught = rows[0].n > 0;
        if (!caught) {
          a.child.kill('SIGCONT');
          stopped = false;
          await new Promise((r) => setTimeout(r, 30 + Math.random() * 60));
        }
      }
      expect(caught, 'a frozen inside a transaction holding reading keys').toBe(true);

      const steadyAcks: number[] = [];
      const ackCount = () => steady.acked.size;
      let last = ackCount();
      const sampler = setInterval(() => {
        const n = ackCount();
        if (n > last) steadyAcks.push(Date.now());
        last = n;
      }, 20);
      const frozenAt = Date.now();
      await mixed.moveTo(`mqtt://127.0.0.1:${b.ports.mqtt}`);
      const resentAt = Date.now();
      // Still frozen: b was not waiting for a to come back, only for the bound.
      const { rows: frozen } = await t.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = 'vitalink:vitalink-frozen' AND state = 'idle in transaction'`,
      );
      expect(frozen[0].n).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      clearInterval(sampler);
      const gaps = steadyAcks.map((at, i) => at - (i === 0 ? frozenAt : steadyAcks[i - 1]!));
      console.log(
        `frozen instance: the moved device's resends acknowledged ${((resentAt - frozenAt) / 1000).toFixed(1)} s after it moved ` +
          `(bound ${BOUND_MS / 1000} s); the live instance's other device paused at most ${(Math.max(0, ...gaps) / 1000).toFixed(1)} s`,
      );

      a.child.kill('SIGCONT');
      stopped = false;
      await steady.stop();
      await steady.flushUnacked();
      await mixed.close();
      const { rows } = await t.query<{ device_id: string; reading_id: string; n: number }>(
        `SELECT device_id, reading_id, count(*)::int AS n FROM readings WHERE device_id LIKE 'fz-%' GROUP BY 1, 2`,
      );
      expect(rows.filter((r) => r.n > 1)).toEqual([]);
      const stored = new Set(rows.map((r) => `${r.device_id}/${r.reading_id}`));
      const okAcked = [...mixed.acked].filter((id) => id.startsWith('ok-'));
      expect(okAcked.filter((id) => !stored.has(`fz-mixed/${id}`))).toEqual([]);
      expect([...steady.acked].filter((id) => !stored.has(`fz-steady/${id}`))).toEqual([]);
    } finally {
      if (stopped) a.child.kill('SIGCONT');
      await steady.close();
      await mixed.close();
      await a.stop();
      await b.stop();
    }
  });
});
