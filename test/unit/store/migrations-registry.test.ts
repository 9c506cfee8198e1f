/**
 * Migrations are registered by hand in src/store/migrations.ts (so that they work
 * from a bundle): a file in migrations/ that is not registered would be silently
 * skipped, and a registered name without its file would break the build of the
 * registry at run time. This keeps the two lists equal, in order.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATION_NAMES } from '../../../src/store/migrations.ts';

const folder = path.resolve(import.meta.dirname, '../../../migrations');

function migrationFiles(): string[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -'.ts'.length))
    .sort();
}

describe('the migration registry', () => {
  it('registers every file of migrations/, and has a file for every registered migration', () => {
    const files = migrationFiles();
    expect(files.length).toBeGreaterThan(0);
    expect([...MIGRATION_NAMES].sort()).toEqual(files);
  });

  it('lists the migrations in the order of their names (Kysely applies them in that order)', () => {
    expect(MIGRATION_NAMES).toEqual([...MIGRATION_NAMES].sort());
  });
});
