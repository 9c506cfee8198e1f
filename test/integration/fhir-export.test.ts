import { beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/actions/tokens.ts';
import { useTestService } from '../fixture.ts';
import type { Reading } from '../helpers/device.ts';

/**
 * Data portability (issue #15, item 5; README, "Data portability (bulk export)"):
 * FHIR Bulk Data kick-off for a patient and for a care team (Group), status, NDJSON
 * files streamed with keyset pages, `_type` and `_since`, scoping and audit; and a
 * patient's readings as CSV.
 */

const HOUR = 3_600_000;
const t = useTestService({ adminToken: true });
let drA: string;
let listed: string;
let storedBetween: string;
const t0 = Date.now() - 40 * HOUR;
// More readings than one export page (1000), so that the file spans pages.
const MANY = 1203;

async function call(method: string, url: string, token: string | null, headers: Record<string, string> = {}) {
  const res = await fetch(url.startsWith('http') ? url : `${t.httpUrl}${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const asAdmin = (method: string, path: string, json: unknown) =>
  t.api.call(method, path, { token: t.adminToken, json });

async function kickOff(path: string, token: string) {
  const r = await call('GET', `/fhir/${path}`, token, {
    accept: 'application/fhir+json',
    prefer: 'respond-async',
  });
  expect(r.status, r.text).toBe(202);
  return r.headers.get('content-location')!;
}

/** Polls the status URL as a Bulk Data client does, until it is no longer 202. */
async function manifest(statusUrl: string, token: string) {
  for (;;) {
    const r = await call('GET', statusUrl, token, { accept: 'application/json' });
    if (r.status !== 202) {
      expect(r.status, r.text).toBe(200);
      return JSON.parse(r.text);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The URL of the manifest's file of that resource type. */
function fileOf(m: { output: { type: string; url: string }[] }, type: string): string {
  const file = m.output.find((o) => o.type === type);
  expect(file, type).toBeDefined();
  return file!.url;
}

async function lines(url: string, token: string): Promise<any[]> {
  const r = await call('GET', url, token, { accept: 'application/fhir+ndjson' });
  expect(r.status, r.text).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
  return r.text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

beforeAll(async () => {
  for (const id of ['px-1', 'px-2', 'px-3']) await t.addPatient(id);
  expect((await asAdmin('POST', '/api/v1/practitioners', { id: 'dr-x', name: 'Dr X' })).status).toBe(201);
  expect((await asAdmin('POST', '/api/v1/teams', { id: 'team-x', name: 'X' })).status).toBe(201);
  expect((await asAdmin('POST', '/api/v1/teams/team-x/members', { practitionerId: 'dr-x' })).status).toBe(200);
  for (const patientId of ['px-1', 'px-2']) {
    const r = await asAdmin('POST', '/api/v1/enrolments', {
      patientId,
      teamId: 'team-x',
      programme: 'heart_failure',
      from: new Date(Date.now() - 100 * HOUR).toISOString(),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  drA = (await createApiToken(t.db, await t.keys(), { role: 'clinician', practitionerId: 'dr-x' })).token;
  listed = (await t.createToken('clinician', ['px-2', 'px-3'])).token;
  const cuff = await t.device('x-cuff-1', 'px-1');
  const scale = await t.device('x-scale-2', 'px-2');
  const many: Reading[] = Array.from({ length: MANY }, (_, i) => ({
    id: `hr-${i}`,
    type: 'heart_rate',
    at: t0 + i * 60_000,
    value: 60 + (i % 30),
    unit: '/min',
  }));
  for (let i = 0; i < many.length; i += 500) await t.publish(cuff, 'x-cuff-1', many.slice(i, i + 500));
  await t.publish(scale, 'x-scale-2', [{ id: 'w-1', type: 'body_weight', at: t0, value: 70, unit: 'kg' }]);
  const { rows } = await t.query(`SELECT max(received_at) AS at FROM readings`);
  storedBetween = new Date(rows[0].at.getTime() + 1).toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await t.publish(scale, 'x-scale-2', [{ id: 'w-2', type: 'body_weight', at: t0 + HOUR, value: 71, unit: 'kg' }]);
});

describe('FHIR bulk export', () => {
  it("exports a patient's Observations as NDJSON: kick-off, status, file (over more than one page)", async () => {
    const status = await kickOff('Patient/px-1/$export', drA);
    expect(status).toMatch(new RegExp(`^${t.httpUrl}/fhir/\\$export-status/[0-9a-f-]{36}$`));
    const m = await manifest(status, drA);
    expect(m).toMatchObject({
      request: `${t.httpUrl}/fhir/Patient/px-1/$export`,
      requiresAccessToken: true,
      output: [
        { type: 'Patient', url: expect.stringContaining('/Patient.ndjson') },
        { type: 'Device', url: expect.stringContaining('/Device.ndjson') },
        { type: 'Observation', url: expect.stringContaining('/Observation.ndjson') },
      ],
      error: [],
    });
    // The patient (FR Core; no identity recorded, so no INS) and the device that sent its readings (PHD).
    expect(await lines(fileOf(m, 'Patient'), drA)).toEqual([
      JSON.parse((await call('GET', '/fhir/Patient/px-1', drA)).text),
    ]);
    const devices = await lines(fileOf(m, 'Device'), drA);
    expect(devices).toEqual([JSON.parse((await call('GET', '/fhir/Device/x-cuff-1', drA)).text)]);
    expect(devices[0]).toMatchObject({ resourceType: 'Device', id: 'x-cuff-1' });
    const observations = await lines(fileOf(m, 'Observation'), drA);
    expect(observations.length).toBe(MANY);
    expect(new Set(observations.map((o) => o.id)).size).toBe(MANY);
    expect(observations.every((o) => o.resourceType === 'Observation' && o.subject.reference === 'Patient/px-1')).toBe(
      true,
    );
    // Newest first, as the search; each line is what GET /fhir/Observation/{id} gives.
    expect(observations[0].identifier[0].value).toBe(`hr-${MANY - 1}`);
    const read = await call('GET', `/fhir/Observation/${observations[500].id}`, drA);
    expect(JSON.parse(read.text)).toEqual(observations[500]);
    const audit = await t.query(
      `SELECT action, patient_id FROM audit_log WHERE action LIKE 'fhir.export.%' ORDER BY id`,
    );
    // The kick-off, then one download per file (Patient, Device, Observation).
    expect(audit.rows).toEqual([
      { action: 'fhir.export.kickoff', patient_id: 'px-1' },
      { action: 'fhir.export.download', patient_id: 'px-1' },
      { action: 'fhir.export.download', patient_id: 'px-1' },
      { action: 'fhir.export.download', patient_id: 'px-1' },
    ]);
  });

  it("exports a care team's patients that the caller sees (Group), with _type and _since", async () => {
    const byTeam = await manifest(await kickOff('Group/team-x/$export?_type=Observation', drA), drA);
    const all = await lines(byTeam.output[0].url, drA);
    expect(new Set(all.map((o) => o.subject.reference))).toEqual(new Set(['Patient/px-1', 'Patient/px-2']));
    expect(all.length).toBe(MANY + 2);
    // A token listing px-2 and px-3 sees px-2 only in team X.
    const partial = await manifest(await kickOff('Group/team-x/$export', listed), listed);
    expect((await lines(fileOf(partial, 'Patient'), listed)).map((p) => p.id)).toEqual(['px-2']);
    expect((await lines(fileOf(partial, 'Device'), listed)).map((d) => d.id)).toEqual(['x-scale-2']);
    expect((await lines(fileOf(partial, 'Observation'), listed)).map((o) => o.identifier[0].value).sort()).toEqual([
      'w-1',
      'w-2',
    ]);
    // _since: what was stored at or after that instant.
    const since = await manifest(
      await kickOff(`Patient/px-2/$export?_since=${encodeURIComponent(storedBetween)}`, listed),
      listed,
    );
    expect((await lines(fileOf(since, 'Observation'), listed)).map((o) => o.identifier[0].value)).toEqual(['w-2']);
  });

  it('keeps jobs to their caller, refuses what it cannot do, and deletes on request', async () => {
    const status = await kickOff('Patient/px-2/$export', listed);
    const m = await manifest(status, listed);
    // Another caller: the job does not exist for them.
    expect((await call('GET', status, drA)).status).toBe(404);
    expect((await call('GET', m.output[0].url, drA)).status).toBe(404);
    // Not in the caller's care: 404; an unknown team: 404.
    expect((await call('GET', '/fhir/Patient/px-3/$export', drA, { prefer: 'respond-async' })).status).toBe(404);
    expect((await call('GET', '/fhir/Group/nobody/$export', drA, { prefer: 'respond-async' })).status).toBe(404);
    for (const [path, prefer] of [
      ['/fhir/Patient/px-2/$export', ''],
      ['/fhir/Patient/px-2/$export?_type=Practitioner', 'respond-async'],
      ['/fhir/Patient/px-2/$export?_since=yesterday', 'respond-async'],
      ['/fhir/Patient/px-2/$export?_outputFormat=text/csv', 'respond-async'],
      ['/fhir/Patient/px-2/$export?_typeFilter=x', 'respond-async'],
    ]) {
      const r = await call('GET', path, listed, prefer ? { prefer } : {});
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.text).resourceType).toBe('OperationOutcome');
    }
    expect((await call('DELETE', status, listed)).status).toBe(202);
    expect((await call('GET', status, listed)).status).toBe(404);
    expect((await call('GET', m.output[0].url, listed)).status).toBe(404);
  });

  it('expires jobs: an expired one is gone, and the next kick-off deletes it', async () => {
    const status = await kickOff('Patient/px-2/$export', listed);
    const id = status.split('/').pop();
    await t.query(`UPDATE fhir_exports SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    expect((await call('GET', status, listed)).status).toBe(404);
    await kickOff('Patient/px-2/$export', listed);
    expect((await t.query(`SELECT 1 FROM fhir_exports WHERE id = $1`, [id])).rows).toEqual([]);
  });
});

describe('GET /api/v1/patients/{id}/readings.csv', () => {
  it("gives every reading of a patient as CSV, newest first, to a clinician in the patient's care", async () => {
    const r = await call('GET', '/api/v1/patients/px-1/readings.csv', drA);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = r.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('measuredAt,receivedAt,deviceId,readingId,type,value,systolic,diastolic,pulse,unit');
    expect(rows.length).toBe(MANY + 1);
    const last = MANY - 1;
    expect(rows[1]).toMatch(
      new RegExp(
        `^${new Date(t0 + last * 60_000).toISOString()},[^,]+,x-cuff-1,hr-${last},heart_rate,${60 + (last % 30)},,,,/min$`,
      ),
    );
    expect((await call('GET', '/api/v1/patients/px-3/readings.csv', drA)).status).toBe(404);
    const audit = await t.query(`SELECT patient_id FROM audit_log WHERE action = 'readings.export.csv'`);
    expect(audit.rows).toEqual([{ patient_id: 'px-1' }]);
  });
});
