import { describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import {
  describeRes,
  expectError,
  expectInvalid,
  expectKeys,
  expectPatient,
  expectSameNotFound,
  walkPages,
} from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';

/**
 * Patients over the API: creation, reads by role, lists and their pages. Against a
 * real PostgreSQL and a real listening server, with `fetch` as a client would.
 */

const { t, who, call, get } = useApiTest();

describe('patients', () => {
  it('POST /patients creates a patient and returns exactly its shape', async () => {
    const before = Date.now();
    const res = await call('POST', '/api/v1/patients', {
      token: who.admin.token,
      json: { id: 'p-new-1', timeZone: 'America/New_York', displayName: 'Ada Lovelace' },
    });
    expect(res.status, describeRes(res)).toBe(201);
    expect(res.contentType).toMatch(/^application\/json/);
    expectPatient(res.body);
    expect(res.body).toMatchObject({ id: 'p-new-1', timeZone: 'America/New_York', displayName: 'Ada Lovelace' });
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Date.parse(res.body.createdAt)).toBeLessThanOrEqual(Date.now() + 5_000);
    const { rows } = await t.query(`SELECT display_name, time_zone FROM patients WHERE id = 'p-new-1'`);
    expect(rows).toEqual([{ display_name: 'Ada Lovelace', time_zone: 'America/New_York' }]);

    const defaults = await call('POST', '/api/v1/patients', { token: who.admin.token, json: { id: 'p-new-2' } });
    expect(defaults.status, describeRes(defaults)).toBe(201);
    expectPatient(defaults.body);
    expect(defaults.body).toMatchObject({ id: 'p-new-2', displayName: null, timeZone: 'Europe/Paris' });
  });

  it('POST /patients refuses a duplicate (409), invalid input (422) and malformed JSON (400)', async () => {
    const dup = await call('POST', '/api/v1/patients', { token: who.admin.token, json: { id: 'p-own-1' } });
    expectError(dup, 409, 'conflict');

    expectInvalid(await call('POST', '/api/v1/patients', { token: who.admin.token, json: { id: 'bad id!' } }), [
      'body.id',
    ]);
    expectInvalid(await call('POST', '/api/v1/patients', { token: who.admin.token, json: { id: 'x'.repeat(65) } }), [
      'body.id',
    ]);
    expectInvalid(await call('POST', '/api/v1/patients', { token: who.admin.token, json: {} }), ['body.id']);
    expectInvalid(
      await call('POST', '/api/v1/patients', { token: who.admin.token, json: { id: 'p-x', displayName: 42 } }),
      ['body.displayName'],
    );
    expectError(
      await call('POST', '/api/v1/patients', {
        token: who.admin.token,
        json: { id: 'p-tz', timeZone: 'Mars/Olympus' },
      }),
      422,
      'invalid_input',
    );
    expectError(
      await call('POST', '/api/v1/patients', { token: who.admin.token, raw: '{"id": "p-broken"' }),
      400,
      'bad_request',
    );
    const { rows } = await t.query(`SELECT id FROM patients WHERE id IN ('bad id!', 'p-x', 'p-tz', 'p-broken')`);
    expect(rows).toEqual([]);
  });

  it('GET /patients/{id}: admin reads any, a clinician only their own; others are a 404 like a missing one', async () => {
    const asAdmin = await get('/api/v1/patients/p-other', who.admin.token);
    expect(asAdmin.status, describeRes(asAdmin)).toBe(200);
    expectPatient(asAdmin.body);
    expect(asAdmin.body).toMatchObject({ id: 'p-other', displayName: null, timeZone: 'Europe/Paris', identity: null });

    const own = await get('/api/v1/patients/p-own-1', who.clinician.token);
    expect(own.status, describeRes(own)).toBe(200);
    expectPatient(own.body);
    expect(own.body.id).toBe('p-own-1');

    expectSameNotFound(
      await get('/api/v1/patients/p-other', who.clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody', who.clinician.token),
      'p-nobody',
    );
    expectError(await get('/api/v1/patients/p-nobody', who.admin.token), 404, 'not_found');
    expectInvalid(await get('/api/v1/patients/bad*id', who.admin.token), ['params.id']);
  });

  it('GET /patients: admin sees all, a clinician only theirs', async () => {
    const asClinician = await get('/api/v1/patients', who.clinician.token);
    expect(asClinician.status, describeRes(asClinician)).toBe(200);
    expectKeys(asClinician.body, ['items', 'nextCursor']);
    expect(asClinician.body.items.map((p: { id: string }) => p.id)).toEqual(['p-own-1', 'p-own-2']);
    asClinician.body.items.forEach(expectPatient);
    expect(asClinician.body.nextCursor).toBeNull();

    const asAdmin = await get('/api/v1/patients?limit=500', who.admin.token);
    expect(asAdmin.status).toBe(200);
    const { rows } = await t.query(`SELECT id FROM patients ORDER BY id`);
    expect(asAdmin.body.items.map((p: { id: string }) => p.id).sort()).toEqual(rows.map((r) => r.id).sort());

    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=1.5']) {
      expectInvalid(await get(`/api/v1/patients?${q}`, who.admin.token), ['querystring.limit']);
    }
  });

  it('GET /patients pages with limit=2: each patient once, none skipped while new ones arrive, null at the end', async () => {
    for (let i = 0; i < 5; i++) await addPatient(t.db, { id: `p-page-${i}` });
    const { rows } = await t.query(`SELECT id FROM patients`);
    const existing = rows.map((r) => r.id as string);
    let added = 0;
    const pages = await walkPages(t, '/api/v1/patients?limit=2', who.admin.token, 2, async (page) => {
      if (page > 2) return;
      // One that sorts before every cursor and one after: neither may disturb the others.
      await addPatient(t.db, { id: `0-early-${page}` });
      await addPatient(t.db, { id: `zz-late-${page}` });
      added += 2;
    });
    expect(added).toBe(6);
    const seen = pages.flat().map((p) => p.id as string);
    pages.flat().forEach(expectPatient);
    expect(new Set(seen).size, `repeated: ${seen}`).toBe(seen.length);
    for (const id of existing) expect(seen, `${id} was skipped`).toContain(id);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(existing.length / 2));

    // A clinician pages over their own patients only.
    const theirs = await walkPages(t, '/api/v1/patients?limit=1', who.clinician.token, 1);
    expect(theirs.flat().map((p) => p.id)).toEqual(['p-own-1', 'p-own-2']);
  });
});
