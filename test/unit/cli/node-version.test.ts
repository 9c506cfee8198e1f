/**
 * The Node.js check of bin/node-version.js (run by `npm install`, `npm start` and the
 * `vitalink` command before anything else), and the minimum it states, which
 * package.json, package-lock.json, scripts/ensure-node.sh and the README must repeat.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MINIMUM_NODE, nodeVersionProblem, nodeVersionSupported } from '../../../bin/node-version.js';

const read = (file: string) => readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');

describe('nodeVersionSupported', () => {
  it.each([
    ['20.18.0', false],
    ['20.20.2', false],
    ['22.0.0', false],
    ['22.17.1', false],
    // Type stripping without a flag, but dependencies want more (testcontainers 22.22, undici 22.19).
    ['22.18.0', false],
    ['22.21.1', false],
    ['22.22.0', true],
    ['v22.22.0', true],
    ['22.23.4', true],
    // eslint and vitest leave out Node.js 23.
    ['23.11.0', false],
    ['24.0.0', true],
    ['24.21.0', true],
    ['26.1.0', true],
  ])('%s: %s', (version, supported) => {
    expect(nodeVersionSupported(version)).toBe(supported);
    expect(nodeVersionProblem(version) === null).toBe(supported);
  });

  it('says the version, the minimum and the command that fixes it', () => {
    const problem = nodeVersionProblem('20.18.0')!;
    expect(problem).toContain('Node.js 20.18.0 cannot run Vitalink');
    expect(problem).toContain('Node.js 22.22 or newer');
    expect(problem).toContain('`. scripts/ensure-node.sh`');
  });
});

describe('the minimum, everywhere it is stated', () => {
  const [major, minor] = MINIMUM_NODE.split('.');
  const short = `${major}.${minor}`;

  it('is what package.json and package-lock.json require', () => {
    const engines = `^${MINIMUM_NODE} || >=24`;
    expect(JSON.parse(read('package.json')).engines.node).toBe(engines);
    expect(JSON.parse(read('package-lock.json')).packages[''].engines.node).toBe(engines);
  });

  it('is what the README and scripts/ensure-node.sh say, and nothing older is', () => {
    const readme = read('README.md');
    expect(readme).toContain(`Node.js ${short} or newer`);
    expect(readme).not.toMatch(/Node(\.js)? 22\.(1\d|2[01])\b/);
    const ensure = read('scripts/ensure-node.sh');
    expect(ensure).toContain(`Node.js ${short} or newer`);
    // ensure-node.sh asks bin/check-node.js rather than comparing versions itself.
    expect(ensure).toContain('bin/check-node.js');
  });

  it('is at least what each locked dependency with a single lower bound asks', () => {
    // The ranges of the form ">=X" or ">= X" (the plain lower bounds); compound ranges
    // such as "^20.19.0 || ^22.13.0 || >=24" are checked by the cases above.
    const lock = JSON.parse(read('package-lock.json')).packages as Record<string, { engines?: { node?: string } }>;
    const toNumber = (v: string) => {
      const [a = 0, b = 0, c = 0] = v.replace(/^v/, '').split('.').map(Number);
      return a * 1e6 + b * 1e3 + c;
    };
    for (const [name, p] of Object.entries(lock)) {
      const range = p.engines?.node;
      const bound = range === undefined ? null : /^>=\s*v?(\d+(?:\.\d+){0,2})(?:\.x)?$/.exec(range.trim());
      if (name === '' || !bound) continue;
      expect(toNumber(MINIMUM_NODE), `${name} wants node ${range}`).toBeGreaterThanOrEqual(toNumber(bound[1]));
    }
  });
});
