import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this checkout, for the engine recipes kept in the repo (go.mod, pom.xml, the chdb front). */
export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Installed engines, one folder per name and version, shared by every stack on this machine. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.USPA_CACHE_DIR ?? join(homedir(), '.cache', 'uspa'));
}

/** One stack's state: its state file, its runs' logs, its data and its client binaries. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.USPA_STATE_DIR ?? join(cacheRoot(env), 'stack'));
}

/**
 * Every process a stack starts carries USPA_STACK=<stack id>:<run id> in its environment, and so do
 * its children (the JVM, the Temporal server). `down` finds them by it even when the state file or
 * the process that started them is gone.
 */
export function stackId(state: string): string {
  return createHash('sha256').update(state).digest('hex').slice(0, 12);
}

export interface StackPaths {
  root: string;
  stateFile: string;
  lockFile: string;
  portsFile: string;
  data: string;
  runs: string;
  bin: string;
}

export function stackPaths(root: string): StackPaths {
  return {
    root,
    stateFile: join(root, 'stack.json'),
    lockFile: join(root, 'up.lock'),
    portsFile: join(root, 'ports.json'),
    data: join(root, 'data'),
    runs: join(root, 'runs'),
    bin: join(root, 'bin'),
  };
}
