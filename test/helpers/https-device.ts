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
