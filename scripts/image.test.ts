// The image's code folders are named in three places: the build context (.dockerignore), what the
// image compiles (tsconfig.image.json) and what decides whether to rebuild (scripts/image.sh). A
// component added to one and not the others is missing from the image, or never rebuilt into it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

test('the build context, the compiled folders and the rebuild check name the same code folders', () => {
  const compiled = (JSON.parse(read('tsconfig.image.json').replace(/^\s*\/\/.*$/gm, '')) as { include: string[] }).include.sort();
  const context = read('.dockerignore').split('\n').filter((l) => /^![a-z]+$/.test(l)).map((l) => l.slice(1)).sort();
  const hashed = /find ((?:[a-z]+ )+)-type f/.exec(read('scripts/image.sh'))![1]!.trim().split(' ').sort();
  assert.deepEqual(context, compiled, '.dockerignore lets in exactly the folders tsconfig.image.json compiles');
  assert.deepEqual(hashed, compiled, 'scripts/image.sh rebuilds when any compiled folder changes');
  // And every component of the dependency rule is among them.
  for (const layer of ['api', 'lib', 'operator', 'collector', 'gateway', 'workers', 'workflows', 'stack', 'cli']) assert.ok(compiled.includes(layer), `${layer}/ is in the image`);
});
