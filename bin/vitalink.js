#!/usr/bin/env node
// The `vitalink` command: runs the TypeScript sources with Node's type stripping (Node 22.18+).
import '../src/main.ts';
