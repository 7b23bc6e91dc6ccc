import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goHint, installOnce, mavenHint, step } from '../install.ts';
import { repoRoot } from '../paths.ts';
import { HOST } from '../ports.ts';
import { spawnDaemon, runLogged } from '../proc.ts';
import { waitFor } from './health.ts';
import type { ClientTool, Engine, InstallContext } from './engine.ts';

/** The last CLI release without a `replace` directive, so `go install` can build it. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.38.0';
const CLI_FOLDER = `temporal-cli-${TEMPORAL_CLI_VERSION}`;
const TEST_SERVER_FOLDER = `temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}`;

async function installCli(ctx: InstallContext): Promise<string> {
  const dir = await installOnce(ctx, CLI_FOLDER, async (tmp) => {
    const started = Date.now();
    ctx.progress.say('temporal', `building the Temporal CLI ${TEMPORAL_CLI_VERSION} (dev server) with go install; first time takes minutes`);
    let compiled = 0;
    await step('building the Temporal CLI', goHint, 'go', [
      'install', '-v', '-trimpath', `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
      `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
    ], {
      logFile: join(ctx.logDir, 'install-temporal.log'),
      env: { ...ctx.env, GOBIN: join(tmp, 'bin'), GOFLAGS: '-buildvcs=false' },
      onLine: (line) => {
        if (!line.startsWith('go: ')) ctx.progress.tick('temporal', `compiled ${++compiled} packages`, started);
      },
    });
    ctx.progress.say('temporal', `Temporal CLI built (${Math.round((Date.now() - started) / 1000)}s)`);
  });
  return join(dir, 'bin', 'temporal');
}

/**
 * The time-skipping test server that @temporalio/testing runs. The SDK would download a native
 * build, which this network forbids; the same server from Maven Central runs on Java instead.
 */
async function installTestServer(ctx: InstallContext): Promise<string> {
  const dir = await installOnce(ctx, TEST_SERVER_FOLDER, async (tmp) => {
    ctx.progress.say('temporal', `resolving the Temporal time-skipping test server ${TEMPORAL_TEST_SERVER_VERSION} from Maven Central`);
    await step('resolving the Temporal test server jars', mavenHint, 'mvn', [
      '-B', '-q', '-f', join(repoRoot, 'stack', 'engines', 'temporal', 'test-server-pom.xml'),
      'dependency:copy-dependencies', `-DoutputDirectory=${join(tmp, 'libs')}`, '-DincludeScope=runtime',
    ], { logFile: join(ctx.logDir, 'install-temporal.log'), env: ctx.env });
    mkdirSync(join(tmp, 'bin'));
    const script = join(tmp, 'bin', 'temporal-test-server');
    writeFileSync(script, `#!/bin/sh
# Started by @temporalio/testing as "<this> <port> [args]".
dir=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
exec java -Xms64m -Xmx512m -XX:+UseSerialGC -cp "$dir/libs/*" io.temporal.testserver.TestServer "$@"
`);
    chmodSync(script, 0o755);
  });
  return join(dir, 'bin', 'temporal-test-server');
}

/** The Temporal CLI's dev server (Temporal Server with SQLite), default namespace ready. */
export const temporal: Engine = {
  name: 'temporal',
  externalVariable: 'TEMPORAL_ADDRESS',
  toolchains: ['go', 'java', 'maven'],

  async install(ctx) {
    await installCli(ctx);
  },

  async installClients(ctx): Promise<ClientTool[]> {
    return [
      { name: 'temporal', path: await installCli(ctx) },
      { name: 'temporal-test-server', path: await installTestServer(ctx) },
    ];
  },

  async start(ctx) {
    const port = await ctx.ports.get('temporal');
    const httpPort = await ctx.ports.get('temporal-http');
    const metricsPort = await ctx.ports.get('temporal-metrics');
    const data = join(ctx.dataDir, 'temporal');
    mkdirSync(data, { recursive: true });
    const cli = join(ctx.cache, CLI_FOLDER, 'bin', 'temporal');
    const log = join(ctx.runDir, 'temporal.log');
    const pid = spawnDaemon(cli, [
      'server', 'start-dev', '--headless', '--ip', HOST, '--port', String(port), '--http-port', String(httpPort),
      '--metrics-port', String(metricsPort), '--db-filename', join(data, 'temporal.db'),
      '--log-format', 'json', '--log-level', 'warn',
    ], { env: ctx.env, logFile: log });
    const address = `${HOST}:${port}`;
    await waitFor('temporal', { pid, log, timeoutMs: 90_000 }, async () => {
      const r = await runLogged(cli, ['operator', 'namespace', 'describe', '--namespace', 'default', '--address', address], {
        logFile: join(ctx.runDir, 'temporal-health.log'),
        env: ctx.env,
      });
      return r.code === 0;
    });
    return {
      processes: [{ name: 'temporal', pid, log }],
      env: { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' },
      endpoints: {
        temporal: `${address} (gRPC, Temporal CLI ${TEMPORAL_CLI_VERSION} dev server, namespace default)`,
        'temporal-metrics': `http://${HOST}:${metricsPort}/metrics`,
      },
    };
  },
};
