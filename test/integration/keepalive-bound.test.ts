import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

/**
 * README, "Security", "Limits on the MQTT listeners": MQTT 3.1.1 lets a device ask
 * for keepalive 0 or up to 18 h and has no CONNACK code to refuse either, so the
 * service accepts them and serves them as VITALINK_MQTT_MAX_KEEPALIVE_S (here 2 s):
 * a connection silent for 1.5 times that is closed. A device within the maximum
 * that keeps to its keepalive is not affected.
 */

const MAX_KEEPALIVE_S = 2;
const secrets: Record<string, string> = {};
const DEVICES = ['ka-zero', 'ka-long', 'ka-ok'];

const t = useTestService({
  env: { VITALINK_MQTT_MAX_KEEPALIVE_S: String(MAX_KEEPALIVE_S) },
  beforeStart: async (fixture) => {
    for (const id of DEVICES) secrets[id] = await fixture.provisionDevice(id);
  },
});

async function closedCount(reason: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(
    new RegExp(`^vitalink_connections_closed_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
  );
}

function closeOf(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

describe('keepalive bound', () => {
  it('accepts keepalive 0 and closes the connection once it has been silent for 1.5 times the maximum', async () => {
    const before = await closedCount('idle_timeout');
    const client = await t.connectDevice('ka-zero', secrets['ka-zero'], { keepalive: 0, reconnectPeriod: 0 });
    await t.publish(client, 'ka-zero', [heartRate('ka-zero-1', 60)]);
    const closed = closeOf(client);
    await waitFor(async () => (await closedCount('idle_timeout')) === before + 1, 'the idle bound', 15_000);
    await closed;
  });

  it('serves a keepalive above the maximum as the maximum; the device reconnects', async () => {
    const before = await closedCount('idle_timeout');
    const client = await t.connectDevice('ka-long', secrets['ka-long'], { keepalive: 600, reconnectPeriod: 0 });
    const closed = closeOf(client);
    await waitFor(async () => (await closedCount('idle_timeout')) === before + 1, 'the idle bound', 15_000);
    await closed;
    const again = await t.connectDevice('ka-long', secrets['ka-long'], { keepalive: 600, reconnectPeriod: 0 });
    await t.publish(again, 'ka-long', [heartRate('ka-long-1', 61)]);
    again.end();
  });

  it('leaves a device within the maximum connected while it pings, past the idle bound of the others', async () => {
    const idleBefore = await closedCount('idle_timeout');
    const keepaliveBefore = await closedCount('keepalive_timeout');
    const client = await t.connectDevice('ka-ok', secrets['ka-ok'], { keepalive: 1, reconnectPeriod: 0 });
    let closedEarly = false;
    client.once('close', () => (closedEarly = true));
    // Three idle bounds of time, observed, not asserted as a duration.
    await new Promise((r) => setTimeout(r, MAX_KEEPALIVE_S * 1500 * 3));
    expect(closedEarly).toBe(false);
    await t.publish(client, 'ka-ok', [heartRate('ka-ok-1', 62)]);
    expect(await closedCount('idle_timeout')).toBe(idleBefore);
    expect(await closedCount('keepalive_timeout')).toBe(keepaliveBefore);
    client.end();
  });
});
