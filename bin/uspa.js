#!/usr/bin/env node
// The `uspa` command. The code is TypeScript run through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/main.ts');
await run(process.argv.slice(2));
