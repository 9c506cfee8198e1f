import { addDevice, addPatient, assignDevice, parseTimeArgument } from '../actions/provisioning.ts';
import { reprocessRejections } from '../actions/reprocess.ts';
import { createApiToken } from '../actions/tokens.ts';
import type { Config } from '../config.ts';
import { REJECTION_REASONS } from '../domain/rejection-reasons.ts';
import type { Logger } from '../logger.ts';
import { migrateToLatest } from '../store/migrations.ts';
import { type OpenDatabase, openDatabase } from '../database-server/open-database.ts';
import { Partitions } from '../store/partitions.ts';
import { type Output, UsageError } from './output.ts';

type Values = Record<string, string | boolean | undefined>;

/** Every admin command works on the same database as `serve` (interfaces.md). */
async function withDatabase<T>(config: Config, log: Logger, work: (database: OpenDatabase) => Promise<T>): Promise<T> {
  const database = await openDatabase(config, log, 2, 10_000);
  try {
    await migrateToLatest(database.db, log);
    return await work(database);
  } finally {
    await database.close();
  }
}

function required(values: Values, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`${command} needs --${name}`);
  return v;
}

function optional(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export async function migrate(config: Config, log: Logger, out: Output): Promise<void> {
  const database = await openDatabase(config, log, 2, 10_000);
  try {
    const { applied } = await migrateToLatest(database.db, log);
    out.result(
      { applied },
      applied.length > 0 ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date',
    );
  } finally {
    await database.close();
  }
}

export async function patientsAdd(config: Config, log: Logger, out: Output, values: Values): Promise<void> {
  const id = required(values, 'id', 'patients add');
  await withDatabase(config, log, async ({ db }) => {
    const p = await addPatient(db, { id, timeZone: optional(values, 'tz'), displayName: optional(values, 'name') });
    out.result(
      { id: p.id, timeZone: p.timeZone, displayName: p.displayName, createdAt: p.createdAt.toISOString() },
      `patient ${p.id} added (time zone ${p.timeZone})`,
    );
  });
}

export async function devicesAdd(config: Config, log: Logger, out: Output, values: Values): Promise<void> {
  const id = required(values, 'id', 'devices add');
  await withDatabase(config, log, async ({ db }) => {
    const { device, secret, assignment } = await addDevice(
      db,
      { id, model: optional(values, 'model'), patientId: optional(values, 'patient') },
      new Date(),
    );
    out.result(
      { id: device.id, secret },
      [
        `device ${device.id} added${assignment ? `, assigned to patient ${assignment.patientId} from now` : ''}.`,
        `secret: ${secret}`,
        'This secret is shown only once: configure the device with username and client id',
        `"${device.id}" and this secret as password now.`,
      ].join('\n'),
    );
  });
}

export async function devicesAssign(config: Config, log: Logger, out: Output, values: Values): Promise<void> {
  const deviceId = required(values, 'id', 'devices assign');
  const patientId = required(values, 'patient', 'devices assign');
  const fromText = optional(values, 'from');
  const toText = optional(values, 'to');
  const from = fromText ? parseTimeArgument('--from', fromText) : new Date();
  const to = toText ? parseTimeArgument('--to', toText) : null;
  await withDatabase(config, log, async ({ db }) => {
    const { assignment, ended } = await assignDevice(db, { deviceId, patientId, from, to });
    const json = {
      id: assignment.id,
      deviceId,
      patientId,
      from: assignment.validFrom.toISOString(),
      to: assignment.validTo?.toISOString() ?? null,
      ended: ended ? { id: ended.id, patientId: ended.patientId, to: ended.validTo?.toISOString() ?? null } : null,
    };
    const lines = [
      `device ${deviceId} assigned to patient ${patientId} from ${json.from}${json.to ? ` to ${json.to}` : ''}`,
    ];
    if (ended) lines.push(`its assignment to patient ${ended.patientId} now ends at ${json.from}`);
    lines.push('readings it sent for that interval and kept as unassigned: run `vitalink rejections reprocess`');
    out.result(json, lines.join('\n'));
  });
}

export async function rejectionsReprocess(config: Config, log: Logger, out: Output, values: Values): Promise<void> {
  const reason = optional(values, 'reason');
  if (reason !== undefined && !(REJECTION_REASONS as readonly string[]).includes(reason)) {
    throw new UsageError(`--reason must be one of ${REJECTION_REASONS.join(', ')}`);
  }
  await withDatabase(config, log, async ({ db }) => {
    const report = await reprocessRejections(
      db,
      new Partitions(db),
      { reason, deviceId: optional(values, 'device') },
      config.readingMaxAgeMs,
      () => new Date(),
    );
    const lines = report.items.map(
      (i) =>
        `rejection ${i.rejectionId} (device ${i.deviceId}, reading ${i.readingId ?? '-'}, was ${i.previousReason}): ${i.outcome}` +
        (i.outcome === 'rejected' || i.outcome === 'still_rejected' ? ` (${i.reasons.join(', ')})` : ''),
    );
    const c = report.counts;
    lines.push(
      `${report.items.length} rejection(s) reprocessed: ${c.stored} stored, ${c.duplicate} already stored, ${c.still_rejected} still rejected, ${c.rejected} rejected for another reason`,
    );
    out.result(report, lines.join('\n'));
  });
}

export async function tokensCreate(config: Config, log: Logger, out: Output, values: Values): Promise<void> {
  const role = required(values, 'role', 'tokens create');
  const patients = optional(values, 'patients');
  await withDatabase(config, log, async ({ db }) => {
    const created = await createApiToken(db, {
      role,
      patientIds: patients
        ? patients
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)
        : undefined,
      label: optional(values, 'name'),
    });
    out.result(
      { token: created.token, role: created.role },
      [
        `${created.role} token created.`,
        `token: ${created.token}`,
        'This token is shown only once: send it as "Authorization: Bearer <token>".',
      ].join('\n'),
    );
  });
}
