import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

export const patientsAdd = defineCommand({
  name: 'patients add',
  summary: 'creates a patient',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the patient's id (1 to 64 of A-Z a-z 0-9 . _ -)" },
    tz: { type: 'string', value: 'ZONE', description: 'IANA time zone of their days (default Europe/Paris)' },
    name: { type: 'string', value: 'NAME', description: 'display name' },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { addPatient } = await import('../actions/provisioning.ts');
    await withDatabase(async ({ db }) => {
      const p = await addPatient(db, { id: values.id, timeZone: values.tz, displayName: values.name });
      out.result(
        { id: p.id, timeZone: p.timeZone, displayName: p.displayName, createdAt: p.createdAt.toISOString() },
        `patient ${p.id} added (time zone ${p.timeZone})`,
      );
    });
  },
});
