// npm run bench:ingest [-- --duration 20] [--connections 64] [--batch 100] [--rate 10000]
// Collector, Kafka, pipeline and ClickHouse on this machine, each in its own process, loaded from
// this one with autocannon. Prints the figures and writes test/bench/results/ingest.json.
import '../support/use-stack.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { cpuSeconds, peakRssMiB } from './proc.ts';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stringify } from 'yaml';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { status } from '../../stack/stack.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    rate: { type: 'string', default: '10000' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const batchSize = Number(values.batch);
const rate = Number(values.rate);

const suffix = Date.now().toString(36);
const database = `bench_${suffix}`;
const writeKey = randomBytes(18).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'uspa-bench-'));
const configPath = join(dir, 'uspa.yaml');
writeFileSync(configPath, stringify({
  sources: [{ name: `bench-${suffix}`, type: 'server', writeKey, topic: { partitions: 6 } }],
  pipelines: [{ name: `bench-${suffix}`, sources: [`bench-${suffix}`], batch: { maxEvents: 10000, maxWaitMs: 200 } }],
}));
const env = { ...process.env, USPA_CONFIG: configPath, USPA_DATABASE: database, USPA_TOPIC_PREFIX: `bench-${suffix}`, LOG_LEVEL: 'warn' };
const collectorPort = 18000 + Math.floor(Math.random() * 1000);
const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

function start(entry: string, extra: Record<string, string>): ChildProcess {
  const name = entry.includes('pipeline') ? 'pipeline' : 'collector';
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(entry, import.meta.url))], { env: { ...env, ...extra }, stdio: ['ignore', log, log] });
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited during the benchmark (code ${code}, signal ${signal}); its log: ${join(dir, `${name}.log`)}`);
  });
  return child;
}
let stopping = false;

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

function trackBody(phase: string): string {
  return JSON.stringify({ messageId: randomUUID(), userId: `u${Math.floor(Math.random() * 50_000)}`, event: 'Bench Event', properties: { phase, sentMs: Date.now(), sku: 'SKU-1', price: 9.99 } });
}

function batchBody(phase: string): string {
  const now = Date.now();
  return JSON.stringify({ batch: Array.from({ length: batchSize }, () => ({ type: 'track', messageId: randomUUID(), userId: `u${Math.floor(Math.random() * 50_000)}`, event: 'Bench Event', properties: { phase, sentMs: now, sku: 'SKU-1', price: 9.99 } })) });
}

/**
 * Request bodies are made before the phase starts, so the load generator (on the same two cores)
 * spends its time sending, not building JSON; each body still has fresh message ids.
 */
function pregenerate(body: (phase: string) => string, phase: string, count: number): () => string {
  const pool = Array.from({ length: count }, () => body(phase));
  let next = 0;
  return () => (next < pool.length ? pool[next++]! : body(phase));
}

async function load(path: string, body: (phase: string) => string, phase: string, opts: { overallRate?: number; connections: number; expectedPerSecond: number }) {
  const nextBody = pregenerate(body, phase, Math.ceil(opts.expectedPerSecond * duration * 1.2));
  const result = await autocannon({
    url: `http://127.0.0.1:${collectorPort}${path}`,
    connections: opts.connections,
    duration,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, setupRequest: (req) => ({ ...req, body: nextBody() }) }],
  });
  return { requestsPerSecond: result.requests.average, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99, requests: result.requests.total };
}

const pipeline = start('../../workers/pipeline/main.ts', { PORT: '0' });
const collector = start('../../collector/main.ts', { PORT: String(collectorPort), HOST: '127.0.0.1' });
const warehouse = new Warehouse(clickhouseSettingsFromEnv(env));
try {
  await waitReady(`http://127.0.0.1:${collectorPort}/readyz`);
  console.log(`bench: ${duration}s per phase, ${cpus().length} cores; collector pid ${collector.pid}, pipeline pid ${pipeline.pid}`);

  // Each phase starts on an empty pipeline: wait until what the last one acknowledged is stored.
  const drain = async (phase: string, acknowledged: number, since: number) => {
    for (;;) {
      const rows = await warehouse.query<{ n: string }>("SELECT count() AS n FROM {db}.events WHERE JSONExtractString(properties, 'phase') = {phase:String}", { phase }).catch(() => [{ n: '0' }]);
      if (Number(rows[0]?.n ?? 0) >= acknowledged || Date.now() - since > 900_000) return (Date.now() - since) / 1000;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const pids = () => ({
    collector: collector.pid,
    pipeline: pipeline.pid,
    kafka: status().state?.engines.kafka?.processes[0]?.pid,
    clickhouse: status().state?.engines.clickhouse?.processes[0]?.pid,
    'load generator': process.pid,
  });
  const cpu: Record<string, Record<string, number>> = {};
  const measureCpu = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const before = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const started = Date.now();
    const result = await work();
    const wall = (Date.now() - started) / 1000;
    cpu[phase] = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, Math.round((100 * (cpuSeconds(pid) - (before[k] ?? 0))) / wall)]));
    console.log(`  cpu during ${phase} (% of one core): ${Object.entries(cpu[phase]!).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return result;
  };
  let t = Date.now();
  const single = await measureCpu('single', () => load('/v1/track', trackBody, 'single', { connections, expectedPerSecond: 6000 }));
  const singleStored = await drain('single', single.requests - single.non2xx, t);
  console.log(`single events: ${Math.round(single.requestsPerSecond)} req/s (= events/s) accepted, p99 ${single.latencyP99Ms} ms, non-2xx ${single.non2xx}; all stored ${singleStored.toFixed(1)} s after the phase began`);
  t = Date.now();
  const batched = await measureCpu('batched', () => load('/v1/batch', batchBody, 'batched', { connections: Math.max(4, Math.round(connections / 8)), expectedPerSecond: 400 }));
  const batchedStored = await drain('batched', (batched.requests - batched.non2xx) * batchSize, t);
  const pipelineRate = Math.round(((batched.requests - batched.non2xx) * batchSize) / batchedStored);
  console.log(`batched events: ${Math.round(batched.requestsPerSecond * batchSize)} events/s accepted (${Math.round(batched.requestsPerSecond)} batches of ${batchSize}/s), p99 ${batched.latencyP99Ms} ms, non-2xx ${batched.non2xx}; all stored after ${batchedStored.toFixed(1)} s → pipeline sustained ${pipelineRate} events/s`);
  const paced = await load('/v1/batch', batchBody, 'paced', { connections: 8, overallRate: rate / batchSize, expectedPerSecond: 0 });
  console.log(`paced at ${rate} events/s: achieved ${Math.round(paced.requestsPerSecond * batchSize)} events/s, non-2xx ${paced.non2xx}`);

  // End to end: from the client's send time (in the event) to ClickHouse's insert time.
  const expected = { single: single.requests - single.non2xx, batched: (batched.requests - batched.non2xx) * batchSize, paced: (paced.requests - paced.non2xx) * batchSize };
  const drainStarted = Date.now();
  let counts: Record<string, number> = {};
  for (;;) {
    const rows = await warehouse.query<{ phase: string; n: string }>("SELECT JSONExtractString(properties, 'phase') AS phase, count() AS n FROM {db}.events GROUP BY phase").catch(() => []);
    counts = Object.fromEntries(rows.map((r) => [r.phase, Number(r.n)]));
    if ((counts.paced ?? 0) >= expected.paced && (counts.single ?? 0) >= expected.single && (counts.batched ?? 0) >= expected.batched) break;
    if (Date.now() - drainStarted > 600_000) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const drainSeconds = (Date.now() - drainStarted) / 1000;
  const latency = await warehouse.query<{ phase: string; p50: number; p99: number; max: number }>(
    `SELECT JSONExtractString(properties, 'phase') AS phase,
            quantileExact(0.5)(toUnixTimestamp64Milli(ingested_at) - JSONExtractUInt(properties, 'sentMs')) AS p50,
            quantileExact(0.99)(toUnixTimestamp64Milli(ingested_at) - JSONExtractUInt(properties, 'sentMs')) AS p99,
            max(toUnixTimestamp64Milli(ingested_at) - JSONExtractUInt(properties, 'sentMs')) AS max
     FROM {db}.events GROUP BY phase ORDER BY phase`,
  );
  const paceLatency = latency.find((l) => l.phase === 'paced');
  console.log(`end-to-end event → ClickHouse at ${rate} events/s: p50 ${paceLatency?.p50} ms, p99 ${paceLatency?.p99} ms (drained ${drainSeconds.toFixed(1)} s after load)`);
  const memory = {
    collector_mib: peakRssMiB(collector.pid),
    pipeline_mib: peakRssMiB(pipeline.pid),
    kafka_mib: peakRssMiB(status().state?.engines.kafka?.processes[0]?.pid),
    clickhouse_mib: peakRssMiB(status().state?.engines.clickhouse?.processes[0]?.pid),
  };
  console.log(`peak memory (RSS high-water mark): collector ${memory.collector_mib} MiB, pipeline ${memory.pipeline_mib} MiB, kafka ${memory.kafka_mib} MiB, clickhouse (chdb) ${memory.clickhouse_mib} MiB`);
  const report = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), note: 'load generator, collector, pipeline, Kafka and the chdb ClickHouse front share these cores' },
    parameters: { duration_s: duration, connections, batch_size: batchSize, paced_rate_events_per_s: rate },
    single_events_per_s: Math.round(single.requestsPerSecond),
    batched_events_per_s: Math.round(batched.requestsPerSecond * batchSize),
    pipeline_sustained_events_per_s: pipelineRate,
    paced: { target_events_per_s: rate, achieved_events_per_s: Math.round(paced.requestsPerSecond * batchSize), e2e_p50_ms: paceLatency?.p50, e2e_p99_ms: paceLatency?.p99, e2e_max_ms: paceLatency?.max },
    e2e_by_phase_ms: latency,
    stored: counts,
    expected_acknowledged: expected,
    drain_after_load_s: drainSeconds,
    http: { single, batched, paced },
    peak_memory: memory,
    cpu_percent_of_one_core: cpu,
  };
  const out = fileURLToPath(new URL('./results/ingest.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`stored ${JSON.stringify(counts)} of acknowledged ${JSON.stringify(expected)} → ${out}`);
} finally {
  stopping = true;
  console.log(`process logs: ${dir}`);
  collector.kill('SIGTERM');
  pipeline.kill('SIGTERM');
  await warehouse.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
  await warehouse.close();
}
