// npm run bench:triggers [-- --rate 10 --duration 30]
// Event → webhook latency at a steady trigger rate: raw events go onto a Source topic at `rate`
// per second (each a different person, so each starts a campaign: no delay, webhook destination);
// the activations worker runs as its own process (consumer, Temporal worker, ClickHouse checks);
// a local HTTP receiver notes when each message arrives. Prints p50/p90/p99 and writes
// test/bench/results/triggers.json. Target: p99 ≤ 1 s.
import '../support/use-stack.ts';
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, peakRssMiB } from './proc.ts';
import { Client, Connection } from '@temporalio/client';
import { campaignWorkflowId } from '../../api/workflows/activations.ts';
import { eventually } from '../support/env.ts';
import { deliveries, scratch, webhookReceiver } from '../activations/support.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '10' }, duration: { type: 'string', default: '30' }, warmup: { type: 'string', default: '5' } } });
const RATE = Number(values.rate);
const DURATION_S = Number(values.duration);
const WARMUP_S = Number(values.warmup);

const s = await scratch('bench');
const temporal = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });

/**
 * Medians over a sample of campaigns, from their Temporal histories: event produced → campaign
 * started (Kafka + consumer + signal-with-start), then per activity the wait in the task queue
 * (scheduled → started, includes the workflow task before it) and its run (started → completed).
 */
async function whereTheTimeGoes(sample: string[], producedAt: Map<string, number>): Promise<Record<string, number>> {
  const steps = new Map<string, number[]>();
  const add = (k: string, v: number) => steps.set(k, [...(steps.get(k) ?? []), v]);
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  for (const id of sample) {
    const history = await temporal.workflow.getHandle(campaignWorkflowId(s.namespace, 'bench', `userId:u-${id}`)).fetchHistory();
    const events = history.events ?? [];
    const started = ms(events[0]?.eventTime);
    add('event → campaign started', started - producedAt.get(id)!);
    const scheduled = new Map<number, { name: string; at: number }>();
    let last = started;
    for (const e of events) {
      const at = ms(e.eventTime);
      if (e.activityTaskScheduledEventAttributes) {
        const name = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
        scheduled.set(Number(e.eventId), { name, at });
        add(`${name}: scheduled after previous step`, at - last);
      }
      const st = e.activityTaskStartedEventAttributes;
      if (st) {
        const sch = scheduled.get(Number(st.scheduledEventId));
        if (sch) add(`${sch.name}: queued`, at - sch.at);
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const sch = scheduled.get(Number(done.scheduledEventId));
        const startedEv = events.find((x) => Number(x.eventId) === Number(done.startedEventId));
        if (sch) add(`${sch.name}: ran`, at - ms(startedEv?.eventTime));
        last = at;
      }
    }
  }
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN);
  return Object.fromEntries([...steps].map(([k, v]) => [k, median(v)]));
}
const received = new Map<string, number>();
const hook = await webhookReceiver((req) => {
  const id = (JSON.parse(req.body) as { id: string }).id;
  if (!received.has(id)) received.set(id, performance.timeOrigin + performance.now());
  return 200;
});
await s.apply(`apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: bench }
spec:
  trigger: { type: event, event: { name: Bench Triggered } }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  template: { body: '{"id": {{ event.properties.id | json }}}' }
`);

const log = join(tmpdir(), `uspa-bench-triggers-${s.namespace}.log`);
const worker = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../activations/worker-process.ts', import.meta.url))], {
  env: { ...s.env, USPA_NAMESPACE: s.namespace, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', openSync(log, 'a')],
});
let out = '';
worker.stdout!.on('data', (c: Buffer) => (out += c.toString()));
console.log(`bench: activations worker pid ${worker.pid} (log ${log}), namespace ${s.namespace}, ${cpus().length} cores`);

try {
  await eventually('the worker to be ready', async () => out.includes('ready'), 120_000);
  // Warm up until events flow end to end, so the figures measure a consuming worker, not its start.
  const sent = new Map<string, number>();
  let n = 0;
  const fire = async (phase: string) => {
    const id = `${phase}-${n++}`;
    sent.set(id, performance.timeOrigin + performance.now());
    await s.send('web', { event: 'Bench Triggered', userId: `u-${id}`, properties: { id } });
  };
  await eventually('events to flow end to end', async () => {
    await fire('probe');
    await new Promise((r) => setTimeout(r, 500));
    return received.size > 0;
  }, 120_000);

  const run = async (phase: string, seconds: number) => {
    const ids: string[] = [];
    const interval = 1000 / RATE;
    const t0 = performance.now();
    for (let i = 0; i < seconds * RATE; i++) {
      const due = t0 + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      ids.push(`${phase}-${n}`);
      void fire(phase);
    }
    return ids;
  };
  await run('warmup', WARMUP_S);
  const cpu0 = cpuSeconds(worker.pid);
  const w0 = performance.now();
  const ids = await run('measure', DURATION_S);
  await eventually('every measured message received', async () => ids.every((id) => received.has(id)), 120_000).catch(() => undefined);
  const cpuPercent = Math.round(((cpuSeconds(worker.pid) - cpu0) / ((performance.now() - w0) / 1000)) * 100);

  const latencies = ids.filter((id) => received.has(id)).map((id) => received.get(id)! - sent.get(id)!).sort((a, b) => a - b);
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN);
  const rows = await deliveries(s.warehouse, `${s.namespace}/bench`);
  const breakdown = await whereTheTimeGoes(ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 40)) === 0), sent);
  const result = {
    measured_at: new Date().toISOString(),
    machine: { cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30) },
    rate_per_s: RATE,
    duration_s: DURATION_S,
    triggers: ids.length,
    received: latencies.length,
    duplicates_at_receiver: hook.requests.length - received.size,
    sends_recorded: rows.filter((r) => r.outcome === 'sent').length,
    latency_ms: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: Math.round(latencies.at(-1) ?? NaN) },
    target_p99_ms: 1000,
    worker_cpu_percent_of_one_core: cpuPercent,
    worker_peak_rss_mib: peakRssMiB(worker.pid),
    median_ms_per_step: breakdown,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`event → webhook at ${RATE}/s: p50 ${result.latency_ms.p50} ms, p99 ${result.latency_ms.p99} ms (target ≤ 1000 ms) — ${result.received}/${result.triggers} received`);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'triggers.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  worker.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2_000));
  if (worker.exitCode === null) worker.kill('SIGKILL');
  // Campaigns are finished (no delay); nothing is left running in Temporal.
  await hook.close();
  await temporal.connection.close();
  await s.close();
}
process.exit(0);
