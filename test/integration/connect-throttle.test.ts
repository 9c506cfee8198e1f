import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate } from '../helpers/device.ts';

/**
 * README, "Security", "Limits on the MQTT listeners": failed authentications are
 * throttled per source address and per client id from that address, and reconnect
 * storms per client id (flapping); a throttled CONNECT gets CONNACK 3 (server
 * unavailable) before any credential lookup. Other addresses are 127.0.0.2 and up.
 */

const PER_ADDRESS = 5;
const PER_CLIENT = 3;
const FLAPPING = 5;
const secrets: Record<string, string> = {};
const DEVICES = ['th-a', 'th-b', 'th-c', 'th-d'];

const t = useTestService({
  env: {
    VITALINK_MQTT_AUTH_FAILURES_PER_ADDRESS: String(PER_ADDRESS),
    VITALINK_MQTT_AUTH_FAILURES_PER_CLIENT: String(PER_CLIENT),
    VITALINK_MQTT_FLAPPING_MAX_CONNECTS: String(FLAPPING),
  },
  beforeStart: async (fixture) => {
    for (const id of DEVICES) secrets[id] = await fixture.provisionDevice(id);
  },
});

const opened: net.Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy();
});

/**
 * A CONNECT over a raw socket from `localAddress`; resolves with the CONNACK's
 * return code (the socket is kept open on 0, until the end of the test).
 */
function connack(localAddress: string, clientId: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: t.ports.mqtt!, host: '127.0.0.1', localAddress });
    opened.push(s);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') resolve(p.returnCode ?? -1);
    });
    s.on('data', (d: Buffer) => parser.parse(d));
    s.on('error', () => {});
    s.on('close', () => reject(new Error('closed without CONNACK')));
    const timer = setTimeout(() => reject(new Error('no CONNACK within 10 s')), 10_000);
    s.on('close', () => clearTimeout(timer));
    parser.on('packet', () => clearTimeout(timer));
    s.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId,
        keepalive: 30,
        username: clientId,
        password: Buffer.from(password),
      }),
    );
  });
}

async function refusedCount(reason: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(
    new RegExp(`^vitalink_connections_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
  );
}

describe('failed authentication throttle', () => {
  it('throttles one client id from one address, not the same device from another address', async () => {
    const before = await refusedCount('throttled_client');
    const codes: number[] = [];
    for (let i = 0; i < PER_CLIENT + 2; i++) codes.push(await connack('127.0.0.20', 'th-a', 'not-the-secret'));
    expect(codes).toEqual([4, 4, 4, 3, 3]);
    expect(await refusedCount('throttled_client')).toBe(before + 2);
    // The right secret from the throttled address is refused too, before any lookup...
    expect(await connack('127.0.0.20', 'th-a', secrets['th-a'])).toBe(3);
    // ...while the device itself, from elsewhere, is served.
    expect(await connack('127.0.0.1', 'th-a', secrets['th-a'])).toBe(0);
    const device = await t.connectDevice('th-a', secrets['th-a']);
    await t.publish(device, 'th-a', [heartRate('th-a-1', 60)]);
    device.end();
  });

  it('throttles an address after failures across client ids; another address is unaffected', async () => {
    const before = await refusedCount('throttled_address');
    const codes: number[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) codes.push(await connack('127.0.0.21', `th-guess-${i}`, 'guess'));
    expect(codes).toEqual([4, 4, 4, 4, 4]);
    expect(await connack('127.0.0.21', 'th-b', secrets['th-b'])).toBe(3);
    expect(await refusedCount('throttled_address')).toBe(before + 1);
    expect(await connack('127.0.0.22', 'th-b', secrets['th-b'])).toBe(0);
  });
});

describe('flapping detection', () => {
  it('refuses a client id that reconnects too often, and only that one', async () => {
    const before = await refusedCount('flapping');
    const codes: number[] = [];
    for (let i = 0; i < FLAPPING + 1; i++) {
      codes.push(await connack('127.0.0.1', 'th-c', secrets['th-c']));
      for (const s of opened.splice(0)) s.destroy();
    }
    expect(codes).toEqual([0, 0, 0, 0, 3, 3]);
    expect(await refusedCount('flapping')).toBe(before + 2);
    expect(await connack('127.0.0.1', 'th-d', secrets['th-d'])).toBe(0);
  });
});
