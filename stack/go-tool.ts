import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { goHint, installOnce, step } from './install.ts';
import { cacheRoot } from './paths.ts';
import { Progress } from './progress.ts';
import type { InstallContext } from './engines/engine.ts';

/** A command built with `go install <module>/<package>@<version>` into <cache>/<name>-<version>/bin. */
export interface GoTool {
  name: string;
  /** The package path of the command, e.g. helm.sh/helm/v3/cmd/helm. */
  pkg: string;
  version: string;
  ldflags?: string;
}

export const HELM_VERSION = 'v3.19.5';

/** Go-built tools: helm (a stack client), CoreDNS (the node's), and the chart's test tools, built on first use. */
export const GO_TOOLS = {
  helm: { name: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm', version: HELM_VERSION, ldflags: `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}` },
  coredns: { name: 'coredns', pkg: 'github.com/coredns/coredns', version: 'v1.14.7' },
  // The chart test validates helm template's output with it (-strict, our CRD schemas and the Kubernetes module's OpenAPI).
  kubeconform: { name: 'kubeconform', pkg: 'github.com/yannh/kubeconform/cmd/kubeconform', version: 'v0.7.0' },
  // Prometheus v3.x releases are published as module versions v0.3xx.y (v0.316.0 is Prometheus 3.16.0).
  promtool: { name: 'promtool', pkg: 'github.com/prometheus/prometheus/cmd/promtool', version: 'v0.316.0', ldflags: '-X github.com/prometheus/common/version.Version=3.16.0' },
} satisfies Record<string, GoTool>;

/** Builds the tool once (compiling shows progress) and returns the binary's path. */
export async function installGoTool(ctx: InstallContext, tool: GoTool): Promise<string> {
  const dir = await installOnce(ctx, `${tool.name}-${tool.version}`, async (tmp) => {
    const started = Date.now();
    ctx.progress.say(tool.name, `building ${tool.name} ${tool.version} with go install`);
    let compiled = 0;
    await step(`building ${tool.name}`, goHint, 'go', ['install', '-v', '-trimpath', `-ldflags=-s -w ${tool.ldflags ?? ''}`.trim(), `${tool.pkg}@${tool.version}`], {
      logFile: join(ctx.logDir, `install-${tool.name}.log`),
      env: { ...ctx.env, GOBIN: join(tmp, 'bin'), GOFLAGS: '-buildvcs=false' },
      onLine: (line) => {
        if (!line.startsWith('go: ')) ctx.progress.tick(tool.name, `${tool.name}: compiled ${++compiled} packages`, started);
      },
    });
  });
  return join(dir, 'bin', tool.name);
}

/** For tests and scripts outside `uspa stack up`: the tool from the shared cache, built if missing. */
export function goTool(tool: GoTool, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return installGoTool({ cache: cacheRoot(env), progress: new Progress(), logDir: tmpdir(), env }, tool);
}
