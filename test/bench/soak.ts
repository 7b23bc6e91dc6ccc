// npm run bench:soak [-- --events 5000000] [--users 50000] [--sample 5] [--max-lag 500000] [--gzip]
// Drives many events through one real pipeline worker (its own process) and samples the worker's
// resident memory as they go: with the graph bounded by the users (a fixed pool) and nothing else
// kept per event, RSS must stay flat however many events pass. Events are produced straight to the
// Source's topic (no collector: this measures the pipeline, and the load generator stays cheap).
// Prints the figures and writes test/bench/results/soak.json.
import '../support/use-stack.ts';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { rssMiB } from './proc.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000000' },
    users: { type: 'string', default: '50000' },
    sample: { type: 'string', default: '5' },
    'max-lag': { type: 'string', default: '500000' },
    // Compressed batches: one fetch then holds ten times the records (the pipeline writes them in slices).
    gzip: { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const users = Number(values.users);
const sampleMs = Number(values.sample) * 1000;
const maxLag = Number(values['max-lag']);

const suffix = Date.now().toString(36);
const source = `soak-${suffix}`;
const prefix = `soak-${suffix}`;
const database = `bench_soak_${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'uspa-soak-'));
const configPath = join(dir, 'uspa.yaml');
writeFileSync(configPath, stringify({
  sources: [{ name: source, type: 'server', writeKey: randomBytes(18).toString('base64url'), topic: { partitions: 6 } }],
  pipelines: [{ name: source, sources: [source], batch: { maxEvents: 5000, maxWaitMs: 200 } }],
}));
const env: NodeJS.ProcessEnv = { ...process.env, USPA_CONFIG: configPath, USPA_DATABASE: database, USPA_TOPIC_PREFIX: prefix, LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'warn', PORT: '0' };
const topic = `${prefix}.events.${source}`;

const log = openSync(join(dir, 'pipeline.log'), 'a');
let stopping = false;
const pipeline = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../workers/pipeline/main.ts', import.meta.url))], { env, stdio: ['ignore', log, log] });
pipeline.once('exit', (code, signal) => {
  if (!stopping) console.error(`the pipeline exited during the soak (code ${code}, signal ${signal}); its log: ${join(dir, 'pipeline.log')}`);
});

const kafka = new Kafka({ clientId: 'uspa-soak', brokers: env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: false });
const warehouse = new Warehouse(clickhouseSettingsFromEnv(env));

/** Mostly tracks, one identify in 20 (traits change): the identity graph holds at most `users` people. */
function eventAt(n: number, now: string): string {
  const user = `u${n % users}`;
  const common = { messageId: `soak-${suffix}-${n}`, userId: user, timestamp: now, receivedAt: now, source, context: {}, integrations: {} };
  return JSON.stringify(n % 20 === 0
    ? { ...common, type: 'identify', traits: { plan: ['free', 'pro', 'team'][n % 3], seen: n }, properties: {} }
    : { ...common, type: 'track', event: 'Soak Event', traits: {}, properties: { n, sku: `SKU-${n % 100}`, price: 9.99 } });
}

async function stored(): Promise<number> {
  const rows = await warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.events').catch(() => [{ n: '0' }]);
  return Number(rows[0]?.n ?? 0);
}

const samples: Array<{ s: number; produced: number; stored: number; rss_mib: number }> = [];
const started = Date.now();
let produced = 0;
let storedNow = 0;
const sample = async () => {
  storedNow = await stored();
  const point = { s: Math.round((Date.now() - started) / 1000), produced, stored: storedNow, rss_mib: rssMiB(pipeline.pid) };
  samples.push(point);
  console.log(`  ${String(point.s).padStart(5)} s  produced ${produced}  stored ${storedNow}  pipeline RSS ${point.rss_mib} MiB`);
};

try {
  // The pipeline creates the Source's topic and the tables when it starts.
  const admin = kafka.admin();
  await admin.connect();
  const isUp = async () => (await admin.listTopics()).includes(topic) && Number((await warehouse.query<{ n: string }>("SELECT count() AS n FROM system.tables WHERE database = {d:String} AND name = 'events'", { d: database }))[0]?.n) === 1;
  let why: unknown;
  for (let i = 0; !(await isUp().catch((err: unknown) => void (why = err))); i++) {
    if (i > 600) throw new Error(`the pipeline never created its topic and tables (${String(why ?? 'not yet')}); its log: ${join(dir, 'pipeline.log')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await admin.disconnect();
  await producer.connect();
  console.log(`soak: ${total} events of ${users} users through one pipeline worker (pid ${pipeline.pid}), ${cpus().length} cores; sampling every ${sampleMs / 1000} s`);
  let nextSample = Date.now();
  while (produced < total) {
    if (Date.now() >= nextSample) {
      await sample();
      nextSample = Date.now() + sampleMs;
    }
    // Keep Kafka's backlog bounded: this measures the pipeline's memory, not a topic filling up.
    if (produced - storedNow > maxLag) {
      await new Promise((r) => setTimeout(r, 200));
      storedNow = await stored();
      continue;
    }
    const now = new Date().toISOString();
    const count = Math.min(5000, total - produced);
    await producer.send({ topic, acks: -1, ...(values.gzip ? { compression: CompressionTypes.GZIP } : {}), messages: Array.from({ length: count }, (_, i) => ({ key: `u${(produced + i) % users}`, value: eventAt(produced + i, now) })) });
    produced += count;
  }
  let lastProgress = Date.now();
  let last = storedNow;
  while (storedNow < total && Date.now() - lastProgress < 120_000) {
    await new Promise((r) => setTimeout(r, sampleMs));
    await sample();
    if (storedNow > last) {
      last = storedNow;
      lastProgress = Date.now();
    }
  }
  await sample();
  const seconds = (Date.now() - started) / 1000;

  // Flat means: after warm-up (the first fifth of the events), RSS does not grow with the events.
  const warm = samples.filter((p) => p.stored >= total / 5);
  const slope = regression(warm.map((p) => [p.stored / 1e6, p.rss_mib]));
  const rss = samples.map((p) => p.rss_mib);
  const summary = {
    events: total,
    stored: storedNow,
    users,
    seconds: Math.round(seconds),
    events_per_s: Math.round(storedNow / seconds),
    rss_mib: { after_warmup: warm[0]?.rss_mib, end: rss.at(-1), max: Math.max(...rss), min_after_warmup: Math.min(...warm.map((p) => p.rss_mib)), max_after_warmup: Math.max(...warm.map((p) => p.rss_mib)) },
    rss_growth_mib_per_million_events_after_warmup: slope === undefined ? null : Math.round(slope * 10) / 10,
  };
  console.log(`soak: ${storedNow} of ${total} events stored in ${summary.seconds} s (${summary.events_per_s} events/s); pipeline RSS after warm-up ${summary.rss_mib.after_warmup} MiB, end ${summary.rss_mib.end} MiB, max ${summary.rss_mib.max} MiB; growth after warm-up ${summary.rss_growth_mib_per_million_events_after_warmup} MiB per million events`);
  const report = {
    benchmark: 'soak',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), note: 'load generator, pipeline, Kafka and the chdb ClickHouse front share these cores' },
    parameters: { events: total, users, sample_s: sampleMs / 1000, max_lag: maxLag, gzip: values.gzip },
    summary,
    samples,
  };
  const out = fileURLToPath(new URL('./results/soak.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`→ ${out}`);
  if (storedNow !== total) process.exitCode = 1;
} finally {
  stopping = true;
  console.log(`pipeline log: ${join(dir, 'pipeline.log')}`);
  pipeline.kill('SIGTERM');
  await producer.disconnect().catch(() => undefined);
  await warehouse.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
  await warehouse.close();
  const admin = kafka.admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
  if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
}

/** Least-squares slope of y over x, or undefined with fewer than two points. */
function regression(points: Array<[number, number]>): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  return points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}
