import { readFileSync } from 'node:fs';

export const SNIPPET_PATH = '/uspa.js';
let cached: string | undefined;

/** The first-party browser snippet (collector/snippet/uspa.js), served as is. */
export function snippetSource(): string {
  cached ??= readFileSync(new URL('./snippet/uspa.js', import.meta.url), 'utf8');
  return cached;
}
