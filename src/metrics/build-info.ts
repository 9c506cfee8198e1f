import { readFileSync } from 'node:fs';

/** What runs: Vitalink's version (package.json, shipped in the image) and Node.js's. */
export function buildInfo(): { version: string; node: string } {
  let version = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    if (typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // a copy without package.json: the series still says which Node.js runs it
  }
  return { version, node: process.versions.node };
}
