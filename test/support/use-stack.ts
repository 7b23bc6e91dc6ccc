// Imported first by every benchmark (`import '../support/use-stack.ts'`), so that the engines'
// variables are in place before any other module reads them: a bench run as `npm run bench:…`
// finds the running stack by itself, and exported variables (external engines) still win.
import { useStack } from './stack.ts';

useStack();
