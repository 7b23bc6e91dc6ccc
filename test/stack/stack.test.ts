// @serial: starts and SIGKILLs engines of stacks of its own (JVMs, chdb), which saturates both cores
// `uspa stack` faults: each stops with what happened and what to do, and nothing is left running.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findMarkedProcesses, isAlive } from '../../stack/proc.ts';
import { stackId } from '../../stack/paths.ts';
import { eventually } from '../support/env.ts';

const CLI = fileURLToPath(new URL('../../bin/uspa.js', import.meta.url));
const EXTERNAL = ['KUBECONFIG', 'TEMPORAL_ADDRESS', 'KAFKA_BROKERS', 'CLICKHOUSE_URL'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function uspa(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A separate, empty stack state folder; the engines' own variables unset so nothing counts as external. */
function isolated(extra: NodeJS.ProcessEnv = {}): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uspa-stack-test-'));
  const env: NodeJS.ProcessEnv = { ...process.env, USPA_STATE_DIR: dir, ...extra };
  for (const name of EXTERNAL) delete env[name];
  return { env, dir };
}

function leftovers(dir: string): number[] {
  return findMarkedProcesses(`${stackId(dir)}:`);
}

describe('uspa stack faults', { concurrency: false }, () => {
  test('a second `up` while the stack runs says so instead of starting twins', async () => {
    const run = await uspa(['stack', 'up']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /error: a stack is already running here/);
    assert.match(run.stderr, /what to do: .*uspa stack down/);
  });

  test('a missing toolchain stops before any work, naming the tool and what to install', async () => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'uspa-empty-path-'));
    const { env, dir } = isolated({ PATH: emptyPath });
    const run = await uspa(['stack', 'up'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /error: missing toolchains: go — the `go` command was not found on PATH/);
    assert.match(run.stderr, /java — the `java` command was not found/);
    assert.match(run.stderr, /what to do: install Go 1\.24 or newer/);
    assert.equal(existsSync(join(dir, 'stack.json')), false, 'no state is left behind');
  });

  test('a failed download stops with the cause, the log, and no half-installed engine', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'uspa-cache-'));
    const { env, dir } = isolated({ USPA_CACHE_DIR: cache, GOPROXY: 'off', GOMODCACHE: join(cache, 'gomod'), GOFLAGS: '' });
    const run = await uspa(['stack', 'up', '--only', 'kubernetes'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /error: downloading the Go modules for .* failed/);
    assert.match(run.stderr, /what to do: check that the Go module proxy is reachable \(GOPROXY/);
    assert.match(run.stderr, /module lookup disabled by GOPROXY=off/, 'quotes the tool output');
    assert.deepEqual(readdirSync(cache).filter((f) => f.startsWith('kubernetes') || f.startsWith('kubectl')), [], 'no partial install folder');
    assert.equal(existsSync(join(dir, 'stack.json')), false);
  });

  test('a pinned port in use stops with the port, who pinned it, and how to choose another', async (t) => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    t.after(() => holder.close());
    const port = (holder.address() as AddressInfo).port;
    const { env, dir } = isolated({ USPA_PORT_CLICKHOUSE: String(port) });
    const run = await uspa(['stack', 'up', '--only', 'clickhouse'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1, pinned for clickhouse by USPA_PORT_CLICKHOUSE, is already in use`));
    assert.match(run.stderr, /set USPA_PORT_CLICKHOUSE to a free port/);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a stale state file (processes gone) is reported; `down` cleans it up', async () => {
    const { env, dir } = isolated();
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(join(dir, 'stack.json'), JSON.stringify({
      stackId: stackId(dir), runId: 'old', runDir: join(dir, 'runs', 'old'), phase: 'running', upPid: dead.pid, startedAt: '2026-01-01T00:00:00Z',
      engines: { clickhouse: { external: false, processes: [{ name: 'clickhouse', pid: dead.pid, log: 'x' }], env: {}, endpoints: {} } }, clients: [],
    }));
    const refused = await uspa(['stack', 'up', '--only', 'clickhouse'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /did not shut down cleanly: its state file remains but none of its processes \(clickhouse \d+\) is running/);
    assert.match(refused.stderr, /what to do: run `uspa stack down`/);
    const cleaned = await uspa(['stack', 'down'], env);
    assert.equal(cleaned.code, 0);
    assert.equal(existsSync(join(dir, 'stack.json')), false);
  });

  test('a stale Kafka data folder from another cluster is refused with the way out', async () => {
    const { env, dir } = isolated();
    mkdirSync(join(dir, 'data', 'kafka', 'logs'), { recursive: true });
    writeFileSync(join(dir, 'data', 'kafka', 'logs', 'meta.properties'), 'cluster.id=someone-elses\nnode.id=1\nversion=1\n');
    const run = await uspa(['stack', 'up', '--only', 'kafka'], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /the Kafka data folder .* was formatted by something other than this stack/);
    assert.match(run.stderr, /uspa stack down --purge/);
    assert.deepEqual(leftovers(dir), []);
    assert.equal((await uspa(['stack', 'down', '--purge'], env)).code, 0);
    assert.equal(existsSync(join(dir, 'data')), false, '--purge deletes the data');
  });

  test('an engine killed with SIGKILL shows in status; `down` then leaves nothing running', { timeout: 180_000 }, async () => {
    const { env, dir } = isolated();
    const started = await uspa(['stack', 'up', '--only', 'clickhouse', '--quiet'], env);
    assert.equal(started.code, 0, started.stderr);
    const state = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as { engines: { clickhouse: { processes: Array<{ pid: number }> } } };
    const pid = state.engines.clickhouse.processes[0]!.pid;
    assert.ok(isAlive(pid));
    process.kill(pid, 'SIGKILL');
    await eventually('the engine to die', async () => !isAlive(pid));
    const status = await uspa(['stack', 'status'], env);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /problem: clickhouse \(pid \d+\) is not running/);
    const down = await uspa(['stack', 'down'], env);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(leftovers(dir), []);
  });

  test('`up` killed with SIGKILL while starting: `down` stops what it had started', { timeout: 180_000 }, async () => {
    const { env, dir } = isolated();
    const up = spawn(process.execPath, [CLI, 'stack', 'up', '--only', 'clickhouse,kafka', '--quiet'], { env, stdio: 'ignore' });
    await eventually('an engine process to be started', async () => leftovers(dir).length > 0, 120_000);
    up.kill('SIGKILL');
    await new Promise((r) => up.on('exit', r));
    assert.ok(leftovers(dir).length > 0, 'the engines outlive the killed `up`');
    const refused = await uspa(['stack', 'up', '--only', 'clickhouse'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /was interrupted before the stack was ready|processes of an earlier stack are still running/);
    const down = await uspa(['stack', 'down'], env);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(leftovers(dir), []);
    assert.equal(existsSync(join(dir, 'stack.json')), false);
  });
});
