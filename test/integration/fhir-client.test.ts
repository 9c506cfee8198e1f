import { Client } from 'fhir-kit-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import type { Reading } from '../helpers/device.ts';

/**
 * The FHIR surface as a standard client uses it (issue #15, item 2): fhir-kit-client
 * (npm, not our code) reads the CapabilityStatement, searches Observations following
 * the next links, and reads each Observation by the id the search gave. Plus what a
 * client found wrong before: category ignored yet echoed, _summary=count and _format
 * ignored, partial dates refused, CGM summaries for a patient without CGM data.
 */

const HOUR = 3_600_000;
const CGM = 'http://hl7.org/fhir/uv/cgm/CodeSystem/cgm-summary-codes-temporary';
const t = useTestService({ env: { VITALINK_AGGREGATION_INTERVAL_MS: '100' } });
let clinician: string;
let other: string;
const t0 = Date.now() - 30 * HOUR;
const day = new Date(t0).toISOString().slice(0, 10);

function client(token: string | null = clinician): Client {
  return new Client({
    baseUrl: `${t.httpUrl}/fhir`,
    ...(token ? { bearerToken: token } : {}),
  });
}

async function get(path: string, headers: Record<string, string> = {}, token: string | null = clinician) {
  const res = await fetch(`${t.httpUrl}/fhir${path}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

const resources = (bundle: any): any[] => (bundle.entry ?? []).map((e: any) => e.resource);

beforeAll(async () => {
  // p-fc-1: a cuff (heart rate, blood pressure, weight) and a CGM; p-fc-2: heart failure, no CGM.
  const cuff = await t.device('fc-cuff-1', 'p-fc-1');
  const sensor = await t.device('fc-cgm-1', 'p-fc-1');
  const scale = await t.device('fc-scale-2', 'p-fc-2');
  clinician = (await t.createToken('clinician', ['p-fc-1', 'p-fc-2'])).token;
  await t.addPatient('p-fc-3');
  other = (await t.createToken('clinician', ['p-fc-3'])).token;
  const readings: Reading[] = Array.from({ length: 12 }, (_, i) => ({
    id: `hr-${i}`,
    type: 'heart_rate',
    at: t0 + i * HOUR,
    value: 60 + i,
    unit: '/min',
  }));
  readings.push({ id: 'w-1', type: 'body_weight', at: t0 + 30 * 60_000, value: 80, unit: 'kg' });
  await t.publish(cuff, 'fc-cuff-1', readings);
  await t.publish(
    sensor,
    'fc-cgm-1',
    Array.from({ length: 6 }, (_, i) => ({
      id: `cgm-${i}`,
      type: 'cgm_glucose',
      at: t0 + i * 5 * 60_000,
      value: 100 + 10 * i,
      unit: 'mg/dL',
    })),
  );
  await t.publish(scale, 'fc-scale-2', [
    { id: 'w-2', type: 'body_weight', at: t0, value: 91, unit: 'kg' },
    { id: 'hr-2', type: 'heart_rate', at: t0 + HOUR, value: 88, unit: '/min' },
  ]);
  await t.settled();
});

describe('a FHIR client (fhir-kit-client) against the running service', () => {
  it('reads the CapabilityStatement, pages a search through its next links, and reads every Observation by id', async () => {
    const fhir = client();
    const metadata: any = await client(null).capabilityStatement();
    expect(metadata.resourceType).toBe('CapabilityStatement');
    const observation = metadata.rest[0].resource.find((r: any) => r.type === 'Observation');
    expect(observation.interaction.map((i: any) => i.code).sort()).toEqual(['read', 'search-type']);
    expect(observation.searchParam.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['patient', 'subject', 'code', 'category', 'date', '_lastUpdated', '_count', '_summary']),
    );

    let page: any = await fhir.search({
      resourceType: 'Observation',
      searchParams: { subject: 'Patient/p-fc-1', _count: 4 },
    });
    const seen: any[] = [];
    let pages = 0;
    while (page) {
      pages++;
      seen.push(...resources(page));
      page = await fhir.nextPage({ bundle: page });
    }
    // 9 CGM summaries, 12 heart rates, 1 weight, 6 CGM readings.
    expect(seen.length).toBe(28);
    expect(pages).toBe(7);
    expect(new Set(seen.map((r) => r.id)).size).toBe(28);
    expect(seen.slice(0, 9).every((r) => r.code.coding[0].system === CGM)).toBe(true);

    for (const r of seen) {
      const read: any = await fhir.read({ resourceType: 'Observation', id: r.id });
      expect(read).toEqual(r);
    }
    const { rows } = await t.query(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'fhir.observation.read' AND patient_id = 'p-fc-1'`,
    );
    expect(rows[0].n).toBe(28);
  });

  it('keeps other patients out of a read (404) and says so in the audit log', async () => {
    const { body } = await get('/Observation?patient=p-fc-1&code=8867-4&_count=1');
    const id = resources(body)[0].id;
    await expect(client(other).read({ resourceType: 'Observation', id })).rejects.toMatchObject({
      response: { status: 404 },
    });
    const cgmId = resources((await get('/Observation?patient=p-fc-1&_count=1')).body)[0].id;
    expect(cgmId).toMatch(/^cgm-/);
    expect((await get(`/Observation/${cgmId}`, {}, other)).status).toBe(404);
    for (const unknown of ['r-0000000000000000000000000000000000000000', 'nonsense', 'cgm-x']) {
      const r = await get(`/Observation/${unknown}`);
      expect(r.status, unknown).toBe(404);
      expect(r.body.resourceType).toBe('OperationOutcome');
    }
    const denied = await t.query(
      `SELECT patient_id FROM audit_log WHERE outcome = 'denied' AND action = 'GET /fhir/Observation/:id'`,
    );
    expect(denied.rows).toEqual([{ patient_id: 'p-fc-1' }]);
  });

  it('gives CGM summaries only to a patient with CGM data', async () => {
    // The aggregation did compute a sensor-active figure (0 %) for the heart-failure patient…
    const { rows } = await t.query(
      `SELECT value FROM patient_indicators WHERE patient_id = 'p-fc-2' AND key = 'sensor_active'`,
    );
    expect(rows).toEqual([{ value: 0 }]);
    // …which is no CGM summary.
    const { body } = await get('/Observation?patient=p-fc-2');
    expect(
      resources(body)
        .map((r) => r.code.coding[0].code)
        .sort(),
    ).toEqual(['29463-7', '8867-4']);
    expect(resources(body).some((r) => r.code.coding[0].system === CGM)).toBe(false);
  });

  it('honours category (echoed only then), _summary=count, partial dates and _lastUpdated', async () => {
    const vital = await get('/Observation?patient=p-fc-1&category=vital-signs');
    expect(resources(vital.body).length).toBe(13);
    expect(resources(vital.body).every((r) => r.category[0].coding[0].code === 'vital-signs')).toBe(true);
    expect(vital.body.link[0].url).toBe(`${t.httpUrl}/fhir/Observation?patient=p-fc-1&category=vital-signs`);
    const lab = await get(
      `/Observation?patient=p-fc-1&category=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/observation-category|laboratory')}`,
    );
    expect(resources(lab.body).length).toBe(9 + 6);

    const count = await get('/Observation?patient=p-fc-1&_summary=count');
    expect(count.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 28 });
    expect(count.body).not.toHaveProperty('entry');
    expect((await get('/Observation?patient=p-fc-1&code=8867-4&_summary=count')).body.total).toBe(12);

    // A partial date is its day (UTC); ne / sa / eb over it.
    const hours = (q: string) =>
      get(`/Observation?patient=p-fc-1&code=8867-4&${q}`).then((r) =>
        resources(r.body).map((o) => o.effectiveDateTime),
      );
    const all = await hours('');
    const inDay = all.filter((at) => at.startsWith(day));
    expect((await hours(`date=${day}`)).sort()).toEqual(inDay.sort());
    expect((await hours(`date=ne${day}`)).length).toBe(12 - inDay.length);
    expect((await hours(`date=sa${day}`)).every((at) => at.slice(0, 10) > day)).toBe(true);
    expect((await hours(`date=eb${day}`)).length).toBe(0);
    expect((await hours(`date=${day.slice(0, 7)}&date=${day.slice(0, 4)}`)).length).toBe(
      all.filter((at) => at.startsWith(day.slice(0, 7))).length,
    );
    // A minute (the precision of the value) around hr-5: ne pages across the two intervals it leaves.
    const minute = `${new Date(t0 + 5 * HOUR).toISOString().slice(0, 16)}Z`;
    const ids: string[] = [];
    let url: string | undefined =
      `/Observation?patient=p-fc-1&code=8867-4&date=ne${encodeURIComponent(minute)}&_count=2`;
    while (url) {
      const r = await get(url);
      ids.push(...resources(r.body).map((o) => o.identifier[0].value));
      url = r.body.link.find((l: any) => l.relation === 'next')?.url.replace(`${t.httpUrl}/fhir`, '');
    }
    expect(ids).toEqual([11, 10, 9, 8, 7, 6, 4, 3, 2, 1, 0].map((i) => `hr-${i}`));
    const ofHr = (q: string) =>
      get(`/Observation?patient=p-fc-1&code=8867-4&${q}`).then((r) =>
        resources(r.body).map((o) => o.identifier[0].value),
      );
    expect(await ofHr(`date=eq${encodeURIComponent(minute)}`)).toEqual(['hr-5']);
    expect(await ofHr(`date=sa${encodeURIComponent(minute)}`)).toEqual([11, 10, 9, 8, 7, 6].map((i) => `hr-${i}`));
    expect(await ofHr(`date=eb${encodeURIComponent(minute)}`)).toEqual([4, 3, 2, 1, 0].map((i) => `hr-${i}`));
    // _lastUpdated: when stored (meta.lastUpdated); everything here was stored minutes ago.
    expect((await hours(`_lastUpdated=ge${day.slice(0, 4)}`)).length).toBe(12);
    expect((await hours('_lastUpdated=lt2020')).length).toBe(0);
    expect(resources(vital.body)[0].meta.lastUpdated).toBe(resources(vital.body)[0].issued);
  });

  it('refuses other parameters unless lenient, and other formats with a 406', async () => {
    const strict = await get('/Observation?patient=p-fc-1&_elements=code&_sort=-date');
    expect(strict.status).toBe(400);
    expect(strict.body.issue[0].diagnostics).toContain('_elements, _sort');
    const lenient = await get('/Observation?patient=p-fc-1&_sort=-date&category=activity', {
      prefer: 'handling=lenient',
    });
    expect(lenient.status).toBe(200);
    expect(lenient.body.link[0].url).toBe(`${t.httpUrl}/fhir/Observation?patient=p-fc-1&category=activity`);

    for (const [q, headers] of [
      ['?patient=p-fc-1&_format=xml', {}],
      ['?patient=p-fc-1&_format=application/fhir%2Bxml', {}],
      ['?patient=p-fc-1', { accept: 'application/fhir+xml' }],
    ] as const) {
      const r = await get(`/Observation${q}`, headers);
      expect(r.status, q).toBe(406);
      expect(r.body.issue[0].code).toBe('not-supported');
    }
    expect((await get('/metadata?_format=xml', {}, null)).status).toBe(406);
    for (const format of ['json', 'application/json', 'application/fhir%2Bjson']) {
      expect((await get(`/Observation?patient=p-fc-1&_format=${format}`)).status, format).toBe(200);
    }
  });
});
