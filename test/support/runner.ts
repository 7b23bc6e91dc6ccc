// The test runner behind `npm test` and `npm run test:unit`: node:test's own runner, with files
// grouped by two rules a newcomer can check with `ls` and `grep`:
//
// - unit tests live beside their code (`api/`, `lib/`, `operator/`, `collector/`, `workers/`,
//   `cli/`, `stack/` … `*.test.ts` outside `test/`) and need no engine;
//   engine tests live under `test/` and run on the stack (`npm test` starts it, or uses a running one);
// - an engine test file whose header has a line `// @serial: <why>` (it SIGKILLs processes,
//   measures a failover or saturates the CPU) runs alone, after every other file.
//
// Every other file runs concurrently with the rest (`--concurrency`, default: the cores plus
// two, since engine tests mostly wait on the engines). Output is node:test's spec reporter over all
// phases, ending with one summary of every file; the exit code is 1 when any test failed.
//
//   node --import tsx test/support/runner.ts [--unit] [--concurrency N] [files…]
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../stack/paths.ts';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'crds', 'helm', 'examples']);
const SERIAL = /^\/\/ @serial: \S/m;
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;
const SUMMARY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'] as const;

/** Every *.test.ts of the checkout, relative to its root, sorted. */
export function testFiles(root = repoRoot): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.test.ts')) {
        found.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return found.sort();
}

export const isEngineTest = (file: string): boolean => file.startsWith('test/');

/** The header (comments before the first import) says `// @serial: <why>`. */
export function isSerial(file: string, root = repoRoot): boolean {
  const text = readFileSync(join(root, file), 'utf8');
  const header = text.slice(0, text.search(/^import /m) >>> 0);
  return SERIAL.test(header);
}

export interface Plan {
  concurrent: string[];
  serial: string[];
}

export function plan(files: string[], root = repoRoot): Plan {
  const unit = files.filter((f) => !isEngineTest(f));
  const engine = files.filter(isEngineTest);
  const serial = engine.filter((f) => isSerial(f, root));
  // Unit files first: they finish in seconds and report problems before the engine tests start.
  return { concurrent: [...unit, ...engine.filter((f) => !serial.includes(f))], serial };
}

type TestEvent = { type: string; data: { nesting?: number; message?: string; name?: string; details?: { duration_ms?: number } } };

/** The events of every phase as one stream, with one summary of all of them at the end. */
async function* phases(p: Plan, concurrency: number): AsyncGenerator<TestEvent> {
  const totals = Object.fromEntries(SUMMARY_KEYS.map((k) => [k, 0])) as Record<(typeof SUMMARY_KEYS)[number], number>;
  const started = Date.now();
  const fileTimes: Array<[string, number]> = [];
  const all = new Set([...p.concurrent, ...p.serial]);
  for (const [files, n] of [[p.concurrent, concurrency], [p.serial, 1]] as const) {
    if (files.length === 0) continue;
    for await (const event of run({ files: [...files], concurrency: n }) as AsyncIterable<TestEvent>) {
      const { type, data } = event;
      if (data.nesting === 0) {
        const summary = type === 'test:diagnostic' ? SUMMARY.exec(data.message ?? '') : null;
        if (summary) {
          totals[summary[1] as keyof typeof totals] += Number(summary[2]);
          continue;
        }
        if (type === 'test:plan') continue;
        if (type === 'test:complete' && all.has(data.name ?? '')) fileTimes.push([data.name!, data.details?.duration_ms ?? 0]);
      }
      yield event;
    }
  }
  fileTimes.sort((a, b) => b[1] - a[1]);
  const slowest = fileTimes.slice(0, 8).map(([f, ms]) => `${f} ${(ms / 1000).toFixed(1)}s`).join(', ');
  if (slowest) yield { type: 'test:diagnostic', data: { nesting: 0, message: `slowest files: ${slowest}` } };
  yield {
    type: 'test:diagnostic',
    data: { nesting: 0, message: `files ${all.size}: ${p.concurrent.length} concurrently (${concurrency} at a time), ${p.serial.length} alone (@serial)` },
  };
  totals.duration_ms = Date.now() - started;
  for (const k of SUMMARY_KEYS) yield { type: 'test:diagnostic', data: { nesting: 0, message: `${k} ${totals[k]}` } };
  if (totals.fail > 0 || totals.cancelled > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      unit: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: String(availableParallelism() + 2) },
    },
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, not ${values.concurrency}`);
  const files = positionals.length ? positionals.map((f) => relative(repoRoot, join(process.cwd(), f)).split(sep).join('/')) : testFiles().filter((f) => !values.unit || !isEngineTest(f));
  process.chdir(repoRoot); // run() takes the files relative to the checkout
  Readable.from(phases(plan(files), concurrency)).compose(new spec()).pipe(process.stdout);
}
