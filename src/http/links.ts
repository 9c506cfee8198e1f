import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/**
 * The base of every absolute link the service builds (FHIR `fullUrl`, `self`,
 * `next`): VITALINK_PUBLIC_URL when set; otherwise the address of the listener
 * that took the request, as the socket has it (https on the HTTPS listener). Never the request's Host header,
 * which the client chooses (`Host: evil.example` would otherwise come back as a
 * link).
 */
export function linkBase(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return publicUrl;
  const { localAddress, localPort } = request.socket;
  const address = localAddress ?? '127.0.0.1';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  const host = mapped ? mapped[1] : address.includes(':') ? `[${address}]` : address;
  const scheme = (request.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  return `${scheme}://${host}:${localPort}`;
}
