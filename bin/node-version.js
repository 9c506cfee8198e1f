// Which Node.js runs Vitalink, checked before anything else: by bin/vitalink.js (the
// `vitalink` command, `npm start`) before it imports the TypeScript sources, and by
// `npm install` (the preinstall script). Plain JavaScript of the oldest syntax, so that
// any Node.js can load it and say what to do instead of failing on a .ts file.
//
// The minimum is the highest of: type stripping without a flag (Node.js 22.18) and the
// `engines` of the dependencies in package-lock.json (testcontainers wants 22.22, undici
// 22.19; eslint and vitest leave out Node.js 23). package.json `engines`,
// scripts/ensure-node.sh and the README say the same (test/unit/cli/node-version.test.ts).

export var MINIMUM_NODE = '22.22.0';

/** [major, minor, patch] of "22.22.0" or "v22.22.0". */
function parts(version) {
  var p = String(version).replace(/^v/, '').split('.');
  return [Number(p[0]) || 0, Number(p[1]) || 0, Number(p[2]) || 0];
}

/** Whether `version` (process.versions.node) can run Vitalink: 22.22 and later 22.x, or 24 and later. */
export function nodeVersionSupported(version) {
  var v = parts(version);
  var min = parts(MINIMUM_NODE);
  if (v[0] >= 24) return true;
  if (v[0] !== min[0]) return false;
  return v[1] > min[1] || (v[1] === min[1] && v[2] >= min[2]);
}

/** null when `version` is supported, otherwise what to tell the person, with the command that fixes it. */
export function nodeVersionProblem(version) {
  if (nodeVersionSupported(version)) return null;
  return [
    'vitalink: Node.js ' +
      String(version).replace(/^v/, '') +
      ' cannot run Vitalink: it needs Node.js 22.22 or newer' +
      ' (22.x from 22.22.0, or 24 and later; 24 LTS recommended).',
    'Fix it with `. scripts/ensure-node.sh` in the checkout (Linux x64: installs Node.js 24 from the npm registry into',
    '~/.cache/vitalink and puts it first on PATH), or install Node.js 24 from https://nodejs.org/, then run the command again.',
  ].join('\n');
}
