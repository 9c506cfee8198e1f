import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput, UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

/** `--limit N` of the list commands: a whole number, checked again by the action (1 to 1000). */
export function limitOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`--limit takes a whole number from 1 to 1000, not "${text}"`);
  return n;
}

export const practitionersAdd = defineCommand({
  name: 'practitioners add',
  summary: 'adds a health professional',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: 'their id (1 to 64 of A-Z a-z 0-9 . _ -)' },
    name: { type: 'string', value: 'NAME', required: true, description: 'their name, as the dashboard shows it' },
    rpps: {
      type: 'string',
      value: 'N',
      description: 'their RPPS number (11 digits; Pro Santé Connect signs them in by it)',
    },
    role: { type: 'string', value: 'physician|nurse|coordinator', description: 'their role (default physician)' },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { addPractitioner } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const p = await addPractitioner(db, { id: values.id, name: values.name, rpps: values.rpps, role: values.role });
      out.result(
        p,
        `practitioner ${p.id} added (${p.role}${p.rpps ? `, RPPS ${p.rpps}` : ''}); \`vitalink teams add-member --team ID --practitioner ${p.id}\` puts them in a team.`,
      );
    });
  },
});

export const practitionersList = defineCommand({
  name: 'practitioners list',
  summary: 'lists practitioners',
  options: {
    after: { type: 'string', value: 'ID', description: 'the page after this practitioner id (the `next` of a page)' },
    limit: { type: 'string', value: 'N', description: 'practitioners per page, 1 to 1000 (default 100)' },
    json: { type: 'boolean', description: 'print {"items": [...], "next": ID | null}' },
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { listPractitionersPage } = await import('../actions/care-teams.ts');
    const limit = limitOption(values.limit);
    await withDatabase(async ({ db }) => {
      const { items, next } = await listPractitionersPage(db, { afterId: values.after, limit });
      const rows = items.map((p) => [p.id, p.role, p.rpps ?? '-', p.name].join('  '));
      const text = items.length === 0 ? 'no practitioners' : rows.join('\n');
      out.result({ items, next }, next ? `${text}\nmore: vitalink practitioners list --after ${next}` : text);
    });
  },
});

export const practitionersShow = defineCommand({
  name: 'practitioners show',
  summary: 'shows a practitioner and their teams',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the practitioner's id" },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { showPractitioner } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const p = await showPractitioner(db, values.id, new Date());
      const teams = p.teams.map((t) => `  ${t.id}  ${t.onDuty ? 'on duty' : `off duty until ${t.nextOpening}`}`);
      out.result(
        p,
        [
          `${p.id}  ${p.name}  ${p.role}  RPPS ${p.rpps ?? '-'}`,
          p.teams.length === 0 ? 'in no team' : 'teams:',
          ...teams,
        ].join('\n'),
      );
    });
  },
});
