import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAlert } from '../../src/actions/alerts.ts';
import { addNotificationChannel, deadLetters, replayNotifications } from '../../src/actions/notifications.ts';
import { DEFAULT_ESCALATION_DELAYS } from '../../src/domain/notifications.ts';
import { createLogger } from '../../src/logger.ts';
import { DeliveryWorker, type DeliveryWorkerOptions, leaseMs } from '../../src/notifications/delivery-worker.ts';
import type { SmtpSettings } from '../../src/notifications/email.ts';
import { claimDueNotifications } from '../../src/store/notifications.repository.ts';
import { alertHistory } from '../../src/store/alerts.repository.ts';
import { sendWebhook } from '../../src/notifications/webhook.ts';
import { KeyRing, SecretKey } from '../../src/domain/secret-keys.ts';
import { useTestDatabase } from '../fixture.ts';
import { type Pair, ScratchPki } from '../helpers/pki.ts';
import { writeReadings, drainAggregation } from '../helpers/readings.ts';
import { startSmtpReceiver } from '../helpers/smtp-receiver.ts';
import { readmeVerifier, WebhookReceiver } from '../helpers/webhook-receiver.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const PUBLIC_URL = 'https://vitalink.example.org';

const t = useTestDatabase();

/** A team's notifications queued in [from, to): delivered, and given up (dead letters). */
async function notificationCounts(teamId: string, from: Date, to: Date): Promise<{ sent: number; failed: number }> {
  const { rows } = await t.query<{ sent: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE state = 'sent')::int AS sent, count(*) FILTER (WHERE state = 'dead')::int AS failed
     FROM notifications WHERE team_id = $1 AND created_at >= $2 AND created_at < $3`,
    [teamId, from, to],
  );
  return rows[0];
}
const pki = new ScratchPki();
/** The clock of the aggregation job, the worker and the receiver's timestamp check. */
let clock = Date.parse('2026-12-01T09:00:00Z');
let receiver: WebhookReceiver;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let serverPair: Pair;
let clientPair: Pair;

beforeAll(async () => {
  receiver = new WebhookReceiver(await readmeVerifier(), () => clock);
  await receiver.start();
  serverPair = pki.serverPair('smtp-server');
  pki.deviceCa('Vitalink test SMTP client CA');
  clientPair = pki.deviceCert('smtp-client', 'vitalink-notifier.test');
  // MSSanté's shape: STARTTLS and a client certificate issued by a CA the server trusts.
  smtp = await startSmtpReceiver({ ...serverPair, clientCa: pki.file('ca.pem') });
});

afterAll(async () => {
  await receiver?.stop();
  await smtp?.stop();
  pki.remove();
});

function smtpSettings(withClientCertificate = true): SmtpSettings {
  return {
    host: '127.0.0.1',
    port: smtp.port,
    tls: 'required',
    caFile: serverPair.cert,
    ...(withClientCertificate ? { clientCertFile: clientPair.cert, clientKeyFile: clientPair.key } : {}),
    from: 'vitalink@hopital.example',
    timeoutMs: 5_000,
  };
}

async function worker(options: Partial<DeliveryWorkerOptions> = {}): Promise<DeliveryWorker> {
  return new DeliveryWorker({
    db: t.db,
    log: createLogger('silent'),
    keys: await t.keys(),
    smtp: smtpSettings(),
    retry: { maxAttempts: 3, baseDelayMs: MINUTE, maxDelayMs: 10 * MINUTE },
    timeoutMs: 5_000,
    intervalMs: 1_000,
    publicUrl: PUBLIC_URL,
    now: () => clock,
    random: () => 0.5,
    ...options,
  });
}

/** A patient with an oximeter, enrolled with a new team (service hours: none = always on duty). */
async function patientInTeam(name: string, hours: string | null = null): Promise<{ patient: string; team: string }> {
  const patient = `p-${name}`;
  const team = `team-${name}`;
  await t.provisionDevice(`ox-${name}`, patient);
  await t.query(`INSERT INTO care_teams (id, name, time_zone, service_hours) VALUES ($1, $1, 'Europe/Paris', $2)`, [
    team,
    hours,
  ]);
  await t.query(
    `INSERT INTO enrolments (patient_id, team_id, programme, starts_at) VALUES ($1, $2, 'heart_failure', '2026-01-01T00:00:00Z')`,
    [patient, team],
  );
  return { patient, team };
}

async function webhookChannel(team: string, path: string, escalation = false): Promise<void> {
  const { secret } = await addNotificationChannel(t.db, await t.keys(), {
    teamId: team,
    webhook: receiver.url(path),
    escalation,
  });
  receiver.secrets.set(path, secret!);
}

/** A low SpO2 reading at the clock, aggregated at the clock: opens a spo2_low alert (severity high). */
async function openSpo2Alert(name: string): Promise<string> {
  await writeReadings(
    t.db,
    `ox-${name}`,
    [{ id: `s-${clock}`, type: 'spo2', at: clock - MINUTE, unit: '%', value: 88 }],
    clock,
  );
  await drainAggregation(t.db, clock);
  const { rows } = await t.query(`SELECT id FROM alerts WHERE patient_id = $1 AND status = 'open'`, [`p-${name}`]);
  expect(rows).toHaveLength(1);
  return String(rows[0].id);
}

async function notificationsOf(alertId: string) {
  const { rows } = await t.query(
    `SELECT id, channel, purpose, state, attempts, due_at, last_error FROM notifications WHERE alert_id = $1 ORDER BY purpose, channel`,
    [alertId],
  );
  return rows;
}

describe('notifications', () => {
  it('delivers once per channel through a signed webhook and SMTP with a client certificate over STARTTLS, even with two workers', async () => {
    clock = Date.parse('2026-12-01T09:00:00Z');
    const { team, patient } = await patientInTeam('multi');
    await webhookChannel(team, '/multi');
    await addNotificationChannel(t.db, await t.keys(), { teamId: team, email: 'ide@hopital.example' });
    await addNotificationChannel(t.db, await t.keys(), { teamId: team, email: 'cadre@hopital.example' });
    const alertId = await openSpo2Alert('multi');

    // Written with the alert: three channels, due now.
    const queued = await notificationsOf(alertId);
    expect(queued.map((n) => [n.channel, n.purpose, n.state])).toEqual([
      ['email', 'alert', 'pending'],
      ['email', 'alert', 'pending'],
      ['webhook', 'alert', 'pending'],
    ]);
    expect(queued.every((n) => n.due_at.getTime() === clock)).toBe(true);

    // Two instances at once: SKIP LOCKED gives each row to one of them.
    const [a, b] = [await worker(), await worker()];
    const rounds = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(rounds[0].claimed + rounds[1].claimed).toBe(3);
    expect(rounds[0].sent + rounds[1].sent).toBe(3);
    expect((await a.runOnce()).claimed).toBe(0);

    const sent = await notificationsOf(alertId);
    expect(sent.map((n) => n.state)).toEqual(['sent', 'sent', 'sent']);

    const hooks = receiver.of('/multi');
    expect(hooks).toHaveLength(1);
    const [hook] = hooks;
    expect(hook.status).toBe(200);
    const webhookRow = sent.find((n) => n.channel === 'webhook')!;
    expect(hook.headers['idempotency-key']).toBe(webhookRow.id);
    expect(hook.payload).toEqual({
      id: webhookRow.id,
      type: 'alert.opened',
      teamId: team,
      alert: {
        id: alertId,
        patientId: patient,
        rule: 'spo2_low',
        label: 'Low SpO2',
        severity: 'high',
        openedAt: new Date(clock).toISOString(),
        url: `${PUBLIC_URL}/#/alerts/${alertId}`,
      },
    });
    // No reading value anywhere in the body (the payload above is all of it): no JSON number 88.
    expect(hook.body).not.toMatch(/:\s*88\b/);

    const mails = smtp.received.filter((m) => m.to[0] === 'ide@hopital.example' || m.to[0] === 'cadre@hopital.example');
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['cadre@hopital.example', 'ide@hopital.example']);
    for (const mail of mails) {
      expect(mail.secure).toBe(true);
      // Quoted-printable soft line breaks joined (a real mail reader does it).
      const text = mail.raw.replace(/=\r?\n/g, '');
      const row = sent.find((n) => n.channel === 'email' && mail.raw.includes(`Message-ID: <${n.id}@hopital.example>`));
      expect(row, 'the Message-ID is the notification id').toBeDefined();
      expect(mail.raw).toContain('Subject: [Vitalink] high alert: Low SpO2');
      expect(text).toContain(`See it in Vitalink: ${PUBLIC_URL}/#/alerts/${alertId}`);
      // No clinical value, no patient id or name.
      expect(text).not.toContain(patient);
      expect(text).not.toMatch(/\b88\b/);
    }
    const counts = await notificationCounts(team, new Date('2026-12-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
    expect(counts).toEqual({ sent: 3, failed: 0 });
    // The alert's history says whom it told, when.
    const told = (await alertHistory(t.db, alertId)).filter((h) => h.event === 'notified');
    expect(told.map((h) => h.notification?.channel).sort()).toEqual(['email', 'email', 'webhook']);
    expect(told.every((h) => h.notification?.teamId === team && h.notification.purpose === 'alert')).toBe(true);
  });

  it('refuses e-mail without a client certificate (retried), and delivers it with one', async () => {
    clock = Date.parse('2026-12-01T10:00:00Z');
    const { team } = await patientInTeam('mtls');
    await addNotificationChannel(t.db, await t.keys(), { teamId: team, email: 'mtls@hopital.example' });
    const alertId = await openSpo2Alert('mtls');

    const withoutCertificate = await worker({ smtp: smtpSettings(false) });
    expect(await withoutCertificate.runOnce()).toMatchObject({ claimed: 1, retried: 1, sent: 0 });
    const [retrying] = await notificationsOf(alertId);
    expect(retrying).toMatchObject({ state: 'pending', attempts: 1 });
    expect(retrying.last_error).toContain('SMTP server');
    expect(retrying.due_at.getTime()).toBeGreaterThan(clock);
    expect(smtp.received.filter((m) => m.to[0] === 'mtls@hopital.example')).toHaveLength(0);

    clock += 10 * MINUTE;
    expect(await (await worker()).runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(smtp.received.filter((m) => m.to[0] === 'mtls@hopital.example')).toHaveLength(1);
    expect((await notificationsOf(alertId))[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('retries across a receiver outage and delivers once when it is back', async () => {
    clock = Date.parse('2026-12-01T11:00:00Z');
    const { team } = await patientInTeam('outage');
    await webhookChannel(team, '/outage');
    const alertId = await openSpo2Alert('outage');
    const w = await worker();

    await receiver.stop();
    try {
      expect(await w.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      let [row] = await notificationsOf(alertId);
      expect(row).toMatchObject({ state: 'pending', attempts: 1 });
      expect(row.last_error).toContain('could not reach the webhook');
      // Backoff: 1 min × 2^0, half fixed, half random (0.5 here) = 45 s.
      expect(row.due_at.getTime()).toBe(clock + 45_000);
      expect((await w.runOnce()).claimed).toBe(0);

      clock += 45_000;
      expect(await w.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      [row] = await notificationsOf(alertId);
      expect(row.due_at.getTime()).toBe(clock + 90_000);
    } finally {
      await receiver.start();
    }
    clock += 90_000;
    expect(await w.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(receiver.of('/outage')).toHaveLength(1);
    expect((await notificationsOf(alertId))[0]).toMatchObject({ state: 'sent', attempts: 3 });
  });

  it('dead-letters after the last attempt and at once on a 4xx, and replays with the same idempotency key', async () => {
    clock = Date.parse('2026-12-01T12:00:00Z');
    const { team } = await patientInTeam('dead');
    await webhookChannel(team, '/unavailable');
    await webhookChannel(team, '/gone');
    receiver.statusOf.set('/unavailable', 503);
    receiver.statusOf.set('/gone', 410);
    const alertId = await openSpo2Alert('dead');
    const w = await worker();

    expect(await w.runOnce()).toMatchObject({ claimed: 2, retried: 1, dead: 1 });
    for (let i = 0; i < 2; i++) {
      clock += 10 * MINUTE;
      await w.runOnce();
    }
    const rows = await notificationsOf(alertId);
    expect(rows.map((r) => [r.state, r.attempts])).toEqual([
      ['dead', 1],
      ['dead', 3],
    ]);
    expect(receiver.of('/unavailable')).toHaveLength(3);
    expect(receiver.of('/gone')).toHaveLength(1);

    const letters = (await deadLetters(t.db, { teamId: team })).filter((d) => d.alertId === alertId);
    expect(letters).toHaveLength(2);
    expect(letters.map((d) => d.lastError).sort()).toEqual([
      'the webhook answered HTTP 410',
      'the webhook answered HTTP 503 (attempt 3 of 3)',
    ]);
    expect(await notificationCounts(team, new Date('2026-12-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))).toEqual({
      sent: 0,
      failed: 2,
    });

    // The receiver is fixed; one is replayed by id, then the other with --all.
    receiver.statusOf.delete('/unavailable');
    receiver.statusOf.delete('/gone');
    const unavailable = rows.find((r) => r.attempts === 3)!;
    expect(await replayNotifications(t.db, { id: unavailable.id }, new Date(clock))).toEqual([unavailable.id]);
    expect(await w.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    const replayed = receiver.of('/unavailable');
    expect(replayed).toHaveLength(4);
    expect(new Set(replayed.map((r) => r.headers['idempotency-key']))).toEqual(new Set([unavailable.id]));
    expect((await replayNotifications(t.db, { all: true }, new Date(clock))).length).toBeGreaterThanOrEqual(1);
    await w.runOnce();
    expect((await notificationsOf(alertId)).map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(receiver.of('/gone').at(-1)!.status).toBe(200);
    await expect(replayNotifications(t.db, { id: unavailable.id }, new Date(clock))).rejects.toThrow(
      /not a dead letter/,
    );
  });

  it('escalates an alert not acknowledged after the delay of its severity, once', async () => {
    clock = Date.parse('2026-12-01T13:00:00Z');
    const { team } = await patientInTeam('escalate');
    await webhookChannel(team, '/escalate-team');
    await webhookChannel(team, '/escalate-second', true);
    const alertId = await openSpo2Alert('escalate');
    const opened = clock;
    const w = await worker();

    await w.runOnce();
    expect(receiver.of('/escalate-team')).toHaveLength(1);
    expect(receiver.of('/escalate-second')).toHaveLength(0);
    const escalation = (await notificationsOf(alertId)).find((r) => r.purpose === 'escalation')!;
    expect(escalation.due_at.getTime()).toBe(opened + DEFAULT_ESCALATION_DELAYS.high!);

    clock = opened + 2 * HOUR - MINUTE;
    expect((await w.runOnce()).claimed).toBe(0);
    clock = opened + 2 * HOUR;
    expect(await w.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    const [second] = receiver.of('/escalate-second');
    expect(second.payload).toMatchObject({ type: 'alert.escalated', alert: { id: alertId, severity: 'high' } });
    clock += 4 * HOUR;
    expect((await w.runOnce()).claimed).toBe(0);
    expect(receiver.of('/escalate-second')).toHaveLength(1);
  });

  it('does not escalate an alert acknowledged before the delay', async () => {
    clock = Date.parse('2026-12-01T14:00:00Z');
    const { team } = await patientInTeam('acked');
    await webhookChannel(team, '/acked-team');
    await webhookChannel(team, '/acked-second', true);
    const alertId = await openSpo2Alert('acked');
    const w = await worker();
    await w.runOnce();

    clock += 30 * MINUTE;
    await acknowledgeAlert(
      t.db,
      alertId,
      { actor: 'dr-martin', action: 'called_patient', note: null },
      new Date(clock),
    );
    const escalation = (await notificationsOf(alertId)).find((r) => r.purpose === 'escalation')!;
    expect(escalation.state).toBe('cancelled');

    clock += 3 * HOUR;
    expect((await w.runOnce()).claimed).toBe(0);
    expect(receiver.of('/acked-team')).toHaveLength(1);
    expect(receiver.of('/acked-second')).toHaveLength(0);
  });

  it('does not escalate an alert resolved before the delay, and checks again before sending', async () => {
    clock = Date.parse('2026-12-01T16:00:00Z');
    const { team } = await patientInTeam('resolved');
    await webhookChannel(team, '/resolved-team');
    await webhookChannel(team, '/resolved-second', true);
    const alertId = await openSpo2Alert('resolved');
    const w = await worker();
    await w.runOnce();

    // The condition clears, then a clinician acknowledges it: the alert resolves.
    clock += 10 * MINUTE;
    await writeReadings(
      t.db,
      'ox-resolved',
      [{ id: 'ok-1', type: 'spo2', at: clock - MINUTE, unit: '%', value: 97 }],
      clock,
    );
    await drainAggregation(t.db, clock);
    const resolved = await acknowledgeAlert(
      t.db,
      alertId,
      { actor: 'dr-martin', action: 'called_patient', note: null },
      new Date(clock),
    );
    expect(resolved.state.status).toBe('resolved');
    expect((await notificationsOf(alertId)).find((r) => r.purpose === 'escalation')!.state).toBe('cancelled');
    clock += 3 * HOUR;
    expect((await w.runOnce()).claimed).toBe(0);
    expect(receiver.of('/resolved-second')).toHaveLength(0);

    // An escalation still pending for an alert no longer open (changed by another path) is cancelled, not sent.
    const other = await openSpo2Alert('resolved');
    await w.runOnce();
    await t.query(`UPDATE alerts SET status = 'acknowledged', acknowledged_at = now() WHERE id = $1`, [other]);
    clock += 2 * HOUR;
    expect(await w.runOnce()).toMatchObject({ claimed: 1, cancelled: 1, sent: 0 });
    expect(receiver.of('/resolved-second')).toHaveLength(0);
    expect((await notificationsOf(other)).map((r) => [r.purpose, r.state])).toEqual([
      ['alert', 'sent'],
      ['escalation', 'cancelled'],
    ]);
  });

  it('signs with a secret sealed under a previous key, moves it to the current key, and dead-letters one whose key is gone', async () => {
    clock = Date.parse('2026-12-01T17:00:00Z');
    const { team } = await patientInTeam('rotate');
    await webhookChannel(team, '/rotate'); // sealed under the database's key (no VITALINK_SECRET_KEY here)
    const databaseKey = (await t.keys()).current;
    const configured = new SecretKey(Buffer.alloc(32, 7), 'VITALINK_SECRET_KEY');
    const channelKey = async () =>
      (await t.query(`SELECT secret_key_id FROM notification_channels WHERE team_id = $1`, [team])).rows[0]
        .secret_key_id;
    expect(await channelKey()).toBe(databaseKey.id);

    await openSpo2Alert('rotate');
    expect(await (await worker({ keys: new KeyRing(configured, [databaseKey]) })).runOnce()).toMatchObject({ sent: 1 });
    expect(receiver.of('/rotate').map((r) => r.status)).toEqual([200]);
    expect(await channelKey()).toBe(configured.id);

    // The database key is no longer needed for it; a ring without the configured key cannot open it.
    await t.query(
      `UPDATE alerts SET status = 'resolved', resolved_at = now(), acknowledged_at = now() WHERE patient_id = 'p-rotate'`,
    );
    clock += HOUR;
    const second = await openSpo2Alert('rotate');
    expect(await (await worker({ keys: new KeyRing(databaseKey) })).runOnce()).toMatchObject({ dead: 1 });
    const [dead] = await notificationsOf(second);
    expect(dead.last_error).toContain(`secret key ${configured.id}, which is not configured`);
    await replayNotifications(t.db, { id: dead.id }, new Date(clock));
    expect(await (await worker({ keys: new KeyRing(configured) })).runOnce()).toMatchObject({ sent: 1 });
    expect(receiver.of('/rotate').map((r) => r.status)).toEqual([200, 200]);
  });

  it('queues an alert that opens outside service hours and sends it at the next opening; escalation counts from there', async () => {
    // Saturday 5 December 2026, 11:00 in Paris: the team works Monday to Friday, 08:00-18:00.
    clock = Date.parse('2026-12-05T10:00:00Z');
    const { team } = await patientInTeam('weekend', 'mon-fri 08:00-18:00');
    await webhookChannel(team, '/weekend');
    await webhookChannel(team, '/weekend-second', true);
    const alertId = await openSpo2Alert('weekend');
    const monday = Date.parse('2026-12-07T07:00:00Z'); // 08:00 in Paris
    const rows = await notificationsOf(alertId);
    expect(rows.map((r) => [r.purpose, r.due_at.toISOString()])).toEqual([
      ['alert', new Date(monday).toISOString()],
      ['escalation', new Date(monday + DEFAULT_ESCALATION_DELAYS.high!).toISOString()],
    ]);

    const w = await worker();
    expect((await w.runOnce()).claimed).toBe(0);
    clock = monday - MINUTE;
    expect((await w.runOnce()).claimed).toBe(0);
    expect(receiver.of('/weekend')).toHaveLength(0);
    clock = monday;
    expect(await w.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    expect(receiver.of('/weekend')).toHaveLength(1);
    expect(receiver.of('/weekend-second')).toHaveLength(0);
  });
  it('sends again with the same idempotency key when an instance stopped between sending and recording (at least once)', async () => {
    clock = Date.parse('2026-12-01T15:00:00Z');
    const { team } = await patientInTeam('crash');
    await webhookChannel(team, '/crash');
    const alertId = await openSpo2Alert('crash');

    // An instance takes the row and sends it, then dies before recording the outcome.
    const lease = leaseMs(5_000);
    const [taken] = await claimDueNotifications(t.db, new Date(clock), 20, new Date(clock + lease));
    expect(taken!.alertId).toBe(alertId);
    const body = JSON.stringify({ id: taken!.id, type: 'alert.opened' });
    const sent = await sendWebhook({
      url: receiver.url('/crash'),
      secret: receiver.secrets.get('/crash')!,
      body,
      idempotencyKey: taken!.id,
      timestampSeconds: Math.floor(clock / 1000),
      timeoutMs: 5_000,
    });
    expect(sent).toEqual({ outcome: 'delivered' });

    // Another instance: nothing to take while the lease runs; then the row, again, same key.
    const w = await worker();
    clock += lease - 1_000;
    expect((await w.runOnce()).claimed).toBe(0);
    clock += 1_000;
    expect(await w.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
    const requests = receiver.of('/crash');
    expect(requests.map((r) => r.headers['idempotency-key'])).toEqual([taken!.id, taken!.id]);
    expect((await notificationsOf(alertId))[0]).toMatchObject({ state: 'sent', attempts: 2 });
  });
});
