/**
 * README, "Running several instances", "Source addresses": behind a trusted load
 * balancer (VITALINK_TRUSTED_PROXIES) the MQTT listener reads the PROXY protocol
 * header and holds each connection to the device's address (the per-address cap
 * here), and HTTP takes the client's address from X-Forwarded-For (the audit row's
 * source, the loopback rule of /metrics). Raw sockets write the headers as HAProxy's
 * `send-proxy-v2` (or v1) would.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { waitFor } from '../helpers/device.ts';
import { connectPacket } from '../helpers/mqtt-packets.ts';

const t = useTestService({
  adminToken: true,
  env: { VITALINK_TRUSTED_PROXIES: '127.0.0.1', VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS: '2' },
});

function v2Header(address: string, port: number): Buffer {
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0, 12]);
  const body = Buffer.alloc(12);
  address.split('.').forEach((octet, i) => body.writeUInt8(Number(octet), i));
  [127, 0, 0, 1].forEach((octet, i) => body.writeUInt8(octet, 4 + i));
  body.writeUInt16BE(port, 8);
  body.writeUInt16BE(1883, 10);
  return Buffer.concat([head, body]);
}

function connect(deviceId: string, secret: string): Buffer {
  return connectPacket({ clientId: deviceId, username: deviceId, password: Buffer.from(secret) });
}

interface Raw {
  readonly socket: net.Socket;
  /** The CONNACK's return code, or 'closed' when the socket closed first. */
  readonly connack: Promise<number | 'closed'>;
}

/** A socket that writes `bytes` at once, as a proxy relays a client's first bytes behind its header. */
function rawConnection(bytes: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(t.ports.mqtt!, '127.0.0.1');
    const connack = new Promise<number | 'closed'>((done) => {
      socket.on('data', (d: Buffer) => {
        if (d[0] === 0x20) done(d[3]!);
      });
      socket.on('close', () => done('closed'));
      socket.on('error', () => done('closed'));
    });
    socket.once('connect', () => {
      socket.write(bytes);
      resolve({ socket, connack });
    });
    socket.once('error', reject);
  });
}

async function refusals(reason: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(
    new RegExp(`^vitalink_listener_refusals_total\\{listener="mqtt",reason="${reason}"\\} (\\d+)$`, 'm').exec(
      text,
    )?.[1] ?? 0,
  );
}

describe('the PROXY protocol from a trusted load balancer', () => {
  it('holds each connection to the device’s address: the per-address cap counts devices, not the proxy', async () => {
    const ids = ['pp-1', 'pp-2', 'pp-3', 'pp-4'];
    const secrets = await Promise.all(ids.map((id) => t.provisionDevice(id)));
    const capBefore = await refusals('max_connections_per_address');
    const open: net.Socket[] = [];
    try {
      // Two devices behind one home router (203.0.113.7): the cap of 2 is theirs.
      for (const i of [0, 1]) {
        const c = await rawConnection(
          Buffer.concat([v2Header('203.0.113.7', 40000 + i), connect(ids[i]!, secrets[i]!)]),
        );
        open.push(c.socket);
        expect(await c.connack).toBe(0);
      }
      const third = await rawConnection(Buffer.concat([v2Header('203.0.113.7', 40002), connect(ids[2]!, secrets[2]!)]));
      open.push(third.socket);
      expect(await third.connack).toBe('closed');
      expect(await refusals('max_connections_per_address')).toBe(capBefore + 1);
      // Another address through the same proxy is not affected, in a v1 header too.
      const other = await rawConnection(
        Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.9 127.0.0.1 40003 1883\r\n'), connect(ids[3]!, secrets[3]!)]),
      );
      open.push(other.socket);
      expect(await other.connack).toBe(0);
    } finally {
      for (const s of open) s.destroy();
    }
  });

  it('closes a connection from the proxy that does not begin with a header, and counts it', async () => {
    const secret = await t.provisionDevice('pp-bare');
    const before = await refusals('proxy_header_invalid');
    const bare = await rawConnection(connect('pp-bare', secret));
    expect(await bare.connack).toBe('closed');
    await waitFor(async () => (await refusals('proxy_header_invalid')) === before + 1, 'the refusal counted');
  });

  it('takes the HTTP client’s address from X-Forwarded-For: in the audit trail, and for /metrics', async () => {
    await t.addPatient('p-pp');
    const clinician = (await t.createToken('clinician', ['p-pp'])).token;
    const res = await t.api.get('/api/v1/patients/p-pp', {
      token: clinician,
      headers: { 'x-forwarded-for': '198.51.100.23' },
    });
    expect(res.status).toBe(200);
    const { rows } = await t.query(
      `SELECT source_address FROM audit_log WHERE patient_id = 'p-pp' AND action = 'patients.read'`,
    );
    expect(rows.map((r) => r.source_address)).toEqual(['198.51.100.23']);
    // Relayed from outside by a load balancer on this machine: not a local request.
    const metrics = await fetch(`${t.httpUrl}/metrics`, { headers: { 'x-forwarded-for': '198.51.100.23' } });
    expect(metrics.status).toBe(401);
    expect((await fetch(`${t.httpUrl}/metrics`)).status).toBe(200);
  });
});
