import type { Progress } from '../progress.ts';
import type { PortBook } from '../ports.ts';

export type EngineName = 'clickhouse' | 'kafka' | 'temporal' | 'kubernetes' | 'node';

export interface InstallContext {
  cache: string;
  progress: Progress;
  /** Where install logs go when a build fails. */
  logDir: string;
  env: NodeJS.ProcessEnv;
}

export interface StartContext {
  cache: string;
  /** The stack's state folder; stable paths (kubeconfig) live here. */
  stackRoot: string;
  progress: Progress;
  runDir: string;
  /** Kept across runs: `down` leaves it, `down --purge` removes it. */
  dataDir: string;
  ports: PortBook;
  /** Environment for the engine's processes, carrying the stack's marker. */
  env: NodeJS.ProcessEnv;
}

export interface ProcessInfo {
  name: string;
  pid: number;
  log: string;
}

export interface RunningEngine {
  processes: ProcessInfo[];
  /** Variables clients need, e.g. KAFKA_BROKERS. */
  env: Record<string, string>;
  /** Human-readable endpoints for `status`. */
  endpoints: Record<string, string>;
}

export interface ClientTool {
  name: string;
  path: string;
}

export interface Engine {
  name: EngineName;
  /** Setting this variable means "use an external engine": `up` then neither installs nor starts this one. */
  externalVariable: string;
  /** Toolchains this engine's install needs, checked before any work starts. */
  toolchains: Array<'go' | 'java' | 'maven' | 'python'>;
  install(ctx: InstallContext): Promise<void>;
  /** Client binaries put on PATH by `uspa stack env` (kubectl, helm, temporal); installed even for an external engine. */
  installClients?(ctx: InstallContext): Promise<ClientTool[]>;
  /** `others`: the variables of the engines started before this one (see `startsLast`). */
  start(ctx: StartContext, others?: Record<string, string>): Promise<RunningEngine>;
  /** Started after every other engine, with their variables (the node needs the API server and the engines' ports). */
  startsLast?: boolean;
  /** Runs on `down` after the processes stopped: what they leave behind outside their process tree. */
  cleanup?(stackData: string): Promise<void>;
}
