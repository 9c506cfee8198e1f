/**
 * The service's role gets EXECUTE only on the functions that src/store/service-grants.ts
 * lists (README, "Security", "Database roles"): a function a migration creates for the
 * service and that the list forgets would be refused to it at run time, and only on a
 * split installation. This keeps the list equal to the `vitalink_*` functions that
 * migrations/ creates, with their argument types.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_FUNCTIONS } from '../../../src/store/service-grants.ts';

const folder = path.resolve(import.meta.dirname, '../../../migrations');

/** `name(type, ...)` of every CREATE FUNCTION vitalink_… in migrations/, argument names dropped. */
function createdFunctions(): string[] {
  const found: string[] = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(folder, file), 'utf8');
    for (const [, name, args] of text.matchAll(/CREATE (?:OR REPLACE )?FUNCTION (vitalink_\w+)\(([^)]*)\)/g)) {
      const types = args!
        .split(',')
        .map((a) => a.trim().split(/\s+/).slice(1).join(' '))
        .filter((t) => t !== '');
      found.push(`${name}(${types.join(', ')})`);
    }
  }
  return found.sort();
}

describe('the service functions registry', () => {
  it('lists every vitalink_* function of migrations/, with its argument types, and nothing else', () => {
    const created = createdFunctions();
    expect(created.length).toBeGreaterThan(0);
    expect([...SERVICE_FUNCTIONS].sort()).toEqual(created);
  });
});
