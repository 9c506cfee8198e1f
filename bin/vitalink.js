#!/usr/bin/env node
// The `vitalink` command (and `npm start`): checks this Node.js first, then runs the
// TypeScript sources with Node's type stripping. Plain JavaScript, so that an older
// Node.js says what to do instead of failing with ERR_UNKNOWN_FILE_EXTENSION ".ts".
/* global process */
import { nodeVersionProblem } from './node-version.js';

var problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(problem + '\n');
  process.exitCode = 2;
} else {
  import('../src/main.ts').catch(function (error) {
    process.stderr.write('vitalink: could not start: ' + (error && error.stack ? error.stack : String(error)) + '\n');
    process.exitCode = 1;
  });
}
