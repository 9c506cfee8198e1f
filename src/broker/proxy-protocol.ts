import net from 'node:net';

/**
 * The PROXY protocol (versions 1 and 2, haproxy.org/download/2.6/doc/proxy-protocol.txt):
 * a load balancer in TCP mode (HAProxy `send-proxy-v2`) writes the client's address
 * before the client's first byte. Read only on connections from
 * VITALINK_TRUSTED_PROXIES (README, "Running several instances", "Source
 * addresses"): from anyone else, a header would let a client choose its address.
 */

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** v1: at most 107 bytes, CRLF included. */
const V1_MAX = 107;
/** v2: the 16-byte head and the addresses; TLVs (ALPN, unique id, ...) beyond this are refused. */
const V2_MAX = 16 + 512;

export type ProxyHeader =
  /** The client's address and port as the proxy saw them. */
  | { readonly kind: 'proxied'; readonly address: string; readonly port: number; readonly length: number }
  /** The proxy's own connection (a health check, `LOCAL` / `UNKNOWN`): the socket's address stands. */
  | { readonly kind: 'local'; readonly length: number };

export type ProxyParse =
  | { readonly ok: true; readonly header: ProxyHeader }
  | { readonly ok: false; readonly incomplete: true }
  | { readonly ok: false; readonly incomplete: false; readonly problem: string };

const incomplete = { ok: false, incomplete: true } as const;
const refuse = (problem: string): ProxyParse => ({ ok: false, incomplete: false, problem });

/** Parses a PROXY header at the start of `data`: complete, not yet complete, or not one. */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (data.length === 0) return incomplete;
  if (data[0] === 0x0d) {
    const have = Math.min(data.length, V2_SIGNATURE.length);
    if (!data.subarray(0, have).equals(V2_SIGNATURE.subarray(0, have))) return refuse('not a PROXY protocol header');
    if (data.length < 16) return incomplete;
    return parseV2(data);
  }
  const prefix = 'PROXY ';
  const have = Math.min(data.length, prefix.length);
  if (data.toString('latin1', 0, have) !== prefix.slice(0, have)) return refuse('not a PROXY protocol header');
  const end = data.indexOf('\r\n');
  if (end < 0) return data.length >= V1_MAX ? refuse('PROXY v1 line longer than 107 bytes') : incomplete;
  if (end + 2 > V1_MAX) return refuse('PROXY v1 line longer than 107 bytes');
  return parseV1(data.toString('latin1', 0, end), end + 2);
}

function parseV1(line: string, length: number): ProxyParse {
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { ok: true, header: { kind: 'local', length } };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return refuse('malformed PROXY v1 line');
  const [, family, source, , sourcePort] = parts as [string, string, string, string, string, string];
  if (net.isIP(source) !== (family === 'TCP4' ? 4 : 6)) return refuse('malformed PROXY v1 source address');
  const port = Number(sourcePort);
  if (!/^\d{1,5}$/.test(sourcePort) || port > 65535) return refuse('malformed PROXY v1 source port');
  return { ok: true, header: { kind: 'proxied', address: source, port, length } };
}

function parseV2(data: Buffer): ProxyParse {
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return refuse('PROXY v2 header of an unknown version');
  const command = versionCommand & 0x0f;
  const length = 16 + data.readUInt16BE(14);
  if (length > V2_MAX) return refuse('PROXY v2 header longer than 528 bytes');
  if (data.length < length) return incomplete;
  if (command === 0x0) return { ok: true, header: { kind: 'local', length } };
  if (command !== 0x1) return refuse('PROXY v2 header with an unknown command');
  const family = data[13]! >> 4;
  const body = data.subarray(16, length);
  if (family === 0x1 && body.length >= 12) {
    const address = [...body.subarray(0, 4)].join('.');
    return { ok: true, header: { kind: 'proxied', address, port: body.readUInt16BE(8), length } };
  }
  if (family === 0x2 && body.length >= 36) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    const address = new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
    return { ok: true, header: { kind: 'proxied', address, port: body.readUInt16BE(32), length } };
  }
  // AF_UNSPEC or a UNIX socket: no client address to give.
  return { ok: true, header: { kind: 'local', length } };
}

/** The client's address of a socket, set when a PROXY header gave it. */
export const CLIENT_ADDRESS = Symbol('clientAddress');
export interface ProxiedSocket {
  [CLIENT_ADDRESS]?: string;
}

/** The address to hold a connection to: the one its PROXY header gave, or the socket's. */
export function clientAddressOf(socket: Partial<net.Socket> & ProxiedSocket): string {
  return socket[CLIENT_ADDRESS] ?? socket.remoteAddress ?? '';
}

/** Which peers are trusted to send a PROXY header: VITALINK_TRUSTED_PROXIES, addresses and CIDR blocks. */
export function trustedProxies(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return (address) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const a = mapped ?? address;
    const family = net.isIP(a);
    return family !== 0 && list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * Reads the PROXY header of a socket from a trusted proxy, then calls `done` with
 * the socket (the header consumed, what followed it put back) and the client's
 * address; a socket that sends no valid header within `timeoutMs` is destroyed and
 * `refused` is told why.
 */
export function readProxyHeader(
  socket: net.Socket,
  timeoutMs: number,
  done: (socket: net.Socket & ProxiedSocket) => void,
  refused: (reason: 'proxy_header_invalid' | 'proxy_header_timeout') => void,
): void {
  let buffered: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    cleanup();
    refused('proxy_header_timeout');
    socket.destroy();
  }, timeoutMs);
  const cleanup = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', cleanup);
  };
  const onData = (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const parsed = parseProxyHeader(buffered);
    if (!parsed.ok && parsed.incomplete) return;
    cleanup();
    if (!parsed.ok) {
      refused('proxy_header_invalid');
      socket.destroy();
      return;
    }
    socket.pause();
    const rest = buffered.subarray(parsed.header.length);
    if (rest.length > 0) socket.unshift(rest);
    if (parsed.header.kind === 'proxied')
      (socket as net.Socket & ProxiedSocket)[CLIENT_ADDRESS] = parsed.header.address;
    done(socket);
  };
  socket.on('data', onData);
  socket.once('close', cleanup);
}
