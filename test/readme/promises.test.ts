// The README's table of promises names the tests that prove each one: every test named there must
// exist, under that name, in that file (a renamed or deleted test would leave a promise unproven).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../stack/paths.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** Each table row's cited tests: a `file` followed by one or more "names" (joined by "and"). */
function citations(): Array<{ promise: string; file: string; name: string }> {
  const section = readme.split('\n### Promises, and the tests that prove them')[1]?.split('\n### ')[0];
  assert.ok(section, 'README has the promises section');
  const out: Array<{ promise: string; file: string; name: string }> = [];
  for (const row of section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| promise') && !l.startsWith('|---'))) {
    const [promise, proof] = row.split(' | ').map((c) => c.replace(/^\| | \|$/g, ''));
    for (const part of proof!.split(/(?=`test\/)/)) {
      const file = /^`(test\/[^`]+\.test\.ts)`/.exec(part)?.[1];
      if (!file) continue;
      for (const m of part.matchAll(/"([^"]+)"/g)) out.push({ promise: promise!, file, name: m[1]! });
    }
  }
  return out;
}

test('every test the promises table names exists under that name in that file', () => {
  const cited = citations();
  assert.ok(cited.length >= 15, `the table cites its tests (found ${cited.length})`);
  for (const { promise, file, name } of cited) {
    assert.ok(existsSync(join(repoRoot, file)), `${file} (cited for "${promise.slice(0, 40)}…") exists`);
    const source = readFileSync(join(repoRoot, file), 'utf8').replace(/\\'/g, "'");
    assert.ok(source.includes(`'${name}'`) || source.includes(`"${name}"`) || source.includes(`\`${name}\``), `${file} has a test named "${name}"`);
  }
});

test('every promise of the table has a proof or says plainly that it has none', () => {
  const section = readme.split('\n### Promises, and the tests that prove them')[1]!.split('\n### ')[0]!;
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| promise'));
  assert.equal(rows.length, 7, 'the seven promises of the product');
  for (const row of rows) assert.ok(/`test\/[^`]+\.test\.ts` "/.test(row) || /\*\*not proven/.test(row), row.slice(0, 80));
});
