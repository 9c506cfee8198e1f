import type { TeamView } from '../actions/care-teams.ts';
import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { limitOption } from './practitioners.command.ts';
import { withDatabase } from './with-database.ts';

const HOURS_NOTE =
  'Service hours: entries separated by ";", each days then local time ranges, e.g. ' +
  '"mon-fri 08:00-18:00; sat 09:00-12:00", "mon,wed,fri 08:00-12:00 14:00-18:00", ' +
  '"sat-sun 20:00-08:00" (a range ending before it starts runs past midnight). Without hours a team is always on duty.';

function duty(t: TeamView): string {
  if (t.serviceHours === null) return 'always on duty';
  return t.onDuty ? `on duty (${t.serviceHours})` : `off duty until ${t.nextOpening} (${t.serviceHours})`;
}

export const teamsAdd = defineCommand({
  name: 'teams add',
  summary: 'adds a care team',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the team's id (1 to 64 of A-Z a-z 0-9 . _ -)" },
    name: { type: 'string', value: 'NAME', description: 'its name, as the dashboard shows it' },
    tz: { type: 'string', value: 'ZONE', description: 'IANA time zone of its service hours (default Europe/Paris)' },
    hours: { type: 'string', value: 'SPEC', description: 'its service hours (see below); none: always on duty' },
    json: JSON_OPTION,
  },
  notes: HOURS_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { addTeam } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const t = await addTeam(
        db,
        { id: values.id, name: values.name, timeZone: values.tz, serviceHours: values.hours },
        new Date(),
      );
      out.result(t, `team ${t.id} added (time zone ${t.timeZone}, ${duty(t)}).`);
    });
  },
});

export const teamsList = defineCommand({
  name: 'teams list',
  summary: 'lists care teams with whether each is on duty now',
  options: {
    after: { type: 'string', value: 'ID', description: 'the page after this team id (the `next` of a page)' },
    limit: { type: 'string', value: 'N', description: 'teams per page, 1 to 1000 (default 100)' },
    json: { type: 'boolean', description: 'print {"items": [...], "next": ID | null}' },
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { listTeamsPage } = await import('../actions/care-teams.ts');
    const limit = limitOption(values.limit);
    await withDatabase(async ({ db }) => {
      const { items, next } = await listTeamsPage(db, { afterId: values.after, limit }, new Date());
      const rows = items.map((t) => [t.id, t.timeZone, duty(t), t.name ?? '-'].join('  '));
      const text = items.length === 0 ? 'no teams' : rows.join('\n');
      out.result({ items, next }, next ? `${text}\nmore: vitalink teams list --after ${next}` : text);
    });
  },
});

export const teamsShow = defineCommand({
  name: 'teams show',
  summary: 'shows a care team, its duty now and its members',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the team's id" },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { showTeam } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const t = await showTeam(db, values.id, new Date());
      out.result(
        t,
        [
          `${t.id}  ${t.name ?? '-'}  ${t.timeZone}  ${duty(t)}`,
          t.members.length === 0 ? 'no members' : 'members:',
          ...t.members.map((m) => `  ${m.id}  ${m.role}  ${m.name}`),
        ].join('\n'),
      );
    });
  },
});

export const teamsAddMember = defineCommand({
  name: 'teams add-member',
  summary: 'adds a practitioner to a care team',
  options: {
    team: { type: 'string', value: 'ID', required: true, description: "the team's id" },
    practitioner: { type: 'string', value: 'ID', required: true, description: "the practitioner's id" },
    json: JSON_OPTION,
  },
  notes: "From their next request, the practitioner's tokens see the patients enrolled with the team.",
  async run(values) {
    const out = createOutput(values.json === true);
    const { addMember } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const r = await addMember(db, values.team, values.practitioner);
      out.result(
        r,
        r.added
          ? `practitioner ${r.practitionerId} is now a member of team ${r.teamId}.`
          : `practitioner ${r.practitionerId} already was a member of team ${r.teamId}; nothing changed.`,
      );
    });
  },
});

export const teamsRemoveMember = defineCommand({
  name: 'teams remove-member',
  summary: 'removes a practitioner from a care team',
  options: {
    team: { type: 'string', value: 'ID', required: true, description: "the team's id" },
    practitioner: { type: 'string', value: 'ID', required: true, description: "the practitioner's id" },
    json: JSON_OPTION,
  },
  notes: "From their next request, the practitioner's tokens no longer see the team's patients.",
  async run(values) {
    const out = createOutput(values.json === true);
    const { removeMember } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const r = await removeMember(db, values.team, values.practitioner);
      out.result(r, `practitioner ${r.practitionerId} is no longer a member of team ${r.teamId}.`);
    });
  },
});

export const teamsSetHours = defineCommand({
  name: 'teams set-hours',
  summary: "sets a care team's service hours (and time zone)",
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the team's id" },
    hours: { type: 'string', value: 'SPEC', description: 'the new service hours (see below)' },
    always: { type: 'boolean', description: 'no service hours: always on duty' },
    tz: { type: 'string', value: 'ZONE', description: 'a new IANA time zone for the hours' },
    json: JSON_OPTION,
  },
  notes: HOURS_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { UsageError } = await import('./output.ts');
    if ((values.hours === undefined) === (values.always !== true)) {
      throw new UsageError('teams set-hours needs either --hours SPEC or --always');
    }
    const { setTeamHours } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const t = await setTeamHours(
        db,
        values.id,
        { serviceHours: values.always ? null : (values.hours ?? null), timeZone: values.tz },
        new Date(),
      );
      out.result(t, `team ${t.id}: ${duty(t)}, time zone ${t.timeZone}.`);
    });
  },
});
