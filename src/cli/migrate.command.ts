import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

export const migrate = defineCommand({
  name: 'migrate',
  summary: 'applies pending database migrations and exits',
  options: { json: JSON_OPTION },
  async run(values) {
    const out = createOutput(values.json === true);
    const { migrateToLatest } = await import('../store/migrations.ts');
    await withDatabase(
      async ({ db, log }) => {
        const { applied } = await migrateToLatest(db, log);
        out.result(
          { applied },
          applied.length > 0
            ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
            : 'database is up to date',
        );
      },
      { migrate: false },
    );
  },
});
