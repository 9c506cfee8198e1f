import { defineCommand } from './command.ts';
import { UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

/** Readings per page: the export holds one page in memory, whatever the patient's history. */
const PAGE = 500;

function parseTime(option: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UsageError(`--${option} must be a date or an ISO 8601 time, e.g. 2026-12-01T00:00:00Z`);
  }
  return new Date(ms);
}

/** Writes to stdout and waits when its buffer is full, so that a long export stays in bounded memory. */
async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

export const exportMes = defineCommand({
  name: 'export mes',
  summary: 'prints the ANS feeding bundles of a patient for Mon espace santé (NDJSON), without sending them',
  options: {
    patient: {
      type: 'string',
      value: 'ID',
      description: 'the patient (needs a qualified INS identity)',
      required: true,
    },
    since: { type: 'string', value: 'TIME', description: 'only readings measured at or after this time (ISO 8601)' },
    json: {
      type: 'boolean',
      description: 'the same NDJSON (each line is one JSON Bundle); the summary line too is JSON',
    },
  },
  notes: [
    'One MesBundleFluxAlimentation transaction Bundle per line, oldest reading first, for the reading',
    'types of VITALINK_MES_TYPES. Needs VITALINK_MES_EDITOR_OID. A reading that cannot be sent (a blood',
    'glucose without its context) is left out and counted on stderr. README, "Feeding Mon espace santé".',
  ].join('\n'),
  async run(values) {
    const since = parseTime('since', values.since);
    const [{ requireFeedIdentity, mesBundlesPage }] = await Promise.all([import('../actions/mes-bundles.ts')]);
    await withDatabase(async ({ db, config }) => {
      const subject = await requireFeedIdentity(db, config.mes, values.patient);
      let after: [string, string, string] | undefined;
      let bundles = 0;
      const skipped = new Map<string, number>();
      for (;;) {
        const page = await mesBundlesPage(db, config.mes, subject, {
          patientId: values.patient,
          since,
          after,
          limit: PAGE,
        });
        let chunk = '';
        for (const item of page.items) {
          if (item.bundle) {
            chunk += `${JSON.stringify(item.bundle)}\n`;
            bundles++;
          } else if (item.problem) skipped.set(item.problem, (skipped.get(item.problem) ?? 0) + 1);
        }
        if (chunk) await write(chunk);
        if (!page.next) break;
        after = page.next;
      }
      const left = [...skipped].map(([problem, n]) => ({ readings: n, problem }));
      if (values.json) process.stderr.write(`${JSON.stringify({ bundles, skipped: left })}\n`);
      else {
        process.stderr.write(`${bundles} bundle(s) for patient ${values.patient}\n`);
        for (const s of left) process.stderr.write(`  ${s.readings} reading(s) left out: ${s.problem}\n`);
      }
    });
  },
});

export const mesPushes = defineCommand({
  name: 'mes pushes',
  summary: 'what was sent to Mon espace santé for a patient, when, and the answer',
  options: {
    patient: { type: 'string', value: 'ID', description: 'the patient', required: true },
    state: { type: 'string', value: 'STATE', description: 'only pending, sending, sent, refused or dead' },
    limit: { type: 'string', value: 'N', description: 'at most N, newest first (default 100)' },
    bundle: { type: 'boolean', description: 'with the bundle as sent (with --json)' },
    json: { type: 'boolean', description: 'one JSON object per line' },
  },
  async run(values) {
    const { MES_PUSH_STATES } = await import('../domain/mes-feed.ts');
    const state = values.state as (typeof MES_PUSH_STATES)[number] | undefined;
    if (state !== undefined && !MES_PUSH_STATES.includes(state)) {
      throw new UsageError(`--state must be one of ${MES_PUSH_STATES.join(', ')}`);
    }
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be 1 to 10000');
    const { listMesPushes } = await import('../store/mes-pushes.repository.ts');
    await withDatabase(async ({ db }) => {
      const rows = await listMesPushes(db, values.patient, { limit, state, withBundle: values.bundle === true });
      let out = '';
      for (const r of rows) {
        if (values.json) out += `${JSON.stringify(r)}\n`;
        else {
          const when = (r.sentAt ?? r.attemptedAt ?? r.createdAt).toISOString();
          out += `${[r.id, r.state, when, r.type, r.deviceId, r.readingId, r.attempts, r.status ?? '-', r.location ?? '-', r.answer ?? '-'].join('\t')}\n`;
        }
      }
      await write(out);
      if (!values.json) process.stderr.write(`${rows.length} push(es) for patient ${values.patient}\n`);
    });
  },
});

export const mesReplay = defineCommand({
  name: 'mes replay',
  summary: 'sends refused or dead Mon espace santé pushes again (once the cause is fixed)',
  options: {
    id: { type: 'string', value: 'ID', description: 'one push (its id in `vitalink mes pushes`)' },
    patient: { type: 'string', value: 'ID', description: "all of a patient's refused and dead pushes" },
    json: { type: 'boolean', description: 'print {"replayed": [ids]}' },
  },
  async run(values) {
    if ((values.id === undefined) === (values.patient === undefined)) throw new UsageError('give --id or --patient');
    const { replayMesPushes } = await import('../store/mes-pushes.repository.ts');
    await withDatabase(async ({ db }) => {
      const which = values.id !== undefined ? { id: values.id } : { patientId: values.patient! };
      const ids = await replayMesPushes(db, which, new Date());
      process.stdout.write(
        values.json ? `${JSON.stringify({ replayed: ids })}\n` : `${ids.length} push(es) due again\n`,
      );
    });
  },
});
