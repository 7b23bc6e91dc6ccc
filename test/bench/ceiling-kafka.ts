// The kafkajs ceiling of bench:ingest: records shaped like the collector's canonical events, produced
// to a fresh 6-partition topic with acks=all and the collector's client settings, with nothing else
// in the way (no HTTP, no validation). Two modes, --duration seconds each: one record per send with
// --in-flight sends outstanding (what single events cost), and sends of --batch records with
// --batch-in-flight outstanding (what batches cost). Progress goes to stderr, the figures as one
// JSON line to stdout; the topic is deleted on the way out, also when stopped or orphaned.
//
// node --import tsx test/bench/ceiling-kafka.ts --duration 20 --in-flight 64 --batch 100 --batch-in-flight 8 --topic T --source S [--kafka-pid P] [--log FILE]
import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { CanonicalEvent } from '../../api/event.ts';
import { BatchingProducer, connectKafka, deleteTopics, ensureTopics, kafkaSettingsFromEnv, type Admin, type OutgoingRecord } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { cpuSeconds } from './proc.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    'in-flight': { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    'batch-in-flight': { type: 'string', default: '8' },
    topic: { type: 'string' },
    source: { type: 'string', default: 'bench-ceiling' },
    'kafka-pid': { type: 'string' },
    log: { type: 'string' },
  },
});
const duration = Number(values.duration);
const inFlight = Number(values['in-flight']);
const batchSize = Number(values.batch);
const batchInFlight = Number(values['batch-in-flight']);
const topic = values.topic ?? `bench-${Date.now().toString(36)}.ceiling-kafkajs`;
const source = values.source;
const kafkaPid = values['kafka-pid'] ? Number(values['kafka-pid']) : undefined;
const PARTITIONS = 6;

// Logs stay off stdout, which carries only the result.
const log = createLogger('bench-ceiling-kafka', process.env.LOG_LEVEL ?? 'warn', values.log ? createWriteStream(values.log, { flags: 'a' }) : process.stderr);
// The collector's own client: same settings, same short request timeout (collector/main.ts).
const kafka = connectKafka(kafkaSettingsFromEnv('uspa-bench-ceiling', process.env), log, { requestTimeoutMs: 5_000 });
// BatchingProducer with its defaults, as collector/main.ts builds it: every collector request goes
// through its send(), which coalesces concurrent callers into one acks=all sendBatch per 2 ms
// window. A bare producer.send per record would measure a path the collector does not take.
const producer = new BatchingProducer(kafka);
let admin: Admin | undefined;
let created = false;
let stopping = false;

/**
 * What collector/tracking-api.ts makes of the bench's track body (field for field, in its order),
 * so the record value has the collector's shape and size; typed so a changed contract shows here.
 */
function canonicalRecord(phase: string): OutgoingRecord {
  const now = new Date().toISOString();
  const userId = `u${Math.floor(Math.random() * 50_000)}`;
  const event: CanonicalEvent = {
    type: 'track',
    messageId: randomUUID(),
    timestamp: now,
    receivedAt: now,
    properties: { phase, sentMs: Date.now(), sku: 'SKU-1', price: 9.99 },
    traits: {},
    context: { ip: '127.0.0.1' },
    integrations: {},
    source,
    userId,
    event: 'Bench Event',
  };
  return { topic, key: userId, value: JSON.stringify(event), headers: { source } };
}

// Built before timing, and cycled: nothing reads the topic, so repeated ids cost nothing, and the
// producer's time is not spent on JSON.stringify. Phase names as the collector's phases, for equal sizes.
const pools = { single: Array.from({ length: 20_000 }, () => canonicalRecord('single')), batched: Array.from({ length: 20_000 }, () => canonicalRecord('batched')) };
let next = 0;
function take(mode: keyof typeof pools, n: number): OutgoingRecord[] {
  const pool = pools[mode];
  const out: OutgoingRecord[] = [];
  for (let i = 0; i < n; i++) out.push(pool[next++ % pool.length]!);
  return out;
}

/** What one mode measured; bench:ingest reads it from the JSON line. */
export type KafkaCeilingMode = Awaited<ReturnType<typeof run>>;
export interface KafkaCeilingReport {
  topic: string;
  partitions: number;
  acks: string;
  producer: string;
  record_bytes: number;
  duration_s: number;
  single: KafkaCeilingMode;
  batched: KafkaCeilingMode;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
}

async function run(mode: keyof typeof pools, concurrency: number, perSend: number) {
  console.error(`  kafkajs ceiling, ${mode}: ${concurrency} sends of ${perSend} record${perSend === 1 ? '' : 's'} in flight for ${duration} s …`);
  // A warm-up send over all partitions, so metadata and leader connections are not timed.
  await producer.send(take(mode, PARTITIONS * 4));
  const latencies: number[] = [];
  let events = 0;
  let errors = 0;
  let firstError: string | undefined;
  const cpuBefore = process.cpuUsage();
  const kafkaBefore = cpuSeconds(kafkaPid);
  const started = performance.now();
  const until = started + duration * 1000;
  const sender = async () => {
    while (!stopping && performance.now() < until) {
      const records = take(mode, perSend);
      const t0 = performance.now();
      try {
        await producer.send(records);
        latencies.push(performance.now() - t0);
        events += records.length;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = Float64Array.from(latencies).sort();
  const result = {
    in_flight: concurrency,
    records_per_send: perSend,
    events_per_s: Math.round(events / elapsed),
    sends: latencies.length,
    errors,
    ...(firstError ? { first_error: firstError } : {}),
    send_p50_ms: percentile(sorted, 0.5),
    send_p99_ms: percentile(sorted, 0.99),
    send_max_ms: percentile(sorted, 1),
    cpu_percent_of_one_core: {
      producer: Math.round((100 * (cpu.user + cpu.system)) / 1e6 / elapsed),
      ...(kafkaPid ? { kafka: Math.round((100 * (cpuSeconds(kafkaPid) - kafkaBefore)) / elapsed) } : {}),
    },
  };
  console.error(`  kafkajs ceiling, ${mode}: ${result.events_per_s} events/s, send p50 ${result.send_p50_ms} ms, p99 ${result.send_p99_ms} ms, errors ${errors}`);
  return result;
}

let cleaned: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    stopping = true;
    await producer.disconnect().catch(() => undefined);
    if (admin && created) await deleteTopics(admin, [topic]).catch((err: unknown) => console.error(`  kafkajs ceiling: could not delete topic ${topic}: ${(err as Error).message}`));
    await admin?.disconnect().catch(() => undefined);
  })();
  return cleaned;
}
// Stopped (SIGTERM, Ctrl-C) or orphaned (the parent's IPC channel closes): drop the topic, then go.
for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) process.once(signal, () => void cleanup().finally(() => process.exit(code)));
if (process.send) process.once('disconnect', () => void cleanup().finally(() => process.exit(130)));

try {
  admin = kafka.admin();
  await admin.connect();
  // From here the topic may exist, even if creating it fails half-way.
  created = true;
  await ensureTopics(admin, [{ topic, partitions: PARTITIONS }]);
  await producer.connect();
  const single = await run('single', inFlight, 1);
  const batched = await run('batched', batchInFlight, batchSize);
  const report: KafkaCeilingReport = {
    topic,
    partitions: PARTITIONS,
    acks: 'all',
    producer: 'BatchingProducer with its defaults, as the collector builds it',
    record_bytes: Buffer.byteLength(pools.single[0]!.value),
    duration_s: duration,
    single,
    batched,
  };
  await cleanup();
  // Exit once stdout has the line: the IPC channel would keep the process alive.
  process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0));
} catch (err) {
  await cleanup();
  console.error(`  kafkajs ceiling failed: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}; the log has more`);
  process.exit(1);
}
