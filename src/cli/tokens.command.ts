import { defineCommand } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

export const tokensCreate = defineCommand({
  name: 'tokens create',
  summary: 'prints an API token once',
  options: {
    role: { type: 'string', value: 'admin|operator|clinician', required: true, description: "the token's role" },
    patients: { type: 'string', value: 'ID,...', description: "a clinician token's patients" },
    name: { type: 'string', value: 'LABEL', description: 'a label to recognise the token by' },
    json: { type: 'boolean', description: 'print {"token", "role"}' },
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { createApiToken } = await import('../actions/tokens.ts');
    await withDatabase(async ({ db }) => {
      const created = await createApiToken(db, {
        role: values.role,
        patientIds: values.patients
          ? values.patients
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean)
          : undefined,
        label: values.name,
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
  },
});
