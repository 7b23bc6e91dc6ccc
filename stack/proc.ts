import { execFile, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Full output goes here; errors quote only its tail. */
  logFile: string;
  /** Called with every output line, e.g. to count compiled packages for progress. */
  onLine?: (line: string) => void;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  tail: string;
}

/** Runs a command to completion, logging everything and keeping the last lines for error messages. */
export async function runLogged(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`$ ${cmd} ${args.join(' ')}\n`);
  const tail: string[] = [];
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const onLine = (line: string) => {
    log.write(line + '\n');
    tail.push(line);
    if (tail.length > 25) tail.shift();
    opts.onLine?.(line);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const result = await new Promise<RunResult>((resolveRun) => {
    child.on('error', (err) => resolveRun({ code: 127, signal: null, tail: String(err) }));
    child.on('close', (code, signal) => resolveRun({ code, signal, tail: '' }));
  });
  await new Promise<void>((r) => log.end(r));
  return { ...result, tail: result.tail || tail.join('\n') };
}

/** Starts a long-running engine process in its own process group, detached from the CLI. */
export function spawnDaemon(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; logFile: string }): number {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd], detached: true });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill 0; treat it as gone.
    const stat = readProcFile(pid, 'stat');
    return stat === undefined || !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function readProcFile(pid: number, name: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Processes whose environment carries USPA_STACK=<prefix>…, i.e. started by a stack (Linux /proc). */
export function findMarkedProcesses(markerPrefix: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  const needle = `USPA_STACK=${markerPrefix}`;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = readProcFile(pid, 'environ');
    if (environ?.split('\0').some((v) => v.startsWith(needle)) && isAlive(pid)) found.push(pid);
  }
  return found;
}

export function describeProcess(pid: number): string {
  const cmd = readProcFile(pid, 'cmdline')?.split('\0').filter(Boolean).slice(0, 3).join(' ');
  return cmd ? `${pid} (${cmd.length > 80 ? cmd.slice(0, 77) + '...' : cmd})` : String(pid);
}

/** SIGTERM to each process (and its group), then SIGKILL to whatever is still alive after the grace period. */
export async function terminate(pids: number[], graceMs = 10_000): Promise<number[]> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, sig);
      } catch {
        /* already gone, or not a group leader */
      }
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await sleep(100);
  const stubborn = pids.filter(isAlive);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && stubborn.some(isAlive)) await sleep(50);
  return stubborn;
}

/** First line of `cmd --version`-style output, or undefined if the command cannot run. */
export function probeVersion(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 30_000 });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}\n${r.stderr}`.trim().split('\n')[0];
}

export function tailOf(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Runs a short command and returns its output (for `go list` and similar look-ups). */
export function capture(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveCapture) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolveCapture({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
