import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { runLogged, type RunOptions } from './proc.ts';
import type { InstallContext } from './engines/engine.ts';

/**
 * Installs into <cache>/<name>-<version> exactly once. The work happens in a temporary sibling
 * folder that is renamed into place only when complete, so an interrupted or failed install never
 * leaves a folder that looks usable.
 */
export async function installOnce(
  ctx: InstallContext,
  folder: string,
  work: (tmpDir: string) => Promise<void>,
): Promise<string> {
  const target = join(ctx.cache, folder);
  if (existsSync(join(target, '.complete'))) return target;
  rmSync(target, { recursive: true, force: true });
  const tmp = `${target}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await work(tmp);
    writeFileSync(join(tmp, '.complete'), new Date().toISOString() + '\n');
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return target;
}

/** Runs one install step; on failure stops with the log's tail and where the full log is. */
export async function step(
  what: string,
  hint: string,
  cmd: string,
  args: string[],
  opts: RunOptions,
): Promise<void> {
  const result = await runLogged(cmd, args, opts);
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new StackError(`${what} failed: \`${cmd} ${args.slice(0, 3).join(' ')}…\` ${how}`, `${hint} (full log: ${opts.logFile})`, result.tail);
  }
}

export const goHint =
  'check that the Go module proxy is reachable (GOPROXY, `go env GOPROXY`) and that the disk has room, then run `uspa stack up` again';
export const mavenHint =
  'check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml) and that the disk has room, then run `uspa stack up` again';
