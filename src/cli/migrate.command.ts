import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

export const migrate = defineCommand({
  name: 'migrate',
  summary: 'applies pending database migrations and exits',
  options: { json: JSON_OPTION },
  async run(values) {
    const out = createOutput(values.json === true);
    const { migrateDatabase } = await import('../database-server/migrate-database.ts');
    await withDatabase(
      async (database) => {
        const { applied, roles, granted } = await migrateDatabase(database, database.log);
        const done =
          applied.length > 0
            ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
            : 'database is up to date';
        // README, "Security", "Database roles".
        const who = roles.split
          ? `tables owned by ${roles.owner}; the service role ${roles.service} has only its grants${granted ? ' (applied again)' : ''}`
          : `the service role ${roles.service} owns the tables: audit_log is append-only against mistakes only (set DATABASE_MIGRATION_URL, README "Database roles")`;
        out.result({ applied, roles }, `${done}\n${who}`);
      },
      { migrate: false },
    );
  },
});
