/**
 * What a clinician's screens ask the running service for, timed from the client:
 * each request `repetitions` times in a row (after two unmeasured ones), on one
 * busy CGM patient. Deep pages are reached by following `deepPages` cursors once,
 * then that page is asked for again and again.
 */
import { type Latency, latencyOf } from './stats.ts';

const DAY_MS = 86_400_000;

export interface ReadTiming extends Latency {
  /** Size of the response body (the last one). */
  bytes: number;
  /** Items in the response (readings, entries, buckets, indicators or alerts). */
  items: number;
}

export interface ReadsOptions {
  readonly httpBase: string;
  readonly token: string;
  readonly patientId: string;
  /** The end of the loaded history: series windows end there. */
  readonly endMs: number;
  readonly repetitions: number;
  readonly deepPages: number;
  readonly pageSize: number;
}

async function get(o: ReadsOptions, path: string): Promise<{ ms: number; body: string }> {
  const url = path.startsWith('http') ? path : `${o.httpBase}${path}`;
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${o.token}` } });
  const body = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${body.slice(0, 300)}`);
  return { ms, body };
}

function itemsOf(json: Record<string, unknown>): number {
  for (const key of ['items', 'entry', 'indicators']) {
    const v = json[key];
    if (Array.isArray(v)) return v.length;
  }
  return 0;
}

async function time(o: ReadsOptions, path: string): Promise<ReadTiming> {
  await get(o, path);
  let last = await get(o, path);
  const samples: number[] = [];
  for (let i = 0; i < o.repetitions; i++) {
    last = await get(o, path);
    samples.push(last.ms);
  }
  return { ...latencyOf(samples), bytes: Buffer.byteLength(last.body), items: itemsOf(JSON.parse(last.body)) };
}

/** Follows `pages` cursors from `first` and returns the path of the page reached. */
async function deepPath(o: ReadsOptions, first: string, next: (json: Record<string, unknown>) => string | null) {
  let path = first;
  for (let i = 0; i < o.deepPages; i++) {
    const following = next(JSON.parse((await get(o, path)).body));
    if (!following) throw new Error(`${first} has fewer than ${o.deepPages + 1} pages; load more readings`);
    path = following;
  }
  return path;
}

export async function measureReads(o: ReadsOptions): Promise<Record<string, ReadTiming>> {
  const p = encodeURIComponent(o.patientId);
  const readings = `/api/v1/patients/${p}/readings?limit=${o.pageSize}`;
  const readingsDeep = await deepPath(o, readings, (j) =>
    typeof j.nextCursor === 'string' ? `${readings}&cursor=${encodeURIComponent(j.nextCursor)}` : null,
  );
  const fhir = `/fhir/Observation?patient=Patient/${p}&_count=${o.pageSize}`;
  const fhirDeep = await deepPath(o, fhir, (j) => {
    const link = (j.link as { relation: string; url: string }[] | undefined)?.find((l) => l.relation === 'next');
    return link ? new URL(link.url).pathname + new URL(link.url).search : null;
  });
  const to = new Date(o.endMs).toISOString();
  const series = (bucket: string, days: number) =>
    `/api/v1/patients/${p}/series?type=cgm_glucose&bucket=${bucket}&from=${encodeURIComponent(
      new Date(o.endMs - days * DAY_MS).toISOString(),
    )}&to=${encodeURIComponent(to)}`;
  const plan: [string, string][] = [
    ['readingsFirstPage', readings],
    ['readingsDeepPage', readingsDeep],
    ['readingsTypedFirstPage', `${readings}&type=cgm_glucose`],
    ['fhirFirstPage', fhir],
    ['fhirDeepPage', fhirDeep],
    ['seriesHour1d', series('hour', 1)],
    ['seriesHour14d', series('hour', 14)],
    ['seriesHour90d', series('hour', 90)],
    ['seriesDay90d', series('day', 90)],
    ['seriesAuto90d', series('auto', 90)],
    ['indicators', `/api/v1/patients/${p}/indicators`],
    ['alerts', '/api/v1/alerts'],
  ];
  const result: Record<string, ReadTiming> = {};
  for (const [name, path] of plan) result[name] = await time(o, path);
  return result;
}
