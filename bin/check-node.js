// `npm install` runs this (the preinstall script): it stops with what to do when this
// Node.js cannot run Vitalink. npm installs the dependencies before a project's own
// preinstall script, so this is the step that stops the install, before the dashboard build.
/* global process */
import { nodeVersionProblem } from './node-version.js';

var problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(problem + '\n');
  process.exitCode = 2;
}
