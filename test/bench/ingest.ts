// npm run bench:ingest [-- --duration 20] [--connections 64] [--batch 100] [--rate 10000] [--only-ceilings]
// Collector, Kafka, pipeline and ClickHouse on this machine, each in its own process, loaded from
// this one with autocannon. First the ceilings the collector works under here: a bare node:http
// server under the very same load, and kafkajs alone producing the same records. Then the collector
// alone (no pipeline running), then the whole path with the pipeline consuming. USPA's figures are
// also given as ratios to the ceilings. Prints the figures and writes test/bench/results/ingest.json;
// --only-ceilings runs just the ceilings (kafkajs only when KAFKA_BROKERS is set or a stack is up)
// and writes test/bench/results/ingest-ceilings.json.
import './ingest-stack.ts';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
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
import type { KafkaCeilingReport } from './ceiling-kafka.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    rate: { type: 'string', default: '10000' },
    'only-ceilings': { type: 'boolean', default: false },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const batchSize = Number(values.batch);
const rate = Number(values.rate);
const onlyCeilings = values['only-ceilings'];
// The batched phases' connections; the ceilings use the same.
const batchConnections = Math.max(4, Math.round(connections / 8));

const suffix = Date.now().toString(36);
const database = `bench_${suffix}`;
const writeKey = randomBytes(18).toString('base64url');
// The collector-alone phases write to a Source no pipeline reads: when the pipeline starts, it has
// no backlog of theirs to work off while the whole-path phases are measured.
const aloneWriteKey = randomBytes(18).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'uspa-bench-'));
const configPath = join(dir, 'uspa.yaml');
writeFileSync(configPath, stringify({
  sources: [
    { name: `bench-${suffix}`, type: 'server', writeKey, topic: { partitions: 6 } },
    { name: `bench-${suffix}-alone`, type: 'server', writeKey: aloneWriteKey, topic: { partitions: 6 } },
  ],
  pipelines: [{ name: `bench-${suffix}`, sources: [`bench-${suffix}`], batch: { maxEvents: 10000, maxWaitMs: 200 } }],
}));
const env = { ...process.env, USPA_CONFIG: configPath, USPA_DATABASE: database, USPA_TOPIC_PREFIX: `bench-${suffix}`, LOG_LEVEL: 'warn' };
const collectorPort = 18000 + Math.floor(Math.random() * 1000);
const pipelinePort = collectorPort + 1000;
const ceilingPort = collectorPort + 2000;
const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
const aloneAuth = `Basic ${Buffer.from(`${aloneWriteKey}:`).toString('base64')}`;

let stopping = false;
/** Children stopped on purpose before the end; their exit is no failure. */
const stopped = new Set<ChildProcess>();
const children: ChildProcess[] = [];

/** `ipc`: the ceilings watch that channel and clean up (port, topic) when this process goes away. */
function start(name: string, entry: string, extra: Record<string, string>, options: { args?: string[]; ipc?: boolean; stdout?: 'pipe'; stderr?: 'inherit' } = {}): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const stdio: StdioOptions = ['ignore', options.stdout ?? log, options.stderr ?? log, ...(options.ipc ? ['ipc' as const] : [])];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(entry, import.meta.url)), ...(options.args ?? [])], { env: { ...env, ...extra }, stdio });
  child.once('exit', (code, signal) => {
    if (!stopping && !stopped.has(child)) console.error(`${name} exited during the benchmark (code ${code}, signal ${signal}); its log: ${join(dir, `${name}.log`)}`);
  });
  children.push(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  stopped.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitReady(url: string, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

const began = Date.now();
function progress(text: string): void {
  console.log(`[${String(Math.round((Date.now() - began) / 1000)).padStart(4)} s] ${text}`);
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
 * spends its time sending, not building JSON; each body still has fresh message ids. `cycle`
 * (the bare-HTTP ceiling, which stores nothing) reuses the pool instead of building more, so a
 * faster server does not make the load generator build JSON it would not build for the collector.
 */
function pregenerate(body: (phase: string) => string, phase: string, count: number, cycle = false): () => string {
  const pool = Array.from({ length: Math.max(1, count) }, () => body(phase));
  let next = 0;
  if (cycle) return () => pool[next++ % pool.length]!;
  return () => (next < pool.length ? pool[next++]! : body(phase));
}

type Target = { port: number; auth: string };
type LoadResult = Awaited<ReturnType<typeof load>>;

async function load(target: Target, path: string, body: (phase: string) => string, phase: string, opts: { overallRate?: number; connections: number; expectedPerSecond: number; cycle?: boolean }) {
  const nextBody = pregenerate(body, phase, Math.ceil(opts.expectedPerSecond * duration * 1.2), opts.cycle);
  const result = await autocannon({
    url: `http://127.0.0.1:${target.port}${path}`,
    connections: opts.connections,
    duration,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json', authorization: target.auth }, setupRequest: (req) => ({ ...req, body: nextBody() }) }],
  });
  return { requestsPerSecond: result.requests.average, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99, requests: result.requests.total };
}

const kafkaPid = () => status().state?.engines.kafka?.processes[0]?.pid;
const cpu: Record<string, Record<string, number>> = {};
async function measureCpu<T>(phase: string, pids: () => Record<string, number | undefined>, work: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const started = Date.now();
  const result = await work();
  const wall = (Date.now() - started) / 1000;
  cpu[phase] = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, Math.round((100 * (cpuSeconds(pid) - (before[k] ?? 0))) / wall)]));
  console.log(`  cpu during ${phase} (% of one core): ${Object.entries(cpu[phase]!).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return result;
}

/** The single and batched phases, as the collector's: same paths, bodies, connections and duration. */
async function singleAndBatched(label: string, cpuPrefix: string, target: Target, pids: () => Record<string, number | undefined>, phases: { single: string; batched: string }, cycle = false) {
  progress(`${label}, single events: ${connections} connections on /v1/track for ${duration} s …`);
  const single = await measureCpu(`${cpuPrefix}single`, pids, () => load(target, '/v1/track', trackBody, phases.single, { connections, expectedPerSecond: 6000, cycle }));
  progress(`${label}, single events: ${Math.round(single.requestsPerSecond)} events/s, p50 ${single.latencyP50Ms} ms, p99 ${single.latencyP99Ms} ms, non-2xx ${single.non2xx}, errors ${single.errors}`);
  progress(`${label}, batched events: ${batchConnections} connections on /v1/batch, ${batchSize} events a batch, for ${duration} s …`);
  const batched = await measureCpu(`${cpuPrefix}batched`, pids, () => load(target, '/v1/batch', batchBody, phases.batched, { connections: batchConnections, expectedPerSecond: 400, cycle }));
  progress(`${label}, batched events: ${Math.round(batched.requestsPerSecond * batchSize)} events/s (${Math.round(batched.requestsPerSecond)} batches/s), p50 ${batched.latencyP50Ms} ms, p99 ${batched.latencyP99Ms} ms, non-2xx ${batched.non2xx}, errors ${batched.errors}`);
  return { single, batched };
}

function httpFigures(single: LoadResult, batched: LoadResult) {
  return {
    single_events_per_s: Math.round(single.requestsPerSecond),
    batched_events_per_s: Math.round(batched.requestsPerSecond * batchSize),
    single_p50_ms: single.latencyP50Ms,
    single_p99_ms: single.latencyP99Ms,
    batched_p50_ms: batched.latencyP50Ms,
    batched_p99_ms: batched.latencyP99Ms,
    http: { single, batched },
  };
}
type HttpFigures = ReturnType<typeof httpFigures>;

/** Ceiling 1: a bare node:http server (read, JSON.parse, 200) in its own process, under the collector's load. */
async function bareHttpCeiling(): Promise<HttpFigures> {
  const server = start('ceiling-http', './ceiling-http.ts', { PORT: String(ceilingPort) }, { ipc: true });
  try {
    await waitReady(`http://127.0.0.1:${ceilingPort}/readyz`);
    const pids = () => ({ 'bare http': server.pid, 'load generator': process.pid });
    const { single, batched } = await singleAndBatched('ceiling "bare HTTP"', 'bare_http_', { port: ceilingPort, auth }, pids, { single: 'ceiling-single', batched: 'ceiling-batched' }, true);
    return httpFigures(single, batched);
  } finally {
    await stop(server);
  }
}

/** Ceiling 2: kafkajs alone, producing the collector's records as the collector does (ceiling-kafka.ts). */
async function kafkajsCeiling(): Promise<KafkaCeilingReport | { error: string }> {
  progress(`ceiling "kafkajs alone": single records (${connections} sends in flight), then sends of ${batchSize} (${batchConnections} in flight), ${duration} s each …`);
  const pid = kafkaPid();
  const producer = start('ceiling-kafka', './ceiling-kafka.ts', {}, {
    args: ['--duration', String(duration), '--in-flight', String(connections), '--batch', String(batchSize), '--batch-in-flight', String(batchConnections), '--topic', `bench-${suffix}.ceiling-kafkajs`, '--source', `bench-${suffix}`, '--log', join(dir, 'ceiling-kafka.log'), ...(pid ? ['--kafka-pid', String(pid)] : [])],
    ipc: true,
    stdout: 'pipe',
    stderr: 'inherit',
  });
  // It ends by itself; its exit is read below.
  stopped.add(producer);
  let out = '';
  producer.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  // Topic creation and the warm-ups take seconds; far beyond that, something hangs.
  const timer = setTimeout(() => void stop(producer), (2 * duration + 180) * 1000);
  const [code, signal] = (await once(producer, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const line = out.trim().split('\n').pop();
  if (code !== 0 || !line) {
    const error = `the kafkajs ceiling exited with code ${code}, signal ${signal}; its log: ${join(dir, 'ceiling-kafka.log')}`;
    console.error(error);
    return { error };
  }
  const report = JSON.parse(line) as KafkaCeilingReport;
  for (const mode of ['single', 'batched'] as const) cpu[`kafkajs_${mode}`] = report[mode].cpu_percent_of_one_core;
  progress(`ceiling "kafkajs alone": single ${report.single.events_per_s} events/s (send p99 ${report.single.send_p99_ms} ms), batched ${report.batched.events_per_s} events/s (send p99 ${report.batched.send_p99_ms} ms); topic deleted`);
  return report;
}

const ratio = (value: number, ceiling: number | undefined) => (ceiling ? Math.round((value / ceiling) * 1000) / 1000 : null);
const kafkaFigures = (k: KafkaCeilingReport | { error: string } | { skipped: string }) => ('single' in k ? k : undefined);

function printTable(rows: Array<{ name: string; events: number; p99?: number; ofHttp?: number | null; ofKafka?: number | null }>): void {
  const cell = (v: number | null | undefined, width: number, digits = 0) => (v === undefined ? '' : v === null ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })).padStart(width);
  console.log(`\n${''.padEnd(34)}${'events/s'.padStart(10)}${'p99 ms'.padStart(9)}${'÷ bare HTTP'.padStart(13)}${'÷ kafkajs'.padStart(11)}`);
  for (const r of rows) console.log(`${r.name.padEnd(34)}${cell(r.events, 10)}${cell(r.p99, 9, 1)}${cell(r.ofHttp, 13, 2)}${cell(r.ofKafka, 11, 2)}`.trimEnd());
}

function ceilingRows(bare: HttpFigures, kafka: KafkaCeilingReport | undefined) {
  return [
    { name: 'ceiling bare HTTP, single', events: bare.single_events_per_s, p99: bare.single_p99_ms },
    { name: 'ceiling bare HTTP, batched', events: bare.batched_events_per_s, p99: bare.batched_p99_ms },
    ...(kafka
      ? [
          { name: 'ceiling kafkajs, single (send)', events: kafka.single.events_per_s, p99: kafka.single.send_p99_ms },
          { name: 'ceiling kafkajs, batched (send)', events: kafka.batched.events_per_s, p99: kafka.batched.send_p99_ms },
        ]
      : []),
  ];
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30) };
const parameters = { duration_s: duration, connections, batch_connections: batchConnections, batch_size: batchSize, paced_rate_events_per_s: rate };
function writeReport(file: string, report: object): string {
  const out = fileURLToPath(new URL(`./results/${file}`, import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  return out;
}

let collector: ChildProcess | undefined;
let pipeline: ChildProcess | undefined;
let warehouse: Warehouse | undefined;
try {
  console.log(`bench: ${duration}s per phase, ${machine.cpus} cores (${machine.cpu}), ${machine.memory_gib} GiB; phases run one at a time`);
  const bareHttp = await bareHttpCeiling();
  const kafkajs = process.env.KAFKA_BROKERS ? await kafkajsCeiling() : { skipped: 'KAFKA_BROKERS is not set' };
  if ('skipped' in kafkajs) progress(`ceiling "kafkajs alone": skipped, ${kafkajs.skipped}`);
  const ceilings = { bare_http: bareHttp, kafkajs };
  const kafka = kafkaFigures(kafkajs);

  if (onlyCeilings) {
    printTable(ceilingRows(bareHttp, kafka));
    const out = writeReport('ingest-ceilings.json', {
      benchmark: 'ingest (ceilings only)',
      date: new Date().toISOString(),
      machine: { ...machine, note: 'the load generator and the ceiling process (and Kafka, for kafkajs) share these cores' },
      parameters,
      ceilings,
      cpu_percent_of_one_core: cpu,
    });
    console.log(`→ ${out}`);
  } else {
    warehouse = new Warehouse(clickhouseSettingsFromEnv(env));
    collector = start('collector', '../../collector/main.ts', { PORT: String(collectorPort), HOST: '127.0.0.1' });
    await waitReady(`http://127.0.0.1:${collectorPort}/readyz`);
    progress(`collector pid ${collector.pid} ready; the pipeline is not running yet`);

    // Collector alone: what it acknowledges when Kafka is its only company.
    const alonePids = () => ({ collector: collector?.pid, kafka: kafkaPid(), 'load generator': process.pid });
    const alone = await singleAndBatched('collector alone', 'alone_', { port: collectorPort, auth: aloneAuth }, alonePids, { single: 'alone-single', batched: 'alone-batched' });
    const collectorAlone = httpFigures(alone.single, alone.batched);

    pipeline = start('pipeline', '../../workers/pipeline/main.ts', { PORT: String(pipelinePort), HOST: '127.0.0.1' });
    // Its start (schema, topics, group join) would otherwise eat into the first whole-path phase.
    await waitReady(`http://127.0.0.1:${pipelinePort}/readyz`, 180);
    progress(`pipeline pid ${pipeline.pid} ready; whole path from here`);

    // Each phase starts on an empty pipeline: wait until what the last one acknowledged is stored.
    const drain = async (phase: string, acknowledged: number, since: number) => {
      progress(`waiting until ClickHouse has the ${acknowledged} events of phase ${phase} …`);
      for (;;) {
        const rows = await warehouse!.query<{ n: string }>("SELECT count() AS n FROM {db}.events WHERE JSONExtractString(properties, 'phase') = {phase:String}", { phase }).catch(() => [{ n: '0' }]);
        if (Number(rows[0]?.n ?? 0) >= acknowledged || Date.now() - since > 900_000) return (Date.now() - since) / 1000;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const pids = () => ({
      collector: collector?.pid,
      pipeline: pipeline?.pid,
      kafka: kafkaPid(),
      clickhouse: status().state?.engines.clickhouse?.processes[0]?.pid,
      'load generator': process.pid,
    });
    const target = { port: collectorPort, auth };
    let t = Date.now();
    progress(`whole path, single events: ${connections} connections on /v1/track for ${duration} s …`);
    const single = await measureCpu('single', pids, () => load(target, '/v1/track', trackBody, 'single', { connections, expectedPerSecond: 6000 }));
    const singleStored = await drain('single', single.requests - single.non2xx, t);
    console.log(`single events: ${Math.round(single.requestsPerSecond)} req/s (= events/s) accepted, p99 ${single.latencyP99Ms} ms, non-2xx ${single.non2xx}; all stored ${singleStored.toFixed(1)} s after the phase began`);
    t = Date.now();
    progress(`whole path, batched events: ${batchConnections} connections on /v1/batch, ${batchSize} events a batch, for ${duration} s …`);
    const batched = await measureCpu('batched', pids, () => load(target, '/v1/batch', batchBody, 'batched', { connections: batchConnections, expectedPerSecond: 400 }));
    const batchedStored = await drain('batched', (batched.requests - batched.non2xx) * batchSize, t);
    const pipelineRate = Math.round(((batched.requests - batched.non2xx) * batchSize) / batchedStored);
    console.log(`batched events: ${Math.round(batched.requestsPerSecond * batchSize)} events/s accepted (${Math.round(batched.requestsPerSecond)} batches of ${batchSize}/s), p99 ${batched.latencyP99Ms} ms, non-2xx ${batched.non2xx}; all stored after ${batchedStored.toFixed(1)} s → pipeline sustained ${pipelineRate} events/s`);
    progress(`whole path, paced at ${rate} events/s: 8 connections on /v1/batch for ${duration} s …`);
    const paced = await load(target, '/v1/batch', batchBody, 'paced', { connections: 8, overallRate: rate / batchSize, expectedPerSecond: 0 });
    console.log(`paced at ${rate} events/s: achieved ${Math.round(paced.requestsPerSecond * batchSize)} events/s, non-2xx ${paced.non2xx}`);

    // End to end: from the client's send time (in the event) to ClickHouse's insert time.
    const expected = { single: single.requests - single.non2xx, batched: (batched.requests - batched.non2xx) * batchSize, paced: (paced.requests - paced.non2xx) * batchSize };
    progress('waiting until ClickHouse has every acknowledged event …');
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
      kafka_mib: peakRssMiB(kafkaPid()),
      clickhouse_mib: peakRssMiB(status().state?.engines.clickhouse?.processes[0]?.pid),
    };
    console.log(`peak memory (RSS high-water mark): collector ${memory.collector_mib} MiB, pipeline ${memory.pipeline_mib} MiB, kafka ${memory.kafka_mib} MiB, clickhouse (chdb) ${memory.clickhouse_mib} MiB`);

    const wholePath = httpFigures(single, batched);
    const ratioOf = (f: HttpFigures) => ({
      single: { of_bare_http: ratio(f.single_events_per_s, bareHttp.single_events_per_s), of_kafkajs: ratio(f.single_events_per_s, kafka?.single.events_per_s) },
      batched: { of_bare_http: ratio(f.batched_events_per_s, bareHttp.batched_events_per_s), of_kafkajs: ratio(f.batched_events_per_s, kafka?.batched.events_per_s) },
    });
    const ratios = { collector_alone: ratioOf(collectorAlone), whole_path: ratioOf(wholePath) };
    const report = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: { ...machine, note: 'load generator, collector, pipeline, Kafka and the chdb ClickHouse front share these cores; the ceilings ran on them too, one phase at a time' },
      parameters,
      single_events_per_s: wholePath.single_events_per_s,
      batched_events_per_s: wholePath.batched_events_per_s,
      pipeline_sustained_events_per_s: pipelineRate,
      paced: { target_events_per_s: rate, achieved_events_per_s: Math.round(paced.requestsPerSecond * batchSize), e2e_p50_ms: paceLatency?.p50, e2e_p99_ms: paceLatency?.p99, e2e_max_ms: paceLatency?.max },
      e2e_by_phase_ms: latency,
      stored: counts,
      expected_acknowledged: expected,
      drain_after_load_s: drainSeconds,
      http: { single, batched, paced },
      ceilings,
      collector_alone: { single_events_per_s: collectorAlone.single_events_per_s, batched_events_per_s: collectorAlone.batched_events_per_s, single_p50_ms: collectorAlone.single_p50_ms, single_p99_ms: collectorAlone.single_p99_ms, batched_p50_ms: collectorAlone.batched_p50_ms, batched_p99_ms: collectorAlone.batched_p99_ms, http: collectorAlone.http },
      ratios,
      peak_memory: memory,
      cpu_percent_of_one_core: cpu,
    };
    const out = writeReport('ingest.json', report);
    console.log(`stored ${JSON.stringify(counts)} of acknowledged ${JSON.stringify(expected)} → ${out}`);
    printTable([
      ...ceilingRows(bareHttp, kafka),
      { name: 'collector alone, single', events: collectorAlone.single_events_per_s, p99: collectorAlone.single_p99_ms, ofHttp: ratios.collector_alone.single.of_bare_http, ofKafka: ratios.collector_alone.single.of_kafkajs },
      { name: 'collector alone, batched', events: collectorAlone.batched_events_per_s, p99: collectorAlone.batched_p99_ms, ofHttp: ratios.collector_alone.batched.of_bare_http, ofKafka: ratios.collector_alone.batched.of_kafkajs },
      { name: 'whole path, single', events: wholePath.single_events_per_s, p99: wholePath.single_p99_ms, ofHttp: ratios.whole_path.single.of_bare_http, ofKafka: ratios.whole_path.single.of_kafkajs },
      { name: 'whole path, batched', events: wholePath.batched_events_per_s, p99: wholePath.batched_p99_ms, ofHttp: ratios.whole_path.batched.of_bare_http, ofKafka: ratios.whole_path.batched.of_kafkajs },
    ]);
  }
} finally {
  stopping = true;
  console.log(`process logs: ${dir}`);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (warehouse) {
    await warehouse.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
    await warehouse.close();
  }
}
