import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, KINDS, VERSION } from '../api/v1alpha1/index.ts';
import { API, API_KEY_SECRET_KEY, apiKeySecret } from '../api/names.ts';
import { StackError } from '../stack/errors.ts';
import { repoRoot } from '../stack/paths.ts';
import { clientEnv, down, status, up } from '../stack/stack.ts';
import { startLocalRuntime } from '../stack/runtime/main.ts';

export const LOCAL_NAMESPACE = 'default';
const RELEASE_NAMESPACE = 'uspa-system';

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new StackError(`${cmd.split('/').pop()} ${args.slice(0, 3).join(' ')} failed: ${(stderr || err.message).trim()}`, 'see the message above; `uspa stack status` shows the engines'));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

const say = (line: string) => console.log(`[local] ${line}`);

/** Until the API answers an authenticated request (its key index follows the ApiKey's Secret). */
async function waitForApi(api: string, key: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const response = await fetch(`${api}/v1/whoami`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
    } catch (err) {
      last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    }
    if (Date.now() > deadline) throw new StackError(`the API at ${api} did not accept the admin key within ${timeoutMs / 1000} s (${last})`, `kubectl get apikeys; kubectl logs of the uspa-api pod`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let value = probe(); ; value = probe()) {
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * `uspa local`: the whole product on this machine, the way a cluster runs it. The engine stack
 * starts (or is reused); the CRDs and the operator's Helm chart are installed into its API server;
 * the local runtime runs USPA's Pods as processes — first the operator, then the collector and
 * pipeline workers and API gateway the operator creates from examples/quickstart.yaml.
 */
export interface LocalOptions {
  /** Load the demo shop (cli/demo.ts) once everything runs, and keep a few live events coming. */
  demo?: boolean;
}

/** A Secret's data key, decoded; an Error naming both when it is missing. */
async function secretValue(kc: KubeConfig, name: string, key: string): Promise<string> {
  const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name, namespace: LOCAL_NAMESPACE });
  const encoded = secret.data?.[key];
  if (!encoded) throw new StackError(`Secret ${name} in namespace ${LOCAL_NAMESPACE} has no key ${key}`, `kubectl describe secret ${name}`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** Until the Secret exists (the operator writes ApiKey and write-key Secrets soon after the resources appear). */
async function waitForSecret(kc: KubeConfig, name: string, key: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await secretValue(kc, name, key);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function runLocal(options: LocalOptions = {}): Promise<number> {
  const before = status();
  let startedHere = false;
  if (!before.running) {
    if (before.state) throw new StackError('the local stack is in a bad state: ' + before.problems.join('; '), 'run `uspa stack down`, then `npm run local` again');
    await up();
    startedHere = true;
  }
  const vars = clientEnv();
  Object.assign(process.env, vars);
  const kubectl = vars.USPA_KUBECTL!;
  const helm = vars.USPA_HELM!;

  say('installing the CRDs (crds/)');
  for (const f of readdirSync(join(repoRoot, 'crds')).filter((f) => f.endsWith('.yaml'))) await run(kubectl, ['apply', '--server-side', '--force-conflicts', '--field-manager=uspa-local', '-f', join(repoRoot, 'crds', f)]);
  await run(kubectl, ['wait', '--for=condition=Established', '--timeout=60s', ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);

  say(`installing the operator with Helm (release uspa in ${RELEASE_NAMESPACE}, one replica)`);
  await run(helm, [
    'upgrade', '--install', 'uspa', join(repoRoot, 'helm', 'uspa'), '--namespace', RELEASE_NAMESPACE, '--create-namespace', '--skip-crds',
    '--set', 'replicas=1', '--set', `kafka.brokers=${vars.KAFKA_BROKERS}`, '--set', `clickhouse.url=${vars.CLICKHOUSE_URL}`,
    '--set', `clickhouse.user=${vars.CLICKHOUSE_USER ?? 'default'}`, '--set-string', `clickhouse.password=${vars.CLICKHOUSE_PASSWORD ?? ''}`,
    // The local mode shares the operator's ClickHouse credentials between namespaces: the embedded engine cannot enforce users (README).
    '--set', 'clickhouse.namespaceUsers=false',
    '--set', `temporal.address=${vars.TEMPORAL_ADDRESS}`,
    // Webhooks to this machine (a receiver on localhost) work locally; other private addresses do not.
    '--set', 'activations.webhookPrivateAddresses=loopback',
  ]);

  say('starting the local runtime (runs USPA pods as processes of this checkout)');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const runtime = startLocalRuntime(kc);
  await runtime.start();

  say(`applying examples/quickstart.yaml to namespace ${LOCAL_NAMESPACE}`);
  await run(kubectl, ['apply', '-n', LOCAL_NAMESPACE, '-f', join(repoRoot, 'examples', 'quickstart.yaml')]);

  const custom = kc.makeApiClient(CustomObjectsApi);
  const started = Date.now();
  let url: string | undefined;
  for (;;) {
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: LOCAL_NAMESPACE, plural: 'sources' })) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> };
    const ready = list.items.filter((s) => s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    url = runtime.serviceUrl(LOCAL_NAMESPACE, 'uspa-collector');
    if (ready === list.items.length && list.items.length > 0 && url) break;
    if (Date.now() - started > 180_000) throw new StackError('the Sources did not become Ready within 3 minutes', `look at: kubectl get uspa,pods -A; kubectl describe source -n ${LOCAL_NAMESPACE}; pod logs in ${join(process.env.USPA_STATE_DIR ?? '~/.cache/uspa/stack', 'pods')}`);
    await new Promise((r) => setTimeout(r, 1000));
    if ((Date.now() - started) % 10_000 < 1000) say(`waiting for the Sources to be Ready (${ready}/${list.items.length}, ${Math.round((Date.now() - started) / 1000)} s)`);
  }

  // The gateway's Service comes with the Pipeline: its loopback URL is there once the runtime forwards it.
  const api = await waitFor(() => runtime.serviceUrl(LOCAL_NAMESPACE, API), 30_000);
  // The banner's URLs must answer when it is printed: the API (and the dashboard) once it takes the admin key.
  let apiKey: string | undefined;
  if (api) {
    try {
      apiKey = await waitForSecret(kc, apiKeySecret('admin'), API_KEY_SECRET_KEY, 60_000);
      await waitForApi(api, apiKey);
    } catch (err) {
      apiKey = undefined;
      say(`the API is not answering yet: ${(err as Error).message}`);
    }
  }

  // Ctrl-C from here on stops what runs (the demo's loading too) and then the pods.
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolveWait) => {
    const stop = () => {
      stopping.abort(new Error('stopped'));
      resolveWait();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  let demoLine: string | undefined;
  let trickle: { stop: () => Promise<void> } | undefined;
  if (options.demo && !api) say(`the demo is not loaded: the API (Service ${API}) is not forwarded yet; kubectl get svc ${API}`);
  else if (options.demo && api) {
    const seeding = Date.now();
    try {
      const { seedDemo, startDemoTrickle } = await import('./demo.ts');
      if (!apiKey) throw new Error('the API did not take the admin key');
      // Read here and handed over, never printed.
      const writeKeys = { web: await waitForSecret(kc, 'web-write-key', 'writeKey', 60_000), backend: await waitForSecret(kc, 'backend-write-key', 'writeKey', 60_000) };
      say('loading the demo shop (cli/demo.ts, examples/demo.yaml)');
      const seeded = await seedDemo({ collectorUrl: url, apiUrl: api, apiKey, writeKeys, kubectl, namespace: LOCAL_NAMESPACE, say, signal: stopping.signal });
      const count = (n: number, what: string) => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
      demoLine = `${count(seeded.events, 'event')} of ${count(seeded.visitors, 'visitor')} (${count(seeded.orders, 'order')}) in ${Math.round((Date.now() - seeding) / 1000)} s`;
      say(`demo loaded: ${demoLine}`);
      trickle = startDemoTrickle({ collectorUrl: url, writeKeys, say });
    } catch (err) {
      // USPA itself runs: say what failed and keep it running.
      if (stopping.signal.aborted) say('the demo was stopped before it was loaded completely');
      else say(`the demo could not be loaded: ${(err as Error).message}`);
    }
  }

  // Stopped while the demo loaded: straight to stopping the pods.
  if (!stopping.signal.aborted) {
    console.log('\nUSPA is running locally.');
    console.log(`  collector   ${url}   (Segment tracking API /v1/track … /v1/batch, snippet /uspa.js, /metrics)`);
    console.log(`  api         ${api ?? `not forwarded yet: kubectl get svc ${API} -o jsonpath='{.metadata.annotations.uspa\\.tech/local-url}'`}   (the API gateway, with an ApiKey)`);
    // The key itself only on a terminal (a person at their own machine), never into a captured log.
    const adminKey = process.stdout.isTTY ? apiKey ?? await secretValue(kc, apiKeySecret('admin'), API_KEY_SECRET_KEY).catch(() => undefined) : undefined;
    console.log(`  api key     ${adminKey ? `${adminKey}   (the admin ApiKey's; again: ` : ''}kubectl get secret ${apiKeySecret('admin')} -o jsonpath='{.data.${API_KEY_SECRET_KEY}}' | base64 -d${adminKey ? ')' : ''}`);
    if (api) console.log(`  dashboard   ${api}/ui/   (sign in with the api key above)`);
    if (demoLine) console.log(`  demo        ${demoLine}; a short visit every 10 s keeps coming while this runs`);
    console.log(`  resources   kubectl get uspa,deploy,pods -A`);
    console.log(`  write key   kubectl get secret web-write-key -o jsonpath='{.data.writeKey}' | base64 -d`);
    console.log(`  try it      curl -u "$(kubectl get secret web-write-key -o jsonpath='{.data.writeKey}' | base64 -d):" -H 'content-type: application/json' \\`);
    console.log(`                -d '{"userId":"u-1","event":"Signed Up"}' ${url}/v1/track`);
    console.log(`\n  eval "$(npm run -s uspa -- stack env)"   # in another shell: kubectl, helm, temporal, uspa dlq/identity`);
    console.log(startedHere ? '\nCtrl-C stops everything.' : '\nThe engine stack was already running and stays up after Ctrl-C.');
  }
  await stopped;
  await trickle?.stop();
  say('stopping the pods');
  await runtime.stop();
  if (startedHere) await down();
  return 0;
}
