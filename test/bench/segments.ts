// npm run bench:segments [-- --profiles 1000000 --events 20000000]
// Generates profiles, identities and events inside ClickHouse (INSERT … SELECT FROM numbers()),
// then times the recomputation of three Segments — a trait rule, an event-window rule and a nested
// rule — as the segments worker does it (materialize into segment_members), and one whole
// computeSegment run through Temporal. Prints the figures and writes test/bench/results/segments.json.
import '../support/use-stack.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { taskQueue } from '../../api/names.ts';
import { computeSegment } from '../../workflows/segments.ts';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startSegmentsWorker } from '../../workers/segments/main.ts';
import { required, unique } from '../support/env.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const { values } = parseArgs({ options: { profiles: { type: 'string', default: '1000000' }, events: { type: 'string', default: '20000000' }, keep: { type: 'boolean', default: false } } });
const P = Number(values.profiles);
const E = Number(values.events);
required('CLICKHOUSE_URL');
required('TEMPORAL_ADDRESS');
const namespace = unique('bench-seg');
const database = `bench_${namespace.replace(/-/g, '_')}`;
const env = { ...process.env, USPA_DATABASE: database, USPA_TOPIC_PREFIX: `bench-${namespace}`, LOG_LEVEL: 'warn' };
const w = new Warehouse({ ...clickhouseSettingsFromEnv(env), database });
const seconds = (t0: number) => +((performance.now() - t0) / 1000).toFixed(2);

console.log(`bench: ${P.toLocaleString()} profiles, ${E.toLocaleString()} events into ${database} (${cpus().length} cores)`);
await migrate(w, createLogger('bench', 'warn'));
let t = performance.now();
await w.command(`INSERT INTO {db}.identities (identity, profile_id, first_seen, version)
  SELECT concat('userId:u', toString(number)), concat('p', toString(number)), now64(3) - toIntervalDay(number % 365), 1 FROM numbers({n:UInt64})`, { n: P });
await w.command(`INSERT INTO {db}.profiles (profile_id, identities, traits, first_seen, last_seen, event_count, lifetime_revenue, order_count, rfm_recency, rfm_frequency, rfm_monetary)
  SELECT concat('p', toString(number)), [concat('userId:u', toString(number))],
    concat('{"plan":"', ['free','pro','team'][number % 3 + 1], '","country":"', ['US','DE','FR','IN','BR'][number % 5 + 1], '","age":', toString(18 + number % 60), '}'),
    now64(3) - toIntervalDay(number % 365), now64(3) - toIntervalDay(number % 30), 20, (number % 1000) * 1.5, number % 7, 1 + number % 5, 1 + number % 5, 1 + number % 5
  FROM numbers({n:UInt64})`, { n: P });
const generateProfiles = seconds(t);
t = performance.now();
// Events in chunks of 5M so a 2-core machine's memory is never the question.
for (let start = 0; start < E; start += 5_000_000) {
  await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, user_id, identity, profile_id, properties, revenue)
    SELECT concat('m', toString(number)), 'web', 'track',
      ['Page Viewed','Product Viewed','Product Added','Order Completed'][multiIf(cityHash64(number) % 10 < 6, 1, cityHash64(number) % 10 < 8, 2, cityHash64(number) % 10 < 9, 3, 4)],
      now64(3) - toIntervalSecond(cityHash64(number, 1) % (90 * 86400)), now64(3),
      concat('u', toString(number % {p:UInt64})), concat('userId:u', toString(number % {p:UInt64})), concat('p', toString(number % {p:UInt64})),
      concat('{"revenue":', toString(cityHash64(number, 2) % 200), ',"category":"', ['shoes','bags','hats'][cityHash64(number, 3) % 3 + 1], '"}'),
      cityHash64(number, 2) % 200
    FROM numbers({start:UInt64}, {count:UInt64})`, { p: P, start, count: Math.min(5_000_000, E - start) });
  process.stdout.write(`\r  events: ${Math.min(start + 5_000_000, E).toLocaleString()}`);
}
const generateEvents = seconds(t);
console.log(`\n  generated profiles in ${generateProfiles} s, events in ${generateEvents} s`);

const rules = {
  trait: { trait: 'plan', op: 'eq', value: 'pro' },
  eventWindow: { event: 'Order Completed', atLeast: 2, within: '30d' },
  nested: { all: [{ trait: 'country', op: 'in', value: ['US', 'DE'] }, { any: [{ event: 'Product Added', atLeast: 3, within: '14d' }, { profile: 'lifetime_revenue', op: 'gt', value: 1200 }] }, { not: { trait: 'plan', op: 'eq', value: 'free' } }] },
};
const worker = await startSegmentsWorker({ namespace, env });
const results: Record<string, { seconds: number; members: number; workflowSeconds?: number }> = {};
const mock = new MockActivityEnvironment();
for (const [name, rule] of Object.entries(rules)) {
  const compiled = compileSegment(parseRule(rule), { namespace });
  t = performance.now();
  const members = (await mock.run(worker.activities.materialize, { database, key: `${namespace}/${name}`, version: 1, sql: compiled.sql, params: compiled.params })) as number;
  results[name] = { seconds: seconds(t), members };
  console.log(`  ${name.padEnd(12)} recomputed in ${results[name].seconds} s → ${members.toLocaleString()} members`);
}
// One whole run as the schedule starts it: new version, diff, publish, commit, prune.
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const client = new Client({ connection });
const compiled = compileSegment(parseRule(rules.eventWindow), { namespace });
for (const run of [1, 2]) {
  t = performance.now();
  const r = await client.workflow.execute(computeSegment, { taskQueue: taskQueue('segments', namespace), workflowId: unique('bench'), args: [{ namespace, segment: 'window', key: `${namespace}/window`, database, sql: compiled.sql, params: compiled.params }] });
  console.log(`  computeSegment run ${run} (event-window rule) in ${seconds(t)} s: version ${r.version}, ${r.size.toLocaleString()} members, ${r.entered.toLocaleString()} entered, ${r.exited.toLocaleString()} exited`);
  results[`workflowRun${run}`] = { seconds: seconds(t), members: r.size };
}
await worker.close();
await connection.close();

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), clickhouse: 'chdb 4.4 (ClickHouse 26.9) behind the test HTTP front, one query at a time; the stack shares the cores' },
  data: { profiles: P, events: E, generateProfilesSeconds: generateProfiles, generateEventsSeconds: generateEvents },
  recompute: results,
  target: { recomputeSeconds: 10 },
};
const out = fileURLToPath(new URL('./results/segments.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(`bench: wrote ${out}`);
if (!values.keep) await w.command('DROP DATABASE IF EXISTS {db}');
await w.close();
