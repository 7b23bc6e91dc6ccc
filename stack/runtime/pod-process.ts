// One Pod's container as a local process: its env and mounted files resolved from the API server,
// restarted with backoff when it dies, probed for readiness like a kubelet would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export interface ContainerState {
  ready: boolean;
  restartCount: number;
  running: boolean;
  startedAt?: Date;
  lastExit?: { code: number | null; signal: string | null; at: Date };
  waitingReason?: string;
}

/** What the process is started with, after the runtime resolved Secrets, ConfigMaps and ports. */
export interface LaunchPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** containerPort → local port. */
  ports: Map<number, number>;
  readinessPath?: string;
  readinessPort?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Files of configMap/secret volumes, written under dir; returns mountPath → local directory. */
export function materializeVolumes(dir: string, container: V1Container, files: Map<string, Record<string, string>>): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const m of container.volumeMounts ?? []) {
    const content = files.get(m.name);
    if (!content) continue;
    const local = join(dir, 'volumes', m.name);
    mkdirSync(local, { recursive: true, mode: 0o700 });
    for (const [file, text] of Object.entries(content)) writeFileSync(join(local, file), text, { mode: 0o600 });
    mounts.set(m.mountPath, local);
  }
  return mounts;
}

/** Mount paths in env values and args point into the materialized volumes instead. */
export function rewritePaths(value: string, mounts: Map<string, string>): string {
  for (const [mountPath, local] of [...mounts].sort((a, b) => b[0].length - a[0].length)) {
    if (value === mountPath || value.startsWith(mountPath + '/')) return local + value.slice(mountPath.length);
  }
  return value;
}

export class PodProcess {
  readonly state: ContainerState = { ready: false, restartCount: 0, running: false };
  private child?: ChildProcess;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private probeTimer?: NodeJS.Timeout;
  private failures = 0;

  constructor(
    readonly pod: V1Pod,
    private readonly plan: LaunchPlan,
    private readonly onChange: () => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  localPort(containerPort: number): number | undefined {
    return this.plan.ports.get(containerPort);
  }

  start(): void {
    if (this.stopping) return;
    const log = createWriteStream(this.plan.logFile, { flags: 'a' });
    const child = spawn(this.plan.command, this.plan.args, { cwd: this.plan.cwd, env: this.plan.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    this.state.running = true;
    this.state.ready = false;
    this.state.startedAt = new Date();
    this.state.waitingReason = undefined;
    this.onChange();
    child.once('exit', (code, signal) => {
      log.end();
      this.child = undefined;
      this.state.running = false;
      this.state.ready = false;
      this.state.lastExit = { code, signal, at: new Date() };
      clearTimeout(this.probeTimer);
      if (this.stopping) return this.onChange();
      // CrashLoopBackOff, shortened for a laptop: 1 s doubling to 30 s; a run of a minute resets it.
      const ranMs = Date.now() - (this.state.startedAt?.getTime() ?? 0);
      if (ranMs > 60_000) this.failures = 0;
      const delay = Math.min(1000 * 2 ** this.failures++, 30_000);
      this.state.restartCount++;
      this.state.waitingReason = 'CrashLoopBackOff';
      this.onChange();
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
    this.probe();
  }

  private probe(): void {
    clearTimeout(this.probeTimer);
    if (!this.child || this.stopping) return;
    const port = this.plan.readinessPort;
    const check = async (): Promise<boolean> => {
      if (!port) return true; // no probe: ready once running, like a kubelet
      try {
        const res = await fetch(`http://127.0.0.1:${port}${this.plan.readinessPath ?? '/'}`, { signal: AbortSignal.timeout(2_000) });
        return res.status >= 200 && res.status < 400;
      } catch {
        return false;
      }
    };
    void check().then((ok) => {
      if (!this.child || this.stopping) return;
      if (ok !== this.state.ready) {
        this.state.ready = ok;
        this.onChange();
      }
      this.probeTimer = setTimeout(() => this.probe(), ok ? 5_000 : 500);
    });
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    // A terminating Pod leaves its Services at once, as kube-proxy drops its endpoint.
    this.state.ready = false;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
    const child = this.child;
    if (!child?.pid) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* gone */
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
