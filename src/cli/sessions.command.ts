import { defineCommand } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

/** README, "Sign-in", "Sessions and cookies": an administrator ends a practitioner's dashboard sessions. */
export const sessionsRevoke = defineCommand({
  name: 'sessions revoke',
  summary: "ends every sign-in session of a practitioner (the dashboard's cookie)",
  options: {
    practitioner: { type: 'string', value: 'ID', required: true, description: 'the practitioner id' },
    json: { type: 'boolean', description: 'print {"practitionerId": ID, "revoked": N}' },
  },
  notes: [
    'Each session is refused from its next request, on every instance. Bearer access tokens of the',
    'issuer are not sessions: they end at their own expiry (or revoke the account at the issuer).',
  ].join('\n'),
  async run(values) {
    const out = createOutput(values.json === true);
    const { revokeSessionsOf } = await import('../actions/sign-in.ts');
    await withDatabase(async ({ db }) => {
      const revoked = await revokeSessionsOf(db, values.practitioner, new Date());
      out.result(
        { practitionerId: values.practitioner, revoked },
        `${revoked} sign-in session(s) of practitioner ${values.practitioner} ended: refused from their next request.`,
      );
    });
  },
});
