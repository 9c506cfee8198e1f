import type { EnrolmentView } from '../actions/care-teams.ts';
import { PROGRAMME_INFO, PROGRAMMES } from '../domain/programmes.ts';
import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { limitOption } from './practitioners.command.ts';
import { withDatabase } from './with-database.ts';

const PROGRAMMES_NOTE =
  `Programmes: ${PROGRAMMES.filter((p) => PROGRAMME_INFO[p].commonLaw).join(', ')} ` +
  `(the common-law télésurveillance activities), and ${PROGRAMMES.filter((p) => !PROGRAMME_INFO[p].commonLaw).join(', ')}. ` +
  'A patient cannot be enrolled twice with one team in one programme over overlapping times. ' +
  'Times: RFC 3339 with an offset (2026-11-22T08:00:00+01:00) or epoch milliseconds.';

function line(e: EnrolmentView): string {
  return [e.id, e.patientId, e.teamId, e.programme, e.from, e.to ?? 'open-ended', e.state].join('  ');
}

export const enrolCommand = defineCommand({
  name: 'enrol',
  summary: 'enrols a patient in a monitoring programme followed by a team',
  options: {
    patient: { type: 'string', value: 'ID', required: true, description: "the patient's id" },
    team: { type: 'string', value: 'ID', required: true, description: "the team's id" },
    programme: { type: 'string', value: 'NAME', required: true, description: 'the programme (see below)' },
    from: { type: 'string', value: 'TIME', description: 'start (default now)' },
    to: {
      type: 'string',
      value: 'TIME',
      description: 'end, exclusive (default open-ended; `enrolments end` ends it later)',
    },
    json: JSON_OPTION,
  },
  notes: PROGRAMMES_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { enrol } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const e = await enrol(
        db,
        {
          patientId: values.patient,
          teamId: values.team,
          programme: values.programme,
          from: values.from,
          to: values.to,
        },
        new Date(),
      );
      out.result(
        e,
        `enrolment ${e.id}: patient ${e.patientId} in ${e.programme} with team ${e.teamId} from ${e.from} to ${e.to ?? 'open-ended'}; \`vitalink enrolments end --id ${e.id}\` ends it.`,
      );
    });
  },
});

export const enrolmentsList = defineCommand({
  name: 'enrolments list',
  summary: 'lists enrolments, by team or patient',
  options: {
    team: { type: 'string', value: 'ID', description: "only this team's" },
    patient: { type: 'string', value: 'ID', description: "only this patient's" },
    active: { type: 'boolean', description: 'only those running now' },
    after: { type: 'string', value: 'ID', description: 'the page after this enrolment id (the `next` of a page)' },
    limit: { type: 'string', value: 'N', description: 'enrolments per page, 1 to 1000 (default 100)' },
    json: { type: 'boolean', description: 'print {"items": [...], "next": ID | null}' },
  },
  notes: 'Each enrolment: id, patient, team, programme, from, to, state (upcoming, running, ended).',
  async run(values) {
    const out = createOutput(values.json === true);
    const { listEnrolmentsPage } = await import('../actions/care-teams.ts');
    const limit = limitOption(values.limit);
    await withDatabase(async ({ db }) => {
      const { items, next } = await listEnrolmentsPage(
        db,
        {
          teamId: values.team,
          patientId: values.patient,
          active: values.active === true,
          afterId: values.after,
          limit,
        },
        new Date(),
      );
      const text = items.length === 0 ? 'no enrolments' : items.map(line).join('\n');
      out.result({ items, next }, next ? `${text}\nmore: vitalink enrolments list --after ${next}` : text);
    });
  },
});

export const enrolmentsShow = defineCommand({
  name: 'enrolments show',
  summary: 'shows one enrolment',
  options: {
    id: {
      type: 'string',
      value: 'ID',
      required: true,
      description: 'the id `enrol` printed (or `enrolments list` shows)',
    },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { showEnrolment } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const e = await showEnrolment(db, values.id, new Date());
      out.result(e, line(e));
    });
  },
});

export const enrolmentsEnd = defineCommand({
  name: 'enrolments end',
  summary: 'ends an enrolment',
  options: {
    id: {
      type: 'string',
      value: 'ID',
      required: true,
      description: 'the id `enrol` printed (or `enrolments list` shows)',
    },
    at: { type: 'string', value: 'TIME', description: 'when it ends (default now); after its start' },
    json: JSON_OPTION,
  },
  notes: "From that time on, the team's members no longer see the patient (unless another enrolment holds).",
  async run(values) {
    const out = createOutput(values.json === true);
    const { endEnrolment } = await import('../actions/care-teams.ts');
    await withDatabase(async ({ db }) => {
      const e = await endEnrolment(db, values.id, values.at, new Date());
      out.result(e, `enrolment ${e.id} (patient ${e.patientId}, team ${e.teamId}, ${e.programme}) ends at ${e.to}.`);
    });
  },
});
