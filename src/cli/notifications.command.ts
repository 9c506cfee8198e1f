import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput, UsageError } from './output.ts';

/** README, "Notifications": where a team's alerts are sent, and the dead letters. */

export const notificationsAdd = defineCommand({
  name: 'notifications add',
  summary: "adds where a team's alerts are sent (a webhook or an e-mail address)",
  options: {
    team: { type: 'string', value: 'ID', required: true, description: 'the care team' },
    webhook: { type: 'string', value: 'URL', description: 'an https:// URL the alerts are POSTed to, signed' },
    secret: {
      type: 'string',
      value: 'S',
      description: 'the webhook signing secret (32 characters or more); generated and printed once when left out',
    },
    email: {
      type: 'string',
      value: 'ADDRESS',
      description: 'an e-mail address (through the SMTP server of VITALINK_SMTP_*)',
    },
    escalation: {
      type: 'boolean',
      description: 'the second contact: told only when an alert is not acknowledged in time',
    },
    json: { type: 'boolean', description: 'print {"id", "teamId", "kind", "target", "escalation", "secret"?}' },
  },
  notes: [
    'Give --webhook or --email. A webhook request carries Vitalink-Timestamp, Vitalink-Signature',
    '(v1=HMAC-SHA256 of "timestamp.body" under the secret) and Idempotency-Key; README,',
    '"Notifications", says how a receiver verifies it. An e-mail holds the severity, the',
    "rule's label and a link (VITALINK_PUBLIC_URL), never a value or the patient's name.",
    'Escalation delays per severity: VITALINK_ESCALATION_CRITICAL (30m), _HIGH (2h), _MODERATE (8h), _LOW (24h).',
  ].join('\n'),
  async run(values) {
    const out = createOutput(values.json === true);
    const [{ addNotificationChannel }, { withDatabase }] = await Promise.all([
      import('../actions/notifications.ts'),
      import('./with-database.ts'),
    ]);
    if ((values.webhook === undefined) === (values.email === undefined)) {
      throw new UsageError('notifications add needs either --webhook URL or --email ADDRESS');
    }
    await withDatabase(async ({ db, keys }) => {
      const { channel, secret } = await addNotificationChannel(db, await keys(), {
        teamId: values.team,
        webhook: values.webhook,
        email: values.email,
        secret: values.secret,
        escalation: values.escalation === true,
      });
      const role = channel.escalation ? 'escalation contact' : 'channel';
      const lines = [`${channel.kind} ${role} ${channel.id} added to team ${channel.teamId}: ${channel.target}`];
      if (secret !== undefined && values.secret === undefined) {
        lines.push(
          `secret: ${secret}`,
          'This secret is shown only once: give it to the receiver, which checks the signature with it.',
        );
      }
      out.result(
        {
          id: channel.id,
          teamId: channel.teamId,
          kind: channel.kind,
          target: channel.target,
          escalation: channel.escalation,
          ...(secret !== undefined && values.secret === undefined ? { secret } : {}),
        },
        lines.join('\n'),
      );
    });
  },
});

export const notificationsList = defineCommand({
  name: 'notifications list',
  summary: "lists where teams' alerts are sent",
  options: {
    team: { type: 'string', value: 'ID', description: 'one care team only' },
    json: {
      type: 'boolean',
      description: 'print {"items": [{"id", "teamId", "kind", "target", "escalation", "createdAt"}]}',
    },
  },
  notes: 'Secrets are never shown again.',
  async run(values) {
    const out = createOutput(values.json === true);
    const [{ listNotificationChannels }, { withDatabase }] = await Promise.all([
      import('../actions/notifications.ts'),
      import('./with-database.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      const items = await listNotificationChannels(db, values.team);
      const json = items.map((c) => ({ ...c, createdAt: c.createdAt.toISOString() }));
      const text =
        items.length === 0
          ? 'no notification channel'
          : items
              .map((c) => [c.id, c.teamId, c.kind, c.escalation ? 'escalation' : 'alerts', c.target].join('  '))
              .join('\n');
      out.result({ items: json }, text);
    });
  },
});

export const notificationsRemove = defineCommand({
  name: 'notifications remove',
  summary: 'removes a notification channel',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: 'the channel (as listed)' },
    json: JSON_OPTION,
  },
  notes: 'What it was sent stays in the history; its notifications still waiting are cancelled when they come due.',
  async run(values) {
    const out = createOutput(values.json === true);
    const [{ removeNotificationChannel }, { withDatabase }] = await Promise.all([
      import('../actions/notifications.ts'),
      import('./with-database.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      await removeNotificationChannel(db, values.id, new Date());
      out.result({ id: values.id, removed: true }, `notification channel ${values.id} removed`);
    });
  },
});

export const notificationsDeadLetters = defineCommand({
  name: 'notifications dead-letters',
  summary: 'lists notifications that failed for good (dead letters)',
  options: {
    team: { type: 'string', value: 'ID', description: 'one care team only' },
    limit: { type: 'string', value: 'N', description: 'at most N, oldest first, 1 to 1000 (default 100)' },
    json: { type: 'boolean', description: 'print {"items": [...]}' },
  },
  notes:
    'Each: id, alert, team, channel, purpose (alert or escalation), attempts and the last error.\nReplay them with the replay command of this group once the receiver is fixed.',
  async run(values) {
    const out = createOutput(values.json === true);
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !Number.isInteger(limit)) {
      throw new UsageError(`--limit takes a whole number from 1 to 1000, not "${values.limit}"`);
    }
    const [{ deadLetters }, { withDatabase }] = await Promise.all([
      import('../actions/notifications.ts'),
      import('./with-database.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      const items = await deadLetters(db, { teamId: values.team, limit });
      const json = items.map((d) => ({
        ...d,
        createdAt: d.createdAt.toISOString(),
        deadAt: d.deadAt?.toISOString() ?? null,
      }));
      const text =
        items.length === 0
          ? 'no dead letter'
          : items
              .map((d) =>
                [
                  d.id,
                  `alert ${d.alertId}`,
                  `team ${d.teamId}`,
                  d.channel,
                  d.purpose,
                  `${d.attempts} attempt(s)`,
                  d.lastError ?? '-',
                ].join('  '),
              )
              .join('\n');
      out.result({ items: json }, text);
    });
  },
});

export const notificationsReplay = defineCommand({
  name: 'notifications replay',
  summary: 'sends dead letters again (one by id, or all)',
  options: {
    id: { type: 'string', value: 'ID', description: 'the dead letter to send again' },
    all: { type: 'boolean', description: 'every dead letter' },
    json: { type: 'boolean', description: 'print {"replayed": [ID, ...]}' },
  },
  notes: 'They are due at once, with their attempts counted afresh and the same idempotency key.',
  async run(values) {
    const out = createOutput(values.json === true);
    if ((values.id === undefined) === (values.all !== true)) {
      throw new UsageError('notifications replay needs either --id ID or --all');
    }
    const [{ replayNotifications }, { withDatabase }] = await Promise.all([
      import('../actions/notifications.ts'),
      import('./with-database.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      const replayed = await replayNotifications(
        db,
        values.id !== undefined ? { id: values.id } : { all: true },
        new Date(),
      );
      out.result({ replayed }, `${replayed.length} notification(s) put back in the outbox`);
    });
  },
});
