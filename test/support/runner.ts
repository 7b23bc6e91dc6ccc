// The test runner behind `npm test` and `npm run test:unit`: node:test's own runner, with files
// grouped by two rules a newcomer can check with `ls` and `grep`:
//
// - unit tests live beside their code (`api/`, `lib/`, `operator/`, `collector/`, `workers/`,
//   `cli/`, `stack/` … every `*.test.ts` outside `test/`) and need no engine;
//   engine tests live under `test/` and run on the stack (`npm test` starts it, or uses a running one);
// - an engine test file whose header has a line `// @serial: <why>` (it freezes a shared engine,
//   or saturates the CPU) runs alone, after every other file: `grep -rl '^// @serial:' test`.
//
// Every other file runs concurrently with the rest (`--concurrency`, default: the cores plus two,
// since engine tests mostly wait on the engines), the slowest first: each file's duration is
// remembered in the engine cache (<USPA_CACHE_DIR or ~/.cache/uspa>/test-durations.json), so the long
// files do not start last. Output is node:test's spec reporter over all phases, ending with one
// summary of every file; the exit code is 1 when any test failed.
//
//   node --import tsx test/support/runner.ts [--unit] [--concurrency N] [files…]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cacheRoot, repoRoot } from '../../stack/paths.ts';

const SKIP_DIRS = new Set(['node_modules', 'dist', 'crds', 'helm', 'examples']);
const SERIAL = /^\/\/ @serial: \S/m;
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;
const SUMMARY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'] as const;
/** Expected durations of files never timed here: engine files are the long ones. */
const GUESS_MS = { unit: 5_000, engine: 60_000 };

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

/** The header (the lines before the first import) says `// @serial: <why>`. */
export function isSerial(file: string, root = repoRoot): boolean {
  const text = readFileSync(join(root, file), 'utf8');
  const firstImport = text.search(/^import /m);
  return SERIAL.test(firstImport < 0 ? text : text.slice(0, firstImport));
}

export interface Plan {
  /** Run together, `concurrency` at a time, slowest first. */
  concurrent: string[];
  /** Run one at a time after the others. */
  serial: string[];
}

export function plan(files: string[], durations: Record<string, number> = {}, root = repoRoot): Plan {
  const expected = (f: string) => durations[f] ?? (isEngineTest(f) ? GUESS_MS.engine : GUESS_MS.unit);
  const serial = files.filter((f) => isEngineTest(f) && isSerial(f, root));
  const concurrent = files.filter((f) => !serial.includes(f)).sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));
  return { concurrent, serial };
}

const durationsFile = () => join(cacheRoot(), 'test-durations.json');

function readDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(durationsFile(), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function rememberDurations(measured: Array<[string, number]>): void {
  try {
    const file = durationsFile();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ ...readDurations(), ...Object.fromEntries(measured.map(([f, ms]) => [f, Math.round(ms)])) }, null, 2) + '\n');
  } catch {
    /* only an ordering hint */
  }
}

type TestEvent = {
  type: string;
  data: { nesting?: number; message?: string; name?: string; file?: string; details?: { duration_ms?: number; error?: { cause?: unknown; exitCode?: number | null; signal?: string | null } } };
};

/** Lines of a file's stderr kept to explain a failure of the file itself; JSON log lines are the engines' chatter. */
const STDERR_TAIL = 15;

/**
 * A file that fails with no failing test in it (it exited non-zero: an error after its tests ended,
 * a crash, a failed hook) is reported by node:test as only "test failed". Says what it printed last
 * and what node:test noticed about it, so a CI log that shows only the end still explains it.
 */
export function explainFileFailure(cause: unknown, exit: { exitCode?: number | null; signal?: string | null }, stderr: string[], diagnostics: string[]): string {
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode ?? '?'}`;
  const parts = [`${String(cause)} (${how})`];
  if (diagnostics.length) parts.push(`what node:test reported during the run:\n${diagnostics.join('\n')}`);
  if (stderr.length) parts.push(`the file's last lines on stderr:\n${stderr.join('\n')}`);
  return parts.join('\n');
}

/** The events of every phase as one stream, with one summary of all of them at the end. */
async function* phases(p: Plan, concurrency: number): AsyncGenerator<TestEvent> {
  const totals = Object.fromEntries(SUMMARY_KEYS.map((k) => [k, 0])) as Record<(typeof SUMMARY_KEYS)[number], number>;
  const started = Date.now();
  const fileTimes: Array<[string, number]> = [];
  const all = new Set([...p.concurrent, ...p.serial]);
  const stderr = new Map<string, string[]>();
  // Diagnostics of the child processes carry no file name: every one is kept for every file-level failure.
  const diagnostics: string[] = [];
  for (const [files, n] of [[p.concurrent, concurrency], [p.serial, 1]] as const) {
    if (files.length === 0) continue;
    for await (const event of run({ files: [...files], concurrency: n }) as AsyncIterable<TestEvent>) {
      const { type, data } = event;
      if (type === 'test:stderr' && data.file) {
        const file = relative(repoRoot, data.file).split(sep).join('/');
        const lines = (data.message ?? '').split('\n').filter((l) => l.trim() && !l.startsWith('{"level":'));
        if (lines.length) stderr.set(file, [...(stderr.get(file) ?? []), ...lines.map((l) => l.slice(0, 500))].slice(-STDERR_TAIL));
      }
      if (data.nesting === 0) {
        const summary = type === 'test:diagnostic' ? SUMMARY.exec(data.message ?? '') : null;
        if (summary) {
          totals[summary[1] as keyof typeof totals] += Number(summary[2]);
          continue;
        }
        if (type === 'test:plan') continue;
        if (type === 'test:diagnostic' && data.message) diagnostics.push(data.message.slice(0, 1000));
        if (type === 'test:fail' && all.has(data.name ?? '') && data.details?.error) {
          const error = data.details.error;
          const text = explainFileFailure(error.cause, error, stderr.get(data.name!) ?? [], diagnostics);
          error.cause = Object.assign(new Error(text), { stack: text }); // printed as lines, not as one quoted string
        }
        if (type === 'test:complete' && all.has(data.name ?? '')) fileTimes.push([data.name!, data.details?.duration_ms ?? 0]);
      }
      yield event;
    }
  }
  rememberDurations(fileTimes.filter(([f]) => !f.startsWith('../')));
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
  const files = positionals.length ? positionals.map((f) => relative(repoRoot, resolve(f)).split(sep).join('/')) : testFiles().filter((f) => !values.unit || !isEngineTest(f));
  process.chdir(repoRoot); // run() takes the files relative to the checkout
  Readable.from(phases(plan(files, readDurations()), concurrency)).compose(new spec()).pipe(process.stdout);
}
