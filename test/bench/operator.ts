// npm run bench:operator [-- --segments 1000 --idle 60]
// The operator as its own process (and the local runtime in this one) against the stack: apply →
// Ready time for each kind, then the operator's CPU and memory while it holds N Segments.
// Prints the figures and writes test/bench/results/operator.json.
import '../support/use-stack.ts';
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import { repoRoot } from '../../stack/paths.ts';
import { eventually } from '../support/env.ts';
import { kubectl, operatorHarness } from '../support/operator.ts';
import { cpuSeconds, peakRssMiB, rssMiB } from './proc.ts';
import { freePort } from '../../stack/runtime/pod-process.ts';

const { values } = parseArgs({ options: { segments: { type: 'string', default: '1000' }, idle: { type: 'string', default: '60' } } });
const N = Number(values.segments);
const IDLE_S = Number(values.idle);

const h = await operatorHarness('bench');
const log = join(tmpdir(), `uspa-bench-operator-${h.namespace}.log`);
const port = await freePort();
const operator = spawn(process.execPath, [join(repoRoot, 'bin', 'uspa.js'), 'operator'], {
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', USPA_WATCH_NAMESPACE: h.namespace, USPA_LEADER_ELECTION: 'false', USPA_TOPIC_PREFIX: h.settings.topicPrefix, USPA_DATABASE_PREFIX: h.settings.databasePrefix, USPA_CLICKHOUSE_NAMESPACE_USERS: String(h.settings.namespaceUsers) },
  stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
});
console.log(`bench: operator pid ${operator.pid} (log ${log}), namespace ${h.namespace}, ${cpus().length} cores`);
await h.startRuntime();
// Timings start once the operator is ready (caches synced), not while it is still starting.
await eventually('the operator to be ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000);

type Obj = { status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } };
async function timeTo(plural: string, name: string, manifest: string): Promise<{ reconciledMs: number; readyMs: number }> {
  const t0 = performance.now();
  await h.apply(manifest);
  let reconciledMs = 0;
  await eventually(`${plural}/${name} Ready`, async () => {
    const o = (await h.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: h.namespace, plural, name })) as Obj;
    if (!reconciledMs && o.status?.observedGeneration === 1) reconciledMs = performance.now() - t0;
    return o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 180_000);
  return { reconciledMs: Math.round(reconciledMs), readyMs: Math.round(performance.now() - t0) };
}

const ready: Record<string, { reconciledMs: number; readyMs: number }> = {};
try {
  ready.Source = await timeTo('sources', 'web', 'apiVersion: uspa.tech/v1alpha1\nkind: Source\nmetadata: { name: web }\nspec: { type: web }\n');
  ready.Pipeline = await timeTo('pipelines', 'main', 'apiVersion: uspa.tech/v1alpha1\nkind: Pipeline\nmetadata: { name: main }\nspec: { sources: [web] }\n');
  ready.Segment = await timeTo('segments', 'first', 'apiVersion: uspa.tech/v1alpha1\nkind: Segment\nmetadata: { name: first }\nspec: { rule: { trait: plan, op: eq, value: pro } }\n');
  ready.Activation = await timeTo('activations', 'first', 'apiVersion: uspa.tech/v1alpha1\nkind: Activation\nmetadata: { name: first }\nspec:\n  segment: first\n  trigger: { type: segmentEntered }\n  destination: { type: webhook, webhook: { url: "https://example.com/hook" } }\n');
  for (const [kind, r] of Object.entries(ready)) console.log(`  ${kind.padEnd(10)} reconciled ${r.reconciledMs} ms, Ready ${r.readyMs} ms`);

  console.log(`bench: applying ${N} Segments`);
  const docs = Array.from({ length: N }, (_, i) => `apiVersion: uspa.tech/v1alpha1\nkind: Segment\nmetadata: { name: s-${i} }\nspec:\n  rule: { all: [ { trait: plan, op: eq, value: p${i % 7} }, { event: Order Completed, atLeast: ${1 + (i % 3)}, within: ${7 + (i % 30)}d } ] }\n  refresh: { interval: ${1 + (i % 12)}h }\n`);
  const cpu0 = cpuSeconds(operator.pid);
  const t0 = performance.now();
  for (let i = 0; i < N; i += 200) await h.apply(docs.slice(i, i + 200).join('---\n'));
  const applyMs = performance.now() - t0;
  await eventually(`${N} Segments Ready`, async () => {
    const out = await kubectl(['get', 'segments', '-n', h.namespace, '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
    const n = out.split('\n').filter((l) => l === 'True').length;
    process.stdout.write(`\r  ${n}/${N + 1} Ready`);
    return n >= N + 1;
  }, 900_000);
  const allReadyMs = performance.now() - t0;
  const createCpu = cpuSeconds(operator.pid) - cpu0;
  console.log(`\n  ${N} Segments: applied in ${(applyMs / 1000).toFixed(1)} s, all Ready after ${(allReadyMs / 1000).toFixed(1)} s; operator CPU ${createCpu.toFixed(1)} s`);

  console.log(`bench: measuring the operator at rest for ${IDLE_S} s`);
  await new Promise((r) => setTimeout(r, 5_000));
  const idle0 = cpuSeconds(operator.pid);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idleCpuPercent = ((cpuSeconds(operator.pid) - idle0) / IDLE_S) * 100;
  const rss = rssMiB(operator.pid);
  console.log(`  idle CPU ${idleCpuPercent.toFixed(2)} % of one core (target < 5 %), RSS ${rss} MiB, peak RSS ${peakRssMiB(operator.pid)} MiB`);

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), note: 'operator, local runtime, kube-apiserver, etcd, Kafka, Temporal and the chdb ClickHouse front share these cores' },
    applyToReady: ready,
    segments: { count: N, applySeconds: +(applyMs / 1000).toFixed(1), allReadySeconds: +(allReadyMs / 1000).toFixed(1), operatorCpuSeconds: +createCpu.toFixed(1) },
    idle: { seconds: IDLE_S, cpuPercentOfOneCore: +idleCpuPercent.toFixed(2), rssMiB: rss, peakRssMiB: peakRssMiB(operator.pid) },
    targets: { readyInClusterMs: 2000, idleCpuPercent: 5 },
  };
  const out = fileURLToPath(new URL('./results/operator.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`bench: wrote ${out}`);
} finally {
  console.log('bench: cleaning up (finalizers delete the schedules)');
  operator.kill('SIGTERM');
  await new Promise((r) => operator.once('exit', r));
  await h.startOperator();
  await h.close();
}
