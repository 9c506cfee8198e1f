import { randomBytes } from 'node:crypto';
import { isLoopbackHost } from '../config.ts';
import { channelSecretContext, MIN_WEBHOOK_SECRET_LENGTH } from '../domain/notifications.ts';
import { sealSecret } from '../domain/sealed-secrets.ts';
import type { KeyRing } from '../domain/secret-keys.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import {
  type Channel,
  type DeadLetter,
  insertChannel,
  listChannels,
  listDeadLetters,
  removeChannel,
  replayDeadLetters,
  teamExists,
} from '../store/notifications.repository.ts';

/**
 * Where a care team's alerts are sent (README, "Notifications"): `vitalink
 * notifications add|list|remove|dead-letters|replay` and the admin API.
 */

export interface AddChannelInput {
  teamId: string;
  webhook?: string;
  email?: string;
  /** A webhook's secret; generated (32 random bytes, base64url) when not given. */
  secret?: string;
  /** The second contact, told when an alert is not acknowledged in time. */
  escalation?: boolean;
}

export interface AddedChannel {
  channel: Channel;
  /** The webhook's secret, shown this once; absent for e-mail. */
  secret?: string;
}

/** A webhook URL: https, or http to this machine only (a receiver next to the service). */
export function checkWebhookUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `webhook "${text}" is not a URL: give an absolute https:// URL`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'the webhook URL must not hold credentials: the signature authenticates the service to the receiver';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return `webhook "${url.origin}" must be https:// (plain http:// only to this machine), since it carries alert notifications`;
}

const EMAIL = /^[^\s@<>(),;:"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$|^[^\s@<>(),;:"]+@localhost$/;

export async function addNotificationChannel(db: Db, keys: KeyRing, input: AddChannelInput): Promise<AddedChannel> {
  const { teamId } = input;
  if ((input.webhook === undefined) === (input.email === undefined)) {
    throw new AppError('invalid_input', 'give either a webhook URL (--webhook) or an e-mail address (--email)');
  }
  if (input.email !== undefined && input.secret !== undefined) {
    throw new AppError('invalid_input', 'a secret (--secret) is for a webhook; an e-mail channel has none', {
      field: 'secret',
    });
  }
  // The values first: a bad one is the same mistake whichever team it names.
  const escalation = input.escalation === true;
  const email = input.email?.trim();
  if (email !== undefined && !EMAIL.test(email)) {
    throw new AppError('invalid_input', `"${input.email}" is not an e-mail address (name@domain)`, {
      field: 'email',
    });
  }
  const url = input.webhook?.trim();
  const problem = url === undefined ? null : checkWebhookUrl(url);
  if (problem) throw new AppError('invalid_input', problem, { field: 'webhook' });
  if (input.secret !== undefined && input.secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new AppError(
      'invalid_input',
      `the webhook secret must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters; leave it out to have one generated`,
      { field: 'secret' },
    );
  }
  if (!(await teamExists(db, teamId))) {
    throw new AppError('not_found', `care team ${teamId} does not exist: create it first (\`vitalink teams add\`)`);
  }
  if (email !== undefined) {
    const channel = await insertChannel(db, { teamId, kind: 'email', target: email, escalation });
    if (!channel) throw duplicate(teamId);
    return { channel };
  }
  const secret = input.secret ?? randomBytes(32).toString('base64url');
  const sealed = sealSecret(keys.current, secret, channelSecretContext(teamId, url!));
  const channel = await insertChannel(db, {
    teamId,
    kind: 'webhook',
    target: url!,
    escalation,
    secret: { sealed: sealed.sealed, keyId: sealed.keyId },
  });
  if (!channel) throw duplicate(teamId);
  return { channel, secret };
}

function duplicate(teamId: string): AppError {
  return new AppError(
    'conflict',
    `team ${teamId} already has this channel: \`vitalink notifications list --team ${teamId}\` shows it; remove it first to change its secret`,
  );
}

export async function listNotificationChannels(db: Db, teamId?: string): Promise<Channel[]> {
  if (teamId !== undefined && !(await teamExists(db, teamId))) {
    throw new AppError('not_found', `care team ${teamId} does not exist`);
  }
  return listChannels(db, teamId);
}

export async function removeNotificationChannel(db: Db, id: string, now: Date): Promise<void> {
  if (!(await removeChannel(db, id, now))) {
    throw new AppError('not_found', `notification channel ${id} does not exist (or was removed already)`);
  }
}

/** The most dead letters listed at once. */
export const MAX_DEAD_LETTERS = 1000;

export async function deadLetters(db: Db, options: { teamId?: string; limit?: number }): Promise<DeadLetter[]> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTERS) {
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_DEAD_LETTERS}`, {
      field: 'limit',
    });
  }
  return listDeadLetters(db, { teamId: options.teamId, limit });
}

/** Puts one dead letter (by id) or all of them back in the outbox, due now; returns the ids. */
export async function replayNotifications(db: Db, which: { id: string } | { all: true }, now: Date): Promise<string[]> {
  const ids = await replayDeadLetters(db, which, now);
  if ('id' in which && ids.length === 0) {
    throw new AppError(
      'not_found',
      `notification ${which.id} is not a dead letter: \`vitalink notifications dead-letters\` lists them`,
    );
  }
  return ids;
}
