import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPatientIdentity } from '../../src/actions/patient-identity.ts';
import { addPatient } from '../../src/actions/provisioning.ts';
import { useTestService } from '../fixture.ts';
import { heartRate, type Reading, waitFor } from '../helpers/device.ts';
import { mesBundleIssues, MesReceiver } from '../helpers/mes-receiver.ts';
import { runCli } from '../helpers/service.ts';

/**
 * The push to Mon espace santé end to end (README, "Feeding Mon espace santé"):
 * readings over MQTT, the aggregation run queueing them, the push worker sending
 * each once to the mock receiver (test/helpers/mes-receiver.ts, the IG's rules),
 * the record read back from the API.
 */

const EDITOR = '1.2.250.1.999.42';
const FED = { patient: 'mes-fed', ins: '119753085339797' };
const NO_CONSENT = { patient: 'mes-no-consent', ins: '290122003345601' };
const UNQUALIFIED = { patient: 'mes-vali', ins: '174010123456775' };

const receiver = new MesReceiver({
  editorOid: EDITOR,
  tokens: { 'token-1': EDITOR },
  patients: {
    [FED.ins]: { consent: true },
    [NO_CONSENT.ins]: { consent: false },
    [UNQUALIFIED.ins]: { consent: true },
  },
});
const dir = mkdtempSync(path.join(tmpdir(), 'vitalink-mes-'));
const tokenFile = path.join(dir, 'token');
writeFileSync(tokenFile, 'token-1\n');

beforeAll(() => receiver.start());
afterAll(async () => {
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  VITALINK_MES_URL: receiver.url,
  VITALINK_MES_EDITOR_OID: EDITOR,
  VITALINK_MES_TOKEN_FILE: tokenFile,
  VITALINK_MES_POLL_MS: '50',
  VITALINK_MES_RETRY_BASE_MS: '50',
  VITALINK_MES_RETRY_MAX_MS: '100',
  VITALINK_AGGREGATION_INTERVAL_MS: '50',
});
const t = useTestService({ adminToken: true, env });

async function identify(patientId: string, ins: string, status: 'QUAL' | 'VALI') {
  await addPatient(t.db, { id: patientId });
  await setPatientIdentity(t.db, patientId, {
    birthFamilyName: 'MARTIN',
    firstNames: ['Claire'],
    birthDate: '1975-03-08',
    sex: 'female',
    birthplaceCode: '75056',
    ins: { value: ins, kind: 'nir-test' },
    status,
    statusMethod: status === 'QUAL' ? 'INSI' : 'CV',
  });
}

/** The bundles the receiver stored, by the reading id of their Observation. */
function storedReadingIds(): string[] {
  return receiver.stored().map((r) => JSON.parse(r.body).entry[0].resource.identifier[0].value as string);
}

async function pushes(patientId: string) {
  const res = await t.api.get(`/api/v1/patients/${patientId}/mes-pushes?limit=1000`, { token: t.adminToken });
  expect(res.status).toBe(200);
  return res.body.items as any[];
}

/** The time the file's readings are placed around (same hours for the later tests). */
const t0 = Date.now();
const weight = (id: string, at: number): Reading => ({ id, type: 'body_weight', at, value: 71.4, unit: 'kg' });

describe('feeding Mon espace santé', () => {
  beforeAll(async () => {
    await identify(FED.patient, FED.ins, 'QUAL');
    await identify(NO_CONSENT.patient, NO_CONSENT.ins, 'QUAL');
    await identify(UNQUALIFIED.patient, UNQUALIFIED.ins, 'VALI');
  });

  it('pushes each reading once, with its location, and only for a qualified identity', async () => {
    const now = t0;
    const cuff = await t.device('mes-scale-1', FED.patient);
    await t.publish(cuff, 'mes-scale-1', [
      weight('w-1', now - 60_000),
      heartRate('hr-1', 64, now - 50_000),
      { id: 'g-1', type: 'blood_glucose', at: now - 40_000, value: 104, unit: 'mg/dL', context: 'fasting' },
      { id: 'rr-1', type: 'respiratory_rate', at: now - 30_000, value: 16, unit: '/min' },
    ]);
    const other = await t.device('mes-scale-2', UNQUALIFIED.patient);
    await t.publish(other, 'mes-scale-2', [weight('w-vali', now - 60_000)]);
    const items = await waitFor(async () => {
      const all = await pushes(FED.patient);
      return all.length === 3 && all.every((p) => p.state === 'sent') && all;
    }, 'three pushes sent');
    await t.settled();
    expect(storedReadingIds().sort()).toEqual(['g-1', 'hr-1', 'w-1']);
    expect(items.map((p) => p.readingId).sort()).toEqual(['g-1', 'hr-1', 'w-1']);
    for (const p of items) {
      expect(p).toMatchObject({ state: 'sent', attempts: 1, status: 200 });
      expect(p.location).toMatch(new RegExp(`^Observation/urn:oid:${EDITOR}\\|obs-`));
      expect(p.deviceLocation).toBe(`Device/urn:oid:${EDITOR}|mes-scale-1`);
      expect(p.answer).toMatch(/^HTTP 200: 201 Created, 20[01] (Created|OK)$/);
    }
    // One Device created, then found: the conditional create.
    expect(items.map((p) => p.answer).filter((a: string) => a.endsWith('201 Created, 201 Created'))).toHaveLength(1);
    // Every request carried its push's id as the idempotency key, and the token.
    const keys = receiver.stored().map((r) => r.headers['idempotency-key']);
    expect(new Set(keys)).toEqual(new Set(items.map((p) => p.id)));
    expect(receiver.stored().every((r) => r.headers.authorization === 'Bearer token-1')).toBe(true);
    // Not queued at all for a patient whose identity is not qualified.
    expect(await pushes(UNQUALIFIED.patient)).toEqual([]);
    // What was sent is kept.
    const withBundle = await t.api.get(`/api/v1/patients/${FED.patient}/mes-pushes?bundle=true&limit=1`, {
      token: t.adminToken,
    });
    expect(withBundle.body.items[0].bundle.type).toBe('transaction');
  });

  it('records a 422 with what the receiver said, and does not send it again until replayed', async () => {
    // The receiver's registry now holds another OID for the editor (and its tokens):
    // meta.source is no longer under it (rule 6).
    const moved = '1.2.250.1.999.43';
    receiver.options.editorOid = moved;
    receiver.options.tokens['token-1'] = moved;
    const scale = await t.device('mes-scale-5', FED.patient);
    await t.publish(scale, 'mes-scale-5', [weight('w-422', t0 - 10_000)]);
    const refused = await waitFor(
      async () => (await pushes(FED.patient)).find((p) => p.readingId === 'w-422' && p.state === 'refused'),
      'w-422 refused',
    );
    expect(refused).toMatchObject({ status: 422, attempts: 1, location: null });
    expect(refused.answer).toContain(
      `value: Solution oid contains in Observation.meta.source don't belong to root editor oid (${moved}).`,
    );
    receiver.options.editorOid = EDITOR;
    receiver.options.tokens['token-1'] = EDITOR;
    // A later reading goes through; the refused one was not tried again meanwhile.
    await t.publish(scale, 'mes-scale-5', [weight('w-after-422', t0 - 9_000)]);
    await waitFor(() => storedReadingIds().includes('w-after-422'), 'w-after-422 stored');
    const requests = receiver.received.filter((r) => r.headers['idempotency-key'] === refused.id);
    expect(requests.map((r) => r.status)).toEqual([422]);
    // Replayed once the cause is fixed: sent, with the same idempotency key.
    const replay = await t.api.post('/api/v1/mes-pushes/replay', { id: refused.id }, { token: t.adminToken });
    expect(replay.body).toEqual({ replayed: [refused.id] });
    const replayed = await waitFor(
      async () => (await pushes(FED.patient)).find((p) => p.id === refused.id && p.state === 'sent'),
      'w-422 sent after the replay',
    );
    expect(replayed).toMatchObject({ attempts: 1, status: 200 });
    expect(storedReadingIds().filter((id) => id === 'w-422')).toHaveLength(1);
  });

  it('records a 403 (no consent) and a 409 (OID conflict) without retrying them', async () => {
    const meter = await t.device('mes-scale-6', NO_CONSENT.patient);
    await t.publish(meter, 'mes-scale-6', [weight('w-403', t0 - 8_000)]);
    const noConsent = await waitFor(
      async () => (await pushes(NO_CONSENT.patient)).find((p) => p.state === 'refused'),
      'w-403 refused',
    );
    expect(noConsent).toMatchObject({
      status: 403,
      attempts: 1,
      answer: 'HTTP 403: invalid: Consent not given, access refused.',
    });
    receiver.options.tokens['token-1'] = '1.2.250.1.777';
    const scale = await t.device('mes-scale-7', FED.patient);
    await t.publish(scale, 'mes-scale-7', [weight('w-409', t0 - 7_000)]);
    const conflict = await waitFor(
      async () => (await pushes(FED.patient)).find((p) => p.readingId === 'w-409' && p.state === 'refused'),
      'w-409 refused',
    );
    receiver.options.tokens['token-1'] = EDITOR;
    expect(conflict.status).toBe(409);
    expect(conflict.answer).toContain('check VITALINK_MES_EDITOR_OID');
    await t.publish(scale, 'mes-scale-7', [weight('w-after-409', t0 - 6_500)]);
    await waitFor(() => storedReadingIds().includes('w-after-409'), 'w-after-409 stored');
    const statuses = (id: string) =>
      receiver.received.filter((r) => r.headers['idempotency-key'] === id).map((r) => r.status);
    expect(statuses(noConsent.id)).toEqual([403]);
    expect(statuses(conflict.id)).toEqual([409]);
    // The ops view counts them.
    const ops = await t.api.get('/api/v1/ops/ingestion', { token: t.adminToken });
    expect(ops.body.mesPushes).toMatchObject({ refused: 2, dead: 0 });
  });

  it('does not send again a push whose instance stopped while sending it: dead, said why', async () => {
    const { rows } = await t.query(
      `INSERT INTO mes_pushes (patient_id, device_id, reading_id, type, measured_at, state, due_at, attempts)
       VALUES ($1, 'mes-scale-1', 'w-1-crashed', 'body_weight', now(), 'sending', now() - interval '1 second', 1)
       RETURNING id`,
      [FED.patient],
    );
    const id = rows[0].id as string;
    const dead = await waitFor(
      async () => (await pushes(FED.patient)).find((p) => p.id === id && p.state === 'dead'),
      'the stale push dead',
    );
    expect(dead.answer).toMatch(
      /^the instance stopped while sending it: whether Mon espace santé stored it is unknown/,
    );
    expect(receiver.received.filter((r) => r.headers['idempotency-key'] === id)).toEqual([]);
  });

  it('retries a 503 with backoff, with the same bundle and idempotency key, until it is stored', async () => {
    receiver.failNext.push(503, 503);
    const scale = await t.device('mes-scale-8', FED.patient);
    await t.publish(scale, 'mes-scale-8', [weight('w-503', t0 - 6_000)]);
    const push = await waitFor(
      async () => (await pushes(FED.patient)).find((p) => p.readingId === 'w-503' && p.state === 'sent'),
      'w-503 sent',
    );
    expect(push).toMatchObject({ attempts: 3, status: 200 });
    const requests = receiver.received.filter((r) => r.headers['idempotency-key'] === push.id);
    expect(requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
  });

  it('exports the bundles of a patient since a time, from the CLI (NDJSON) and the API (pages), which send nothing', async () => {
    // 520 more readings (more than a page of the export), a minute apart, before t0.
    const scale = await t.device('mes-scale-export', FED.patient);
    const since = t0 - 3_600_000;
    const batch = Array.from({ length: 520 }, (_, i) => weight(`w-export-${i}`, since + i * 6_000));
    await t.publish(scale, 'mes-scale-export', batch);
    await waitFor(
      async () =>
        (await t.query(`SELECT count(*) AS n FROM readings WHERE device_id = 'mes-scale-export'`)).rows[0].n === '520',
      'the readings stored',
    );
    const out = await runCli(['export', 'mes', '--patient', FED.patient, '--since', new Date(since).toISOString()], {
      DATABASE_URL: t.url,
      VITALINK_MES_EDITOR_OID: EDITOR,
      LOG_LEVEL: 'warn',
    });
    expect(out.code).toBe(0);
    const bundles = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const readingIds = bundles.map((b) => b.entry[0].resource.identifier[0].value as string);
    expect(readingIds.length).toBe(new Set(readingIds).size);
    expect(readingIds.filter((id) => id.startsWith('w-export-'))).toEqual(batch.map((r) => r.id));
    // Every reading of the types fed since then (the respiratory rate is not one), oldest first.
    expect(readingIds).toContain('hr-1');
    expect(readingIds).not.toContain('rr-1');
    const times = bundles.map((b) => Date.parse(b.entry[0].resource.effectiveDateTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(since);
    expect(bundles.every((b) => mesBundleIssues(b, EDITOR).length === 0)).toBe(true);
    expect(out.stderr).toBe(`${bundles.length} bundle(s) for patient ${FED.patient}\n`);

    // The same from the API, in pages, scoped and audited.
    const clinician = await t.createToken('clinician', [FED.patient, UNQUALIFIED.patient]);
    const fromApi: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `since=${encodeURIComponent(new Date(since).toISOString())}&limit=200${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.api.get(`/api/v1/patients/${FED.patient}/mes-bundles?${q}`, { token: clinician.token });
      expect(res.status).toBe(200);
      fromApi.push(...res.body.items.map((i: any) => i.bundle.entry[0].resource.identifier[0].value as string));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(fromApi).toEqual(readingIds);
    const audited = await t.query(
      `SELECT count(*) AS n FROM audit_log WHERE patient_id = $1 AND action = 'mes.bundles.read'`,
      [FED.patient],
    );
    expect(Number(audited.rows[0].n)).toBeGreaterThanOrEqual(3);
    // Another patient's: 404; a patient without a qualified identity: 409 saying so.
    const other = await t.api.get(`/api/v1/patients/${NO_CONSENT.patient}/mes-bundles`, { token: clinician.token });
    expect(other.status).toBe(404);
    const vali = await t.api.get(`/api/v1/patients/${UNQUALIFIED.patient}/mes-bundles`, { token: clinician.token });
    expect(vali.status).toBe(409);
    expect(vali.body.error.message).toMatch(/has no qualified INS identity/);
    const cli = await runCli(['export', 'mes', '--patient', UNQUALIFIED.patient], {
      DATABASE_URL: t.url,
      VITALINK_MES_EDITOR_OID: EDITOR,
      LOG_LEVEL: 'warn',
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^vitalink: patient mes-vali has no qualified INS identity/);
    const unset = await runCli(['export', 'mes', '--patient', FED.patient], { DATABASE_URL: t.url, LOG_LEVEL: 'warn' });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/VITALINK_MES_EDITOR_OID is not set/);
  });

  it('never sends a reading twice: a later reading of the same hour, a restart, two instances at once', async () => {
    // Instance B takes over, A stops (a restart), then C starts beside B.
    const b = await t.startInstance(env());
    await t.stopService();
    const secret = await t.provisionDevice('mes-scale-9', FED.patient);
    const viaB = await t.connectDevice('mes-scale-9', secret, {}, `mqtt://127.0.0.1:${b.ports.mqtt}`);
    // Same type and hour as hr-1, pushed before: its hour is queued again, hr-1 is not sent again.
    await t.publish(viaB, 'mes-scale-9', [heartRate('hr-2', 66, t0 - 50_000 + 1)]);
    await waitFor(() => storedReadingIds().includes('hr-2'), 'hr-2 stored');
    const c = await t.startInstance(env());
    const secret2 = await t.provisionDevice('mes-scale-10', FED.patient);
    const viaC = await t.connectDevice('mes-scale-10', secret2, {}, `mqtt://127.0.0.1:${c.ports.mqtt}`);
    const many = Array.from({ length: 12 }, (_, i) => heartRate(`hr-many-${i}`, 60 + i, t0 - 40_000 + i));
    await t.publish(viaC, 'mes-scale-10', many.slice(0, 6));
    await t.publish(viaB, 'mes-scale-9', many.slice(6));
    await waitFor(() => many.every((r) => storedReadingIds().includes(r.id)), 'twelve more stored');
    const ids = storedReadingIds();
    expect(ids.length).toBe(new Set(ids).size);
    await b.stop();
    await c.stop();
  });
});
