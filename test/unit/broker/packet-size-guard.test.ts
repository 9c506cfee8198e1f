import { once } from 'node:events';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { guardPacketSize, PacketLengthTracker } from '../../../src/broker/packet-size-guard.ts';

/** The largest remaining length MQTT can express (MQTT-2.2.3). */
const MQTT_MAX = 268_435_455;

/** Remaining length of the packet at the start of `buf`, decoded here independently of the tracker. */
function remainingLength(buf: Buffer): { length: number; headerBytes: number } {
  let length = 0;
  let i = 1;
  for (let shift = 0; ; shift += 7) {
    const b = buf[i++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { length, headerBytes: i };
  }
}

function publish(payloadBytes: number, topic = 'v1/devices/dev-1/readings'): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload: Buffer.alloc(payloadBytes, 0x61),
    qos: 1,
    messageId: 7,
    retain: false,
    dup: false,
  });
}

/** A realistic session: CONNECT, PUBLISHes whose lengths take 1, 2 and 3 varint bytes, SUBSCRIBE, PINGREQ, DISCONNECT. */
function session(): Buffer[] {
  return [
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'dev-1',
      keepalive: 30,
      username: 'dev-1',
      password: Buffer.from('s3cret'),
    }),
    publish(10),
    publish(300),
    publish(20_000),
    mqttPacket.generate({
      cmd: 'subscribe',
      messageId: 8,
      subscriptions: [{ topic: 'v1/devices/dev-1/#', qos: 1 }],
    }),
    mqttPacket.generate({ cmd: 'pingreq' }),
    mqttPacket.generate({ cmd: 'puback', messageId: 3 }),
    mqttPacket.generate({ cmd: 'disconnect' }),
  ];
}

/** A PUBLISH fixed header declaring the largest length, with no body. */
const HUGE_HEADER = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]);

describe('PacketLengthTracker', () => {
  it('the test packets have 1-, 2- and 3-byte remaining lengths and a zero length', () => {
    const headerBytes = session().map((p) => remainingLength(p).headerBytes - 1);
    expect(new Set(headerBytes)).toEqual(new Set([1, 2, 3]));
    expect(remainingLength(HUGE_HEADER).length).toBe(MQTT_MAX);
    expect(remainingLength(mqttPacket.generate({ cmd: 'pingreq' })).length).toBe(0);
  });

  it('accepts many packets in one chunk and stays aligned on packet boundaries', () => {
    const all = Buffer.concat(session());
    const tracker = new PacketLengthTracker(64 * 1024);
    expect(tracker.feed(all)).toBeUndefined();
    // Still aligned: the next fixed header is read as a header.
    expect(tracker.feed(publish(5))).toBeUndefined();
    expect(tracker.feed(HUGE_HEADER)).toBe(MQTT_MAX);
  });

  it('accepts the packets fed byte by byte', () => {
    const all = Buffer.concat(session());
    const tracker = new PacketLengthTracker(64 * 1024);
    for (let i = 0; i < all.length; i++) expect(tracker.feed(all.subarray(i, i + 1))).toBeUndefined();
    expect(tracker.feed(HUGE_HEADER)).toBe(MQTT_MAX);
  });

  it('accepts the packets split at every byte boundary', () => {
    const packets = [...session().slice(0, 3), mqttPacket.generate({ cmd: 'pingreq' }), publish(200)];
    const all = Buffer.concat(packets);
    for (let split = 0; split <= all.length; split++) {
      const tracker = new PacketLengthTracker(64 * 1024);
      expect(tracker.feed(all.subarray(0, split))).toBeUndefined();
      expect(tracker.feed(all.subarray(split))).toBeUndefined();
      // Aligned after the split: an oversize header that follows is caught, with its length.
      expect(tracker.feed(HUGE_HEADER), `split at ${split}`).toBe(MQTT_MAX);
    }
  });

  it('finds an oversize packet behind valid ones in the same chunk, and one split across chunks', () => {
    const oversize = publish(2_000);
    const { length } = remainingLength(oversize);
    const chunk = Buffer.concat([...session().slice(0, 2), oversize]);
    expect(new PacketLengthTracker(1_000).feed(chunk)).toBe(length);
    const prefix = Buffer.concat(session().slice(0, 2));
    for (let cut = 1; cut < remainingLength(oversize).headerBytes; cut++) {
      const tracker = new PacketLengthTracker(1_000);
      expect(tracker.feed(Buffer.concat([prefix, oversize.subarray(0, cut)]))).toBeUndefined();
      expect(tracker.feed(oversize.subarray(cut))).toBe(length);
    }
  });

  it('accepts a remaining length exactly at the bound and refuses one byte over', () => {
    const packet = publish(500);
    const { length } = remainingLength(packet);
    expect(new PacketLengthTracker(length).feed(packet)).toBeUndefined();
    expect(new PacketLengthTracker(length - 1).feed(packet)).toBe(length);
    const oneMore = publish(501);
    expect(remainingLength(oneMore).length).toBe(length + 1);
    expect(new PacketLengthTracker(length).feed(oneMore)).toBe(length + 1);
  });

  it('accepts the largest MQTT length when the bound allows it', () => {
    const tracker = new PacketLengthTracker(MQTT_MAX);
    expect(tracker.feed(HUGE_HEADER)).toBeUndefined();
  });

  it('refuses a fifth remaining-length byte (continuation bit on the fourth) with -1', () => {
    expect(new PacketLengthTracker(MQTT_MAX).feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe(-1);
    expect(new PacketLengthTracker(MQTT_MAX).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toBe(-1);
    const byByte = new PacketLengthTracker(MQTT_MAX);
    const bytes = [0x30, 0x80, 0x80, 0x80];
    for (const b of bytes) expect(byByte.feed(Buffer.from([b]))).toBeUndefined();
    expect(byByte.feed(Buffer.from([0x80]))).toBe(-1);
    // A four-byte length whose last byte ends the integer is fine.
    expect(new PacketLengthTracker(MQTT_MAX).feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]))).toBeUndefined();
  });

  it('refuses a huge declared length from the header alone, reporting the declared length', () => {
    const bound = 1024 * 1024;
    expect(new PacketLengthTracker(bound).feed(HUGE_HEADER)).toBe(MQTT_MAX);
    const byByte = new PacketLengthTracker(bound);
    const results = [...HUGE_HEADER].map((b) => byByte.feed(Buffer.from([b])));
    expect(results.slice(0, -1)).toEqual([undefined, undefined, undefined, undefined]);
    expect(results.at(-1)).toBe(MQTT_MAX);
  });

  it('skips large bodies fed in pieces', () => {
    const packet = publish(60_000);
    const tracker = new PacketLengthTracker(64 * 1024);
    for (let i = 0; i < packet.length; i += 1_000) {
      expect(tracker.feed(packet.subarray(i, i + 1_000))).toBeUndefined();
    }
    expect(tracker.feed(HUGE_HEADER)).toBe(MQTT_MAX);
  });
});

describe('PacketLengthTracker.setLimit', () => {
  it('applies a raised bound to the packets after it, not to the one being read', () => {
    const packet = publish(500);
    const { length } = remainingLength(packet);
    const tracker = new PacketLengthTracker(length - 1);
    expect(tracker.feed(packet)).toBe(length);
    const raised = new PacketLengthTracker(length - 1);
    raised.setLimit(length);
    expect(raised.limit).toBe(length);
    expect(raised.feed(packet)).toBeUndefined();
    raised.setLimit(10);
    expect(raised.feed(packet)).toBe(length);
  });
});

describe('guardPacketSize on a real socket', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  /** A TCP server that guards its connection and records what its reader gets; and a client. */
  async function guardedServer(bound: number) {
    const onOversize = vi.fn();
    const received: Buffer[] = [];
    let accepted!: (socket: net.Socket) => void;
    const serverSide = new Promise<net.Socket>((resolve) => {
      accepted = resolve;
    });
    const listener = net.createServer((socket) => {
      guardPacketSize(socket, bound, onOversize);
      socket.on('data', (d: Buffer) => received.push(d));
      socket.on('error', () => {});
      accepted(socket);
    });
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    const server = await serverSide;
    cleanups.push(() => {
      client.destroy();
      server.destroy();
      listener.close();
    });
    return { client, server, received, onOversize };
  }

  it('passes data under the bound through unchanged', async () => {
    const { client, server, received, onOversize } = await guardedServer(64 * 1024);
    const packets = session();
    for (const p of packets) {
      // Split each packet in two writes to cross chunk boundaries.
      const mid = Math.floor(p.length / 2);
      client.write(p.subarray(0, mid));
      client.write(p.subarray(mid));
    }
    client.end();
    await once(server, 'end');
    expect(Buffer.concat(received).equals(Buffer.concat(packets))).toBe(true);
    expect(onOversize).not.toHaveBeenCalled();
    expect(server.destroyed).toBe(false);
  });

  it('destroys the socket on an oversize header and reports the declared length', async () => {
    const { client, server, received, onOversize } = await guardedServer(64 * 1024);
    const before = publish(100);
    client.write(before);
    await vi.waitFor(() => expect(Buffer.concat(received).length).toBe(before.length));
    const closed = once(server, 'close');
    client.write(HUGE_HEADER);
    await closed;
    expect(server.destroyed).toBe(true);
    expect(onOversize).toHaveBeenCalledTimes(1);
    expect(onOversize).toHaveBeenCalledWith(MQTT_MAX, 64 * 1024);
    expect(Buffer.concat(received).equals(before)).toBe(true);
    // The client sees the connection go away.
    await vi.waitFor(() => expect(client.readableEnded || client.destroyed).toBe(true));
  });

  it('refuses a packet one byte over the bound, body and all', async () => {
    const packet = publish(500);
    const { length } = remainingLength(packet);
    const { client, server, received, onOversize } = await guardedServer(length - 1);
    const closed = once(server, 'close');
    client.write(packet);
    await closed;
    expect(onOversize).toHaveBeenCalledWith(length, length - 1);
    expect(received).toEqual([]);
  });
});
