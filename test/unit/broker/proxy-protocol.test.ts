import { describe, expect, it } from 'vitest';
import { parseProxyHeader, trustedProxies } from '../../../src/broker/proxy-protocol.ts';

const v2 = (command: number, family: number, body: Buffer) => {
  const head = Buffer.from([
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
    0x20 | command,
    family,
    0,
    0,
  ]);
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
};

describe('parseProxyHeader', () => {
  it('reads a v1 line, TCP4 and TCP6, and leaves what follows', () => {
    const line = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51234 1883\r\n\x10\x20');
    expect(parseProxyHeader(line)).toEqual({
      ok: true,
      header: { kind: 'proxied', address: '203.0.113.7', port: 51234, length: line.length - 2 },
    });
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 1883\r\n'));
    expect(six).toMatchObject({ ok: true, header: { address: '2001:db8::7', port: 4000 } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toMatchObject({ ok: true, header: { kind: 'local' } });
  });

  it('reads a v2 header: PROXY over TCP4 and TCP6 (TLVs skipped), LOCAL as the proxy’s own connection', () => {
    const four = Buffer.from([203, 0, 113, 7, 10, 0, 0, 1, 0xc8, 0x22, 0x07, 0x5b, 0x01, 0x00, 0x02, 0x68, 0x32]);
    expect(parseProxyHeader(Buffer.concat([v2(1, 0x11, four), Buffer.from([0x10])]))).toEqual({
      ok: true,
      header: { kind: 'proxied', address: '203.0.113.7', port: 0xc822, length: 16 + four.length },
    });
    const sixBody = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000007', 'hex').copy(sixBody, 0);
    sixBody.writeUInt16BE(4000, 32);
    expect(parseProxyHeader(v2(1, 0x21, sixBody))).toMatchObject({
      ok: true,
      header: { kind: 'proxied', address: '2001:db8::7', port: 4000 },
    });
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).toMatchObject({ ok: true, header: { kind: 'local' } });
  });

  it('waits for the rest of a header cut anywhere', () => {
    const whole = v2(1, 0x11, Buffer.from([203, 0, 113, 7, 10, 0, 0, 1, 0, 1, 0, 2]));
    for (let cut = 1; cut < whole.length; cut++) {
      expect(parseProxyHeader(whole.subarray(0, cut)), `cut at ${cut}`).toEqual({ ok: false, incomplete: true });
    }
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2'))).toEqual({ ok: false, incomplete: true });
  });

  it('refuses what is not a header: an MQTT CONNECT, a malformed line, a v2 header too long', () => {
    expect(parseProxyHeader(Buffer.from([0x10, 0x1a, 0x00, 0x04]))).toMatchObject({ ok: false, incomplete: false });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 999.0.0.1 10.0.0.1 1 2\r\n'))).toMatchObject({
      ok: false,
      incomplete: false,
    });
    expect(parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`))).toMatchObject({
      ok: false,
      incomplete: false,
    });
    expect(parseProxyHeader(v2(1, 0x11, Buffer.alloc(600)))).toMatchObject({ ok: false, incomplete: false });
  });
});

describe('trustedProxies (VITALINK_TRUSTED_PROXIES)', () => {
  it('matches addresses and blocks, IPv4 also in its IPv6-mapped form, and nothing when empty', () => {
    const trusted = trustedProxies(['10.0.1.0/24', '192.0.2.5', 'fd00::/8']);
    expect(trusted('10.0.1.77')).toBe(true);
    expect(trusted('::ffff:10.0.1.77')).toBe(true);
    expect(trusted('192.0.2.5')).toBe(true);
    expect(trusted('fd12::1')).toBe(true);
    expect(trusted('10.0.2.1')).toBe(false);
    expect(trusted('192.0.2.6')).toBe(false);
    expect(trusted('')).toBe(false);
    expect(trustedProxies([])('127.0.0.1')).toBe(false);
  });
});
