#!/usr/bin/env node
// The `uspa` command. In a checkout the code is TypeScript run through tsx, so there is no build
// step; the container image holds it compiled to JavaScript (Dockerfile), which needs no tsx.
import { existsSync } from 'node:fs';

let main = '../cli/main.js';
if (!existsSync(new URL(main, import.meta.url))) {
  (await import('tsx/esm/api')).register();
  main = '../cli/main.ts';
}
const { run } = await import(main);
await run(process.argv.slice(2));
