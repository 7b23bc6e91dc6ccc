import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { installOnce, step } from '../install.ts';
import { repoRoot } from '../paths.ts';
import { HOST } from '../ports.ts';
import { spawnDaemon } from '../proc.ts';
import { waitFor, httpGet } from './health.ts';
import type { Engine } from './engine.ts';

export const CHDB_VERSION = '4.4.0';
const FOLDER = `chdb-${CHDB_VERSION}`;
const FRONT = join(repoRoot, 'stack', 'engines', 'clickhouse', 'chdb-http.py');

/**
 * ClickHouse 26.x as the chdb engine from PyPI behind our HTTP front (stack/engines/clickhouse/chdb-http.py).
 * A real ClickHouse server (≥ 24.8) replaces it by setting CLICKHOUSE_URL.
 */
export const clickhouse: Engine = {
  name: 'clickhouse',
  externalVariable: 'CLICKHOUSE_URL',
  toolchains: ['python'],

  async install(ctx) {
    await installOnce(ctx, FOLDER, async (dir) => {
      const log = join(ctx.logDir, 'install-clickhouse.log');
      const started = Date.now();
      ctx.progress.say('clickhouse', `installing chdb ${CHDB_VERSION} (ClickHouse engine, ~900 MB) from PyPI into ${join(ctx.cache, FOLDER)}`);
      const hint = 'check that PyPI is reachable (pip config list) and that the disk has room, then run `uspa stack up` again';
      await step('creating the chdb virtualenv', hint, 'python3', ['-m', 'venv', dir], { logFile: log, env: ctx.env });
      let lines = 0;
      await step('pip install chdb', hint, join(dir, 'bin', 'pip'), ['install', '--progress-bar', 'off', `chdb==${CHDB_VERSION}`], {
        logFile: log,
        env: ctx.env,
        onLine: (line) => ctx.progress.tick('clickhouse', `pip: ${++lines} lines, ${line.slice(0, 60)}`, started),
      });
      ctx.progress.say('clickhouse', `chdb installed (${Math.round((Date.now() - started) / 1000)}s)`);
    });
  },

  async start(ctx) {
    const port = await ctx.ports.get('clickhouse');
    const data = join(ctx.dataDir, 'clickhouse');
    mkdirSync(data, { recursive: true });
    // One password for user `default`, kept with the data so restarts keep working.
    const passwordFile = join(data, '.password');
    if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
    const password = readFileSync(passwordFile, 'utf8').trim();
    const log = join(ctx.runDir, 'clickhouse.log');
    const pid = spawnDaemon(
      join(ctx.cache, FOLDER, 'bin', 'python'),
      [FRONT, '--host', HOST, '--port', String(port), '--path', join(data, 'db'), '--password-file', passwordFile],
      { env: ctx.env, logFile: log },
    );
    const url = `http://${HOST}:${port}`;
    await waitFor('clickhouse', { pid, log, timeoutMs: 60_000 }, async () => (await httpGet(`${url}/ping`)).body === 'Ok.\n');
    return {
      processes: [{ name: 'clickhouse', pid, log }],
      // The embedded engine cannot store users or enforce grants: the operator must not try to give
      // each namespace its own (README "Tenants and ClickHouse"); an external server leaves it unset.
      env: { CLICKHOUSE_URL: url, CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: password, USPA_CLICKHOUSE_NAMESPACE_USERS: 'false' },
      endpoints: { clickhouse: `${url} (HTTP interface, chdb ${CHDB_VERSION})` },
    };
  },
};
