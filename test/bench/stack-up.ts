// npm run bench:stack [-- --cold] [--runs N]
// Times `uspa stack up` (until every engine is healthy) and `uspa stack down`.
// Warm: engines already installed. Cold: every cache (Go modules and build cache, Maven, pip,
// ~/.cache/uspa) is a fresh empty folder, as on a new machine; the stack state is separate too.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { cold: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false } } });
const CLI = fileURLToPath(new URL('../../bin/uspa.js', import.meta.url));
const runs = values.cold ? 1 : Number(values.runs);

const env: NodeJS.ProcessEnv = { ...process.env };
for (const name of ['KUBECONFIG', 'TEMPORAL_ADDRESS', 'KAFKA_BROKERS', 'CLICKHOUSE_URL']) delete env[name];
const scratch = mkdtempSync(join(tmpdir(), `uspa-bench-${values.cold ? 'cold' : 'warm'}-`));
env.USPA_STATE_DIR = join(scratch, 'state');
if (values.cold) {
  Object.assign(env, {
    USPA_CACHE_DIR: join(scratch, 'cache'),
    GOMODCACHE: join(scratch, 'gomod'),
    GOCACHE: join(scratch, 'gocache'),
    MAVEN_OPTS: `-Dmaven.repo.local=${join(scratch, 'm2')}`,
    PIP_CACHE_DIR: join(scratch, 'pip'),
  });
}

if (spawnSync(process.execPath, [CLI, 'stack', 'status'], { env: process.env }).status === 0) {
  console.error('a local stack is running: stop it with `uspa stack down` first (one stack at a time on this machine)');
  process.exit(1);
}

function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`uspa ${args.join(' ')} failed (exit ${r.status})`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const results: Array<{ up_s: number; down_s: number }> = [];
try {
  for (let i = 0; i < runs; i++) {
    const up = timed(['stack', 'up']);
    const down = timed(['stack', 'down']);
    results.push({ up_s: Math.round(up * 10) / 10, down_s: Math.round(down * 10) / 10 });
    console.log(`run ${i + 1}/${runs}: up ${up.toFixed(1)} s, down ${down.toFixed(1)} s`);
  }
} finally {
  spawnSync(process.execPath, [CLI, 'stack', 'down', '--quiet'], { env });
  if (!values.keep) rmSync(scratch, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const report = {
  benchmark: values.cold ? 'stack-up-cold' : 'stack-up-warm',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, go: execFileSync('go', ['version']).toString().trim() },
  runs: results,
  median_up_s: median(results.map((r) => r.up_s)),
  median_down_s: median(results.map((r) => r.down_s)),
};
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
const out = fileURLToPath(new URL(`./results/${report.benchmark}.json`, import.meta.url));
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(`${report.benchmark}: median up ${report.median_up_s} s, down ${report.median_down_s} s (${report.machine.cpus} cores) → ${out}`);
