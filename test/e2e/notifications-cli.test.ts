import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/service.ts';

/** `vitalink notifications …` as a process on a real PostgreSQL (README, "Notifications"). */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.query(`INSERT INTO care_teams (id, name) VALUES ('cli-team', 'CLI team')`);
  await database.query(`INSERT INTO patients (id) VALUES ('cli-p')`);
});

afterAll(async () => {
  await database?.drop();
});

function vitalink(args: string[]) {
  return runCli(['notifications', ...args], { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
}

describe('vitalink notifications', () => {
  it('adds a webhook (secret printed once, stored sealed), an e-mail escalation contact, lists and removes them', async () => {
    const added = await vitalink(['add', '--team', 'cli-team', '--webhook', 'https://hooks.example.org/v', '--json']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const webhook = JSON.parse(added.stdout);
    expect(webhook).toMatchObject({ teamId: 'cli-team', kind: 'webhook', target: 'https://hooks.example.org/v' });
    expect(webhook.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await database.query(
      `SELECT secret_sealed, secret_key_id FROM notification_channels WHERE id = $1`,
      [webhook.id],
    );
    expect(rows[0].secret_key_id).toBeTruthy();
    expect(Buffer.from(rows[0].secret_sealed).includes(Buffer.from(webhook.secret))).toBe(false);

    const again = await vitalink(['add', '--team', 'cli-team', '--webhook', 'https://hooks.example.org/v']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has this channel');

    const email = await vitalink(['add', '--team', 'cli-team', '--email', 'coord@ch.example', '--escalation']);
    expect(email.code).toBe(0);
    expect(email.stdout).toContain('email escalation contact');
    expect(email.stdout).not.toContain('secret');

    const plain = await vitalink(['add', '--team', 'cli-team', '--webhook', 'http://hooks.example.org/v']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('must be https://');
    const noTeam = await vitalink(['add', '--team', 'nobody', '--email', 'a@b.example']);
    expect(noTeam.code).toBe(1);
    expect(noTeam.stderr).toContain('care team nobody does not exist');
    const both = await vitalink(['add', '--team', 'cli-team']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--webhook URL or --email ADDRESS');

    const listed = JSON.parse((await vitalink(['list', '--team', 'cli-team', '--json'])).stdout);
    expect(listed.items.map((c: { kind: string; escalation: boolean }) => [c.kind, c.escalation])).toEqual([
      ['webhook', false],
      ['email', true],
    ]);
    expect(JSON.stringify(listed)).not.toContain(webhook.secret);

    expect((await vitalink(['remove', '--id', webhook.id])).code).toBe(0);
    const after = JSON.parse((await vitalink(['list', '--json'])).stdout);
    expect(after.items).toHaveLength(1);
    const missing = await vitalink(['remove', '--id', webhook.id]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });

  it('lists dead letters and replays them', async () => {
    const { rows: alerts } = await database.query(
      `INSERT INTO alerts (patient_id, rule, status, opened_at, threshold, reading_ids)
       VALUES ('cli-p', 'fever', 'open', now(), '38', '{}') RETURNING id`,
    );
    const { rows: channels } = await database.query(`SELECT id FROM notification_channels WHERE removed_at IS NULL`);
    const { rows: dead } = await database.query(
      `INSERT INTO notifications (alert_id, team_id, channel_id, channel, purpose, state, due_at, attempts, last_error, created_at, dead_at)
       VALUES ($1, 'cli-team', $2, 'email', 'alert', 'dead', now(), 8, 'the SMTP server smtp:587 answered 550', now(), now())
       RETURNING id`,
      [alerts[0].id, channels[0].id],
    );
    const letters = JSON.parse((await vitalink(['dead-letters', '--json'])).stdout);
    expect(letters.items).toEqual([
      expect.objectContaining({ id: dead[0].id, attempts: 8, lastError: 'the SMTP server smtp:587 answered 550' }),
    ]);
    const text = await vitalink(['dead-letters']);
    expect(text.stdout).toContain('answered 550');

    const replayed = await vitalink(['replay', '--id', dead[0].id, '--json']);
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual({ replayed: [dead[0].id] });
    const { rows: state } = await database.query(`SELECT state, attempts FROM notifications WHERE id = $1`, [
      dead[0].id,
    ]);
    expect(state).toEqual([{ state: 'pending', attempts: 0 }]);
    const notDead = await vitalink(['replay', '--id', dead[0].id]);
    expect(notDead.code).toBe(1);
    expect(notDead.stderr).toContain('is not a dead letter');
    expect((await vitalink(['replay'])).code).toBe(2);
  });
});
