import { defineCommand } from './command.ts';
import { UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

/** Rows per keyset page: the export holds one page in memory, whatever the patient's total. */
const PAGE = 1000;

function parseTime(option: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`--${option} must be a date or an ISO 8601 time, e.g. 2026-12-01T00:00:00Z`);
  return new Date(ms);
}

/** Writes to stdout and waits when its buffer is full, so that a long export stays in bounded memory. */
async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

export const auditExport = defineCommand({
  name: 'audit export',
  summary: "prints every audit row about one patient, oldest first (a patient's access request)",
  options: {
    patient: { type: 'string', value: 'ID', description: 'the patient', required: true },
    from: { type: 'string', value: 'TIME', description: 'only rows at or after this time (ISO 8601)' },
    to: { type: 'string', value: 'TIME', description: 'only rows before this time (ISO 8601)' },
    json: { type: 'boolean', description: 'one JSON object per line (JSON Lines) instead of one text line per row' },
  },
  notes: [
    'Rows: time, outcome (allowed, denied, not_found), action, role, principal (token:<id> or',
    'admin-token), request id (as in the access log line) and source address; rows written before',
    'migration 2026-12-07T1340 have no outcome, principal, request id or address ("-").',
    'The rows are read in pages of 1000 and printed as they come: any number of rows fits in memory.',
  ].join('\n'),
  async run(values) {
    const from = parseTime('from', values.from);
    const to = parseTime('to', values.to);
    const { auditPage } = await import('../store/audit.repository.ts');
    await withDatabase(async ({ db }) => {
      let after: { at: Date; id: string } | undefined;
      let total = 0;
      for (;;) {
        const rows = await auditPage(db, { patientId: values.patient, from, to, after, limit: PAGE });
        let chunk = '';
        for (const r of rows) {
          if (values.json) {
            chunk += `${JSON.stringify({ ...r, at: r.at.toISOString() })}\n`;
          } else {
            const principal = r.principal ?? (r.tokenId === null ? '-' : `token:${r.tokenId}`);
            chunk += `${[r.at.toISOString(), r.outcome ?? '-', r.action, r.role, principal, r.requestId ?? '-', r.sourceAddress ?? '-'].join('\t')}\n`;
          }
        }
        if (chunk) await write(chunk);
        total += rows.length;
        if (rows.length < PAGE) break;
        const last = rows[rows.length - 1];
        after = { at: last.at, id: last.id };
      }
      if (!values.json) process.stderr.write(`${total} audit row(s) about patient ${values.patient}\n`);
    });
  },
});
