import { readFileSync } from 'node:fs';
import https from 'node:https';

/** A device sending over HTTPS (device-protocol.md, "Over HTTPS"), as a phone app or a gateway does: fetch and Basic auth. */
export interface DevicePost {
  status: number;
  body: any;
  headers: Headers;
}

export function basicAuth(deviceId: string, secret: string): string {
  return `Basic ${Buffer.from(`${deviceId}:${secret}`, 'utf8').toString('base64')}`;
}

/** POSTs `payload` (bytes as is, a string, or a value sent as JSON) to the readings of `pathId`. */
export async function postReadings(
  baseUrl: string,
  pathId: string,
  payload: Buffer | string | object,
  auth: { deviceId: string; secret: string } | { authorization: string } | null,
  contentType = 'application/json',
): Promise<DevicePost> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (auth && 'authorization' in auth) headers.authorization = auth.authorization;
  else if (auth) headers.authorization = basicAuth(auth.deviceId, auth.secret);
  const body = Buffer.isBuffer(payload)
    ? new Uint8Array(payload)
    : typeof payload === 'string'
      ? payload
      : JSON.stringify(payload);
  const res = await fetch(`${baseUrl}/api/v1/devices/${encodeURIComponent(pathId)}/readings`, {
    method: 'POST',
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text, which fails any shape assertion
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * One request to `port` over a new TLS connection (no agent: no connection or TLS
 * session reused, so each request carries the client certificate it is given),
 * trusting `ca` for the service's certificate (issued for localhost).
 */
export function httpsRequest(
  port: number,
  ca: Buffer,
  method: 'GET' | 'POST',
  urlPath: string,
  options: { body?: unknown; authorization?: string; cert?: { cert: string; key: string } } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method,
        servername: 'localhost',
        ca,
        agent: false,
        ...(options.cert ? { cert: readFileSync(options.cert.cert), key: readFileSync(options.cert.key) } : {}),
        headers: {
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.authorization ? { authorization: options.authorization } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            // not JSON: kept as text, which fails any shape assertion
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
