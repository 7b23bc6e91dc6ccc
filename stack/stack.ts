import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { cacheRoot, stackId, stackPaths, stateRoot, type StackPaths } from './paths.ts';
import { PortBook } from './ports.ts';
import { describeProcess, findMarkedProcesses, isAlive, terminate } from './proc.ts';
import { Progress, elapsed } from './progress.ts';
import { requireToolchains, type Toolchain } from './toolchains.ts';
import { clickhouse } from './engines/clickhouse.ts';
import { kafka } from './engines/kafka.ts';
import { kubernetes } from './engines/kubernetes.ts';
import { node } from './engines/node.ts';
import { temporal } from './engines/temporal.ts';
import type { ClientTool, Engine, EngineName, InstallContext, ProcessInfo } from './engines/engine.ts';

/** Start order matters little (each engine is independent); this is the order `status` prints. */
export const ENGINES: Engine[] = [kubernetes, temporal, kafka, clickhouse];
export const ENGINE_NAMES = ENGINES.map((e) => e.name);
/** Started only when asked for (`up --node`): a real kubelet needs root and builds a lot on first use. */
export const OPTIONAL_ENGINES: Engine[] = [node];

export interface EngineState {
  external: boolean;
  processes: ProcessInfo[];
  env: Record<string, string>;
  endpoints: Record<string, string>;
}

export interface StackState {
  stackId: string;
  runId: string;
  runDir: string;
  phase: 'starting' | 'running';
  /** The `uspa stack up` process, while phase is "starting". */
  upPid: number;
  startedAt: string;
  engines: Partial<Record<EngineName, EngineState>>;
  clients: ClientTool[];
}

export interface StackOptions {
  env?: NodeJS.ProcessEnv;
  quiet?: boolean;
  /** Only these engines (default: all); the others are neither started nor expected. */
  only?: EngineName[];
  /** Also start a real node (kubelet, containerd, kube-proxy, CoreDNS) that runs Pods in containers. */
  node?: boolean;
}

function context(opts: StackOptions) {
  const env = opts.env ?? process.env;
  const root = stateRoot(env);
  return { env, root, paths: stackPaths(root), id: stackId(root), cache: cacheRoot(env), progress: new Progress(opts.quiet) };
}

export function readState(paths: StackPaths): StackState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as StackState;
  } catch (err) {
    throw new StackError(`the stack state file ${paths.stateFile} is unreadable (${(err as Error).message})`, 'run `uspa stack down` to clean up, then `uspa stack up`');
  }
}

function writeState(paths: StackPaths, state: StackState): void {
  const tmp = `${paths.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, paths.stateFile);
}

function allProcesses(state: StackState): ProcessInfo[] {
  return Object.values(state.engines).flatMap((e) => e?.processes ?? []);
}

/** Exclusive for one `up` at a time: a second concurrent `up` stops instead of starting twins. */
function acquireLock(paths: StackPaths): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(paths.lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(paths.lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(paths.lockFile, 'utf8'));
      if (holder && isAlive(holder)) {
        throw new StackError(
          `another \`uspa stack up\` (pid ${holder}) is starting this stack right now`,
          'wait for it to finish and use that stack (`uspa stack status`), or stop it with `uspa stack down`',
        );
      }
      rmSync(paths.lockFile, { force: true }); // left by an `up` that was killed; the state check below reports the rest
    }
  }
  throw new StackError(`could not take the lock ${paths.lockFile}`, 'remove the file if no `uspa stack up` is running, then try again');
}

/** Refuses to start over a running, half-dead or leftover stack, saying which and what to do. */
function assertNothingRunning(paths: StackPaths, id: string): void {
  const state = readState(paths);
  if (state) {
    const processes = allProcesses(state);
    const alive = processes.filter((p) => isAlive(p.pid));
    const dead = processes.filter((p) => !isAlive(p.pid));
    if (state.phase === 'running' && dead.length === 0 && alive.length > 0) {
      throw new StackError(
        `a stack is already running here (run ${state.runId}, started ${state.startedAt})`,
        'use it (`uspa stack status`, `eval "$(uspa stack env)"`), or stop it first with `uspa stack down`',
      );
    }
    const what =
      state.phase === 'starting'
        ? `the \`uspa stack up\` of run ${state.runId} (pid ${state.upPid}) was interrupted before the stack was ready`
        : alive.length > 0
          ? `the stack of run ${state.runId} is half-dead: ${dead.map((p) => `${p.name} (pid ${p.pid})`).join(', ')} stopped while ${alive.map((p) => p.name).join(', ')} still run`
          : `the stack of run ${state.runId} did not shut down cleanly: its state file remains but none of its processes (${processes.map((p) => `${p.name} ${p.pid}`).join(', ')}) is running — a crash, kill -9 or reboot`;
    throw new StackError(what, 'run `uspa stack down` to clean up (data is kept), then `uspa stack up`', `engine logs: ${state.runDir}`);
  }
  const strays = findMarkedProcesses(`${id}:`);
  if (strays.length > 0) {
    throw new StackError(
      `processes of an earlier stack are still running without a state file: ${strays.map(describeProcess).join(', ')}`,
      'run `uspa stack down` to stop them, then `uspa stack up`',
    );
  }
}

function selectEngines(opts: StackOptions): Engine[] {
  const only = opts.only ?? ENGINE_NAMES;
  return [...ENGINES.filter((e) => only.includes(e.name)), ...(opts.node ? OPTIONAL_ENGINES : [])];
}

export function isExternal(engine: Engine, env: NodeJS.ProcessEnv): boolean {
  return Boolean(env[engine.externalVariable]);
}

export interface UpResult {
  state: StackState;
  seconds: number;
}

export async function up(opts: StackOptions = {}): Promise<UpResult> {
  const { env, root, paths, id, cache, progress } = context(opts);
  const started = Date.now();
  mkdirSync(root, { recursive: true });
  mkdirSync(cache, { recursive: true });
  const release = acquireLock(paths);
  let state: StackState | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    progress.say('stack', `${signal}: stopping what was started`);
    void down(opts).finally(() => process.exit(130));
  };
  try {
    assertNothingRunning(paths, id);
    const engines = selectEngines(opts);
    const local = engines.filter((e) => !isExternal(e, env));
    for (const e of engines.filter((e) => isExternal(e, env))) {
      progress.say(e.name, `external (${e.externalVariable} is set): not starting one`);
    }
    const toolchains: Toolchain[] = [...local.flatMap((e) => e.toolchains), ...engines.filter((e) => e.installClients).flatMap((e) => e.toolchains)];
    requireToolchains(toolchains, env);

    const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const runDir = join(paths.runs, runId);
    mkdirSync(runDir, { recursive: true });
    state = { stackId: id, runId, runDir, phase: 'starting', upPid: process.pid, startedAt: new Date().toISOString(), engines: {}, clients: [] };
    writeState(paths, state);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    const installCtx: InstallContext = { cache, progress, logDir: runDir, env };
    const installs = await Promise.all(
      engines.map(async (e) => {
        if (!isExternal(e, env)) await e.install(installCtx);
        return e.installClients ? e.installClients(installCtx) : [];
      }),
    );
    state.clients = installs.flat();
    linkClients(paths, state.clients);

    const ports = new PortBook(paths.portsFile, env);
    const engineEnv = { ...env, USPA_STACK: `${id}:${runId}` };
    for (const e of engines) {
      if (isExternal(e, env)) state.engines[e.name] = { external: true, processes: [], env: { [e.externalVariable]: env[e.externalVariable] ?? '' }, endpoints: {} };
    }
    progress.say('stack', `starting ${local.map((e) => e.name).join(', ') || 'nothing'} (logs in ${runDir})`);
    const startOne = async (e: Engine, others?: Record<string, string>) => {
      const t = Date.now();
      const running = await e.start({ cache, stackRoot: root, progress, runDir, dataDir: paths.data, ports, env: engineEnv }, others);
      state!.engines[e.name] = { external: false, ...running };
      writeState(paths, state!);
      progress.say(e.name, `ready in ${elapsed(t)}`);
    };
    await Promise.all(local.filter((e) => !e.startsLast).map((e) => startOne(e)));
    for (const e of local.filter((e) => e.startsLast)) {
      const others: Record<string, string> = {};
      for (const s of Object.values(state.engines)) Object.assign(others, s?.env ?? {});
      await startOne(e, others);
    }
    ports.save();
    state.phase = 'running';
    writeState(paths, state);
    progress.say('stack', `up in ${elapsed(started)}`);
    return { state, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    if (state) {
      // Leave nothing half-started behind: stop this run's processes and forget its state.
      await terminate(findMarkedProcesses(`${id}:${state.runId}`));
      rmSync(paths.stateFile, { force: true });
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    release();
  }
}

function linkClients(paths: StackPaths, clients: ClientTool[]): void {
  mkdirSync(paths.bin, { recursive: true });
  for (const c of clients) {
    const link = join(paths.bin, c.name);
    rmSync(link, { force: true });
    symlinkSync(c.path, link);
  }
}

export interface DownResult {
  stopped: string[];
  forced: number;
  purged: boolean;
}

/** Stops every process this stack started, found by pid and by the environment marker; keeps data unless purge. */
export async function down(opts: StackOptions & { purge?: boolean } = {}): Promise<DownResult> {
  const { root, paths, id, progress } = context(opts);
  let state: StackState | undefined;
  try {
    state = readState(paths);
  } catch {
    state = undefined; // unreadable: the marker scan below still finds its processes
  }
  const known = state ? allProcesses(state) : [];
  const pids = new Set<number>([...known.map((p) => p.pid), ...findMarkedProcesses(`${id}:`)]);
  if (state?.phase === 'starting' && state.upPid !== process.pid && isAlive(state.upPid)) pids.add(state.upPid);
  const targets = [...pids].filter(isAlive);
  const names = targets.map((pid) => known.find((p) => p.pid === pid)?.name ?? describeProcess(pid));
  if (targets.length) progress.say('stack', `stopping ${names.join(', ')}`);
  // Within an engine, stop in reverse start order (controller-manager, apiserver, then etcd): an
  // apiserver whose etcd is already gone hangs in its graceful shutdown.
  const byEngine = state ? Object.values(state.engines).map((e) => (e?.processes ?? []).map((p) => p.pid).filter((pid) => targets.includes(pid)).reverse()) : [];
  const ordered = new Set(byEngine.flat());
  const forced = (
    await Promise.all([
      ...byEngine.map(async (pids) => {
        const stubborn: number[] = [];
        for (const pid of pids) stubborn.push(...(await terminate([pid])));
        return stubborn;
      }),
      terminate(targets.filter((pid) => !ordered.has(pid))),
    ])
  ).flat();
  for (const e of OPTIONAL_ENGINES) {
    if (e.cleanup && (state?.engines[e.name] || existsSync(join(paths.data, e.name)))) await e.cleanup(paths.data);
  }
  const left = findMarkedProcesses(`${id}:`);
  if (left.length > 0) {
    throw new StackError(`some stack processes would not stop: ${left.map(describeProcess).join(', ')}`, `kill them by hand (kill -9 ${left.join(' ')}) and run \`uspa stack down\` again`);
  }
  rmSync(paths.stateFile, { force: true });
  rmSync(paths.lockFile, { force: true });
  if (opts.purge) rmSync(paths.data, { recursive: true, force: true });
  const forcedNames = forced.map((pid) => known.find((p) => p.pid === pid)?.name ?? String(pid));
  progress.say('stack', targets.length ? `stopped ${targets.length} process${targets.length > 1 ? 'es' : ''}${forced.length ? ` (${forcedNames.join(', ')} ignored SIGTERM for 10 s and got SIGKILL)` : ''}` : `nothing was running in ${root}`);
  if (opts.purge) progress.say('stack', `deleted the stack data in ${paths.data}`);
  return { stopped: names, forced: forced.length, purged: Boolean(opts.purge) };
}

export interface StatusReport {
  running: boolean;
  state?: StackState;
  problems: string[];
}

export function status(opts: StackOptions = {}): StatusReport {
  const { paths } = context(opts);
  const state = readState(paths);
  if (!state) return { running: false, problems: [] };
  const problems = allProcesses(state)
    .filter((p) => !isAlive(p.pid))
    .map((p) => `${p.name} (pid ${p.pid}) is not running; its log: ${p.log}`);
  if (state.phase === 'starting') problems.unshift(`still starting (uspa stack up pid ${state.upPid}${isAlive(state.upPid) ? '' : ', which is gone'})`);
  return { running: state.phase === 'running' && problems.length === 0, state, problems };
}

/** The variables clients need, as a map; external engines pass through what the user set. */
export function clientEnv(opts: StackOptions = {}): Record<string, string> {
  const { paths } = context(opts);
  const state = readState(paths);
  if (!state || state.phase !== 'running') {
    throw new StackError('no stack is running', 'start one with `uspa stack up`');
  }
  const vars: Record<string, string> = {};
  for (const e of Object.values(state.engines)) Object.assign(vars, e?.env ?? {});
  for (const c of state.clients) vars[`USPA_${c.name.toUpperCase().replace(/-/g, '_')}`] = c.path;
  vars.USPA_STACK_BIN = paths.bin;
  return vars;
}
