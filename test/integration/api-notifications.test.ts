import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { waitFor } from '../helpers/device.ts';
import { readmeVerifier, WebhookReceiver } from '../helpers/webhook-receiver.ts';

/** The admin API of notification channels and dead letters (README, "Notifications"). */
// The service as its own role (README, "Database roles"): the notification tables are usable by it.
const t = useTestService({
  adminToken: true,
  databaseRoles: 'split',
  env: {
    VITALINK_NOTIFY_POLL_MS: '100',
    VITALINK_AGGREGATION_INTERVAL_MS: '100',
    VITALINK_PUBLIC_URL: 'https://vitalink.example.org',
  },
  beforeStart: async (t) => {
    await t.query(`INSERT INTO care_teams (id, name) VALUES ('api-team', 'API team')`);
    await t.addPatient('api-patient');
  },
});

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = new WebhookReceiver(await readmeVerifier(), Date.now);
  await receiver.start();
});
afterAll(async () => {
  await receiver?.stop();
});

describe('notification channels over HTTP', () => {
  it('adds a webhook (secret in the response only), an e-mail contact, lists and removes them (admin)', async () => {
    const admin = { token: t.adminToken };
    const created = await t.api.post(
      '/api/v1/notification-channels',
      { teamId: 'api-team', webhook: 'https://hooks.example.org/api' },
      admin,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ teamId: 'api-team', kind: 'webhook', escalation: false });
    expect(created.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const given = 'a-secret-the-receiver-chose-0123456789';
    const second = await t.api.post(
      '/api/v1/notification-channels',
      { teamId: 'api-team', webhook: 'https://hooks.example.org/other', secret: given, escalation: true },
      admin,
    );
    expect(second.status).toBe(201);
    expect(second.body.secret).toBe(given);

    const duplicate = await t.api.post(
      '/api/v1/notification-channels',
      { teamId: 'api-team', webhook: 'https://hooks.example.org/api' },
      admin,
    );
    expect(duplicate.status).toBe(409);
    const short = await t.api.post(
      '/api/v1/notification-channels',
      { teamId: 'api-team', webhook: 'https://hooks.example.org/x', secret: 'short' },
      admin,
    );
    expect(short.status).toBe(422);
    expect(short.body.error.message).toContain('at least 32 characters');
    const email = await t.api.post(
      '/api/v1/notification-channels',
      { teamId: 'api-team', email: 'ide@ch.example' },
      admin,
    );
    expect(email.status).toBe(201);
    expect(email.body.secret).toBeUndefined();

    const list = await t.api.get('/api/v1/notification-channels?team=api-team', admin);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(3);
    expect(JSON.stringify(list.body)).not.toContain(given);

    const removed = await t.api.call('DELETE', `/api/v1/notification-channels/${created.body.id}`, admin);
    expect(removed).toMatchObject({ status: 200, body: { id: created.body.id, removed: true } });
    expect((await t.api.call('DELETE', `/api/v1/notification-channels/${created.body.id}`, admin)).status).toBe(404);
    expect((await t.api.get('/api/v1/notification-channels', admin)).body.items).toHaveLength(2);
  });

  it('keeps channels to the admin and dead letters to the admin and operators', async () => {
    const operator = await t.createToken('operator');
    const clinician = await t.createToken('clinician', ['api-patient']);
    expect((await t.api.get('/api/v1/notification-channels', { token: operator.token })).status).toBe(403);
    expect((await t.api.get('/api/v1/notifications/dead-letters', { token: clinician.token })).status).toBe(403);
    const letters = await t.api.get('/api/v1/notifications/dead-letters', { token: operator.token });
    expect(letters).toMatchObject({ status: 200, body: { items: [] } });
    const replay = await t.api.post(
      '/api/v1/notifications/replay',
      { id: '00000000-0000-4000-8000-000000000000' },
      { token: operator.token },
    );
    expect(replay.status).toBe(404);
    const all = await t.api.post('/api/v1/notifications/replay', { all: true }, { token: operator.token });
    expect(all).toMatchObject({ status: 200, body: { replayed: [] } });
  });
});

describe('notifications in `serve`', () => {
  it("an alert opened by a reading over MQTT reaches the team's webhook through the service's own worker", async () => {
    const client = await t.device('ox-serve', 'p-serve');
    await t.query(`INSERT INTO care_teams (id) VALUES ('serve-team')`);
    await t.query(
      `INSERT INTO enrolments (patient_id, team_id, programme, starts_at) VALUES ('p-serve', 'serve-team', 'copd', now() - interval '1 day')`,
    );
    const added = await t.api.post(
      '/api/v1/notification-channels',
      { teamId: 'serve-team', webhook: receiver.url('/serve') },
      { token: t.adminToken },
    );
    receiver.secrets.set('/serve', added.body.secret);
    await t.publish(client, 'ox-serve', [{ id: 'low-1', type: 'spo2', at: Date.now() - 1_000, unit: '%', value: 87 }]);

    const [hook] = await waitFor(() => receiver.of('/serve').length > 0 && receiver.of('/serve'), 'the webhook');
    expect(hook!.status).toBe(200);
    expect(hook!.payload).toMatchObject({
      type: 'alert.opened',
      teamId: 'serve-team',
      alert: { patientId: 'p-serve', rule: 'spo2_low', severity: 'high' },
    });
    expect(hook!.payload.alert.url).toMatch(/^https:\/\/vitalink\.example\.org\/#\/alerts\/\d+$/);
    await waitFor(
      async () =>
        /^vitalink_notifications_total\{channel="webhook",outcome="sent"\} 1$/m.test(
          await (await fetch(`${t.httpUrl}/metrics`)).text(),
        ),
      'the metric',
    );
    const { rows } = await t.query(`SELECT state FROM notifications WHERE team_id = 'serve-team'`);
    expect(rows).toEqual([{ state: 'sent' }]);
  });
});
