import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { StackError } from '../stack/errors.ts';
import { stateRoot } from '../stack/paths.ts';
import { clientEnv, down, status, up } from '../stack/stack.ts';
import type { UspaConfig } from '../lib/config.ts';
import { startCollector } from '../collector/main.ts';
import { startPipelines } from '../workers/pipeline/main.ts';

/** The local product's Sources and Pipeline, made once with fresh write keys and kept with the stack. */
function ensureLocalConfig(path: string): void {
  if (existsSync(path)) return;
  const key = () => randomBytes(18).toString('base64url');
  const config: UspaConfig = {
    sources: [
      { name: 'web', type: 'web', writeKey: key(), topic: { partitions: 3 } },
      { name: 'server', type: 'server', writeKey: key(), topic: { partitions: 3 } },
      { name: 'import', type: 'batch', writeKey: key(), topic: { partitions: 3 } },
    ],
    pipelines: [{ name: 'main', sources: ['web', 'server', 'import'], enrich: { geoip: true, userAgent: true, anonymizeIp: false, urlTopics: [] } }],
  };
  writeFileSync(path, `# USPA local configuration (until the operator renders it from custom resources).\n${stringify(config)}`, { mode: 0o600 });
}

/**
 * `uspa local`: the whole product on this machine — the engine stack, the collector and the
 * pipeline workers. A stack that was already running is used and left running; one started here
 * is stopped on exit.
 */
export async function runLocal(): Promise<number> {
  const before = status();
  let startedHere = false;
  if (!before.running) {
    if (before.state) throw new StackError('the local stack is in a bad state: ' + before.problems.join('; '), 'run `uspa stack down`, then `npm run local` again');
    await up();
    startedHere = true;
  }
  const vars = clientEnv();
  Object.assign(process.env, vars);
  const configPath = process.env.USPA_CONFIG ?? join(stateRoot(), 'uspa.yaml');
  ensureLocalConfig(configPath);
  const pipelines = await startPipelines({ configPath, port: Number(process.env.USPA_PIPELINE_PORT ?? 0) });
  const collector = await startCollector({ configPath, port: Number(process.env.USPA_COLLECTOR_PORT ?? 8080) });

  console.log('\nUSPA is running locally.');
  console.log(`  collector     http://127.0.0.1:${collector.port}  (Segment tracking API: /v1/track … /v1/batch; snippet /uspa.js; /metrics)`);
  console.log(`  pipeline      http://127.0.0.1:${pipelines.port}/metrics`);
  console.log(`  configuration ${configPath}  (Sources, write keys, Pipelines)`);
  for (const [k, v] of Object.entries(vars)) if (!/PASSWORD/.test(k)) console.log(`  ${k}=${v}`);
  console.log(`\n  eval "$(npm run -s uspa -- stack env)"   # in another shell: kubectl, helm, temporal, uspa dlq/identity`);
  console.log(startedHere ? '\nCtrl-C stops everything.' : '\nThe engine stack was already running and stays up after Ctrl-C.');
  await new Promise<void>((resolveWait) => {
    process.once('SIGINT', () => resolveWait());
    process.once('SIGTERM', () => resolveWait());
  });
  await collector.close();
  await pipelines.close();
  if (startedHere) await down();
  return 0;
}
