// npm run bench:privacy [-- --events 20000000 --person 10000 --people 1000000]
// One person with --person events (two identities, merged profiles) among --events events of
// --people others, generated inside ClickHouse; then an erasure (suppress_with_delete) through the
// privacy worker and Temporal, with the collector running: the time from the request until the
// collector stops storing the person's events (suppression active), until the workflow's receipt
// (erasure complete), and the row counts of everyone else before and after (nobody else touched).
// Prints the figures and writes test/bench/results/privacy.json.
import '../support/use-stack.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { PRIVACY_SIGNING_KEY_ENV, taskQueue } from '../../api/names.ts';
import { privacyWorkflowId } from '../../api/workflows/privacy.ts';
import { createLogger } from '../../lib/log.ts';
import { countRows, resolvePerson, storesOf } from '../../lib/privacy/erase.ts';
import { migrate } from '../../lib/schema.ts';
import { verifyReceipt } from '../../lib/privacy/verify.ts';
import { erasePerson } from '../../workflows/privacy.ts';
import { startPrivacyWorker } from '../../workers/privacy/main.ts';
import { required, unique } from '../support/env.ts';
import { startProduct } from '../support/product.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const { values } = parseArgs({ options: { events: { type: 'string', default: '20000000' }, person: { type: 'string', default: '10000' }, people: { type: 'string', default: '1000000' } } });
const E = Number(values.events);
const A = Number(values.person);
const P = Number(values.people);
required('TEMPORAL_ADDRESS');
const seconds = (t0: number) => +((performance.now() - t0) / 1000).toFixed(2);
const KEY = 'bench-privacy-signing-key-0123456789abcdef';

// The pipeline starts after the data is there: it loads the identity graph ClickHouse holds, as a
// pipeline that had written those rows would know it.
const product = await startProduct({ sources: [{ name: 'web', type: 'web' }], withPipeline: false });
const w = product.warehouse;
console.log(`bench: ${E.toLocaleString()} events of ${P.toLocaleString()} people and ${A.toLocaleString()} of Ada into ${product.database} (${cpus().length} cores)`);
let t = performance.now();
await migrate(w, createLogger('bench', 'warn')); // the pipeline, which would, starts later
await w.command(`INSERT INTO {db}.identities (identity, profile_id, first_seen, version)
  SELECT concat('userId:u', toString(number)), concat('p', toString(number)), now64(3) - toIntervalDay(number % 365), 1 FROM numbers({n:UInt64})`, { n: P });
await w.command(`INSERT INTO {db}.profiles (profile_id, identities, traits, first_seen, last_seen, event_count)
  SELECT concat('p', toString(number)), [concat('userId:u', toString(number))], '{"plan":"free"}', now64(3) - toIntervalDay(number % 365), now64(3), 20 FROM numbers({n:UInt64})`, { n: P });
for (let start = 0; start < E; start += 5_000_000) {
  await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, user_id, identity, profile_id, properties, context)
    SELECT concat('m', toString(number)), 'web', 'track', 'Page Viewed', now64(3) - toIntervalSecond(cityHash64(number) % (365 * 86400)), now64(3),
      concat('u', toString(number % {p:UInt64})), concat('userId:u', toString(number % {p:UInt64})), concat('p', toString(number % {p:UInt64})), '{}', '{}'
    FROM numbers({start:UInt64}, {count:UInt64})`, { p: P, start, count: Math.min(5_000_000, E - start) });
  process.stdout.write(`\r  events: ${Math.min(start + 5_000_000, E).toLocaleString()}`);
}
// Ada: an anonymous history merged into her account, spread over the year (every monthly partition).
await w.insert('identities', [
  { identity: 'userId:ada', profile_id: 'p-ada', first_seen: '2026-01-01 00:00:00.000', version: 2 },
  { identity: 'anonymousId:ada-device', profile_id: 'p-ada', first_seen: '2026-01-01 00:00:00.000', version: 2 },
  { identity: 'email:ada@example.com', profile_id: 'p-ada', first_seen: '2026-01-01 00:00:00.000', version: 2 },
]);
await w.insert('identity_edges', [{ id: 'e-ada', a: 'anonymousId:ada-device', b: 'userId:ada', action: 'link', rule: 'identify', message_id: 'm-ada-0', event_time: '2026-01-01 00:00:00.000', reason: '', undoes: '', merge_from: 'p-ada-anon', merge_into: 'p-ada' }]);
await w.insert('profiles', [{ profile_id: 'p-ada', identities: ['userId:ada', 'anonymousId:ada-device', 'email:ada@example.com'], traits: '{"email":"ada@example.com"}', event_count: A }]);
await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, user_id, anonymous_id, identity, profile_id, properties, context)
  SELECT concat('m-ada-', toString(number)), 'web', 'track', 'Page Viewed', now64(3) - toIntervalSecond(cityHash64(number, 7) % (365 * 86400)), now64(3),
    if(number % 2 = 0, 'ada', ''), if(number % 2 = 1, 'ada-device', ''), if(number % 2 = 0, 'userId:ada', 'anonymousId:ada-device'), if(number % 2 = 0, 'p-ada', 'p-ada-anon'), '{}', '{}'
  FROM numbers({n:UInt64})`, { n: A });
const generated = seconds(t);
console.log(`\n  generated in ${generated} s`);
t = performance.now();
await product.startPipeline();
console.log(`  pipeline started (graph of ${(P + 3).toLocaleString()} identities loaded) in ${seconds(t)} s`);

const tables = await storesOf(w);
const ada = await resolvePerson(w, 'email:ada@example.com');
// Replacing tables count their current rows (FINAL): a pipeline rebuilding a profile writes a new version of it, which is not a change.
const replacing = new Set((await w.query<{ name: string }>("SELECT name FROM system.tables WHERE database = {db:String} AND engine LIKE 'Replacing%'", { db: product.database })).map((r) => r.name));
const count = async (all: boolean) => Object.fromEntries(await Promise.all(tables.map(async (tb) => [tb.table, all ? Number((await w.query<{ n: string }>(`SELECT count() AS n FROM {db}.${tb.table}${replacing.has(tb.table) ? ' FINAL' : ''}`))[0]!.n) : await countRows(w, tb, ada)] as const)));
const totalBefore = await count(true);
const adaBefore = await count(false);

const namespace = unique('bench-priv');
const worker = await startPrivacyWorker({ namespace, env: { ...product.env, [PRIVACY_SIGNING_KEY_ENV]: KEY } });
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const client = new Client({ connection });
const metric = async (name: string) => (await (await fetch(`${product.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
const requestId = unique('req');

t = performance.now();
const run = client.workflow.execute(erasePerson, { taskQueue: taskQueue('privacy', namespace), workflowId: privacyWorkflowId(namespace, requestId), args: [{ requestId, namespace, database: product.database, identity: 'email:ada@example.com', mode: 'suppress_with_delete', pipelines: [product.pipeline] }] });
// Suppression is active once the collector answers an event of Ada's and does not store it.
let suppressionSeconds: number | undefined;
const suppressedBefore = await metric('uspa_collector_events_suppressed_total');
while (suppressionSeconds === undefined && seconds(t) < 300) {
  // A probe or metrics read that fails (a reused connection reset) is simply tried again.
  const suppressed = await product.post('/v1/track', { userId: 'ada', event: 'Probe' }).then(() => metric('uspa_collector_events_suppressed_total'), () => suppressedBefore);
  if (suppressed > suppressedBefore) suppressionSeconds = seconds(t);
  else await new Promise((r) => setTimeout(r, 100));
}
console.log(suppressionSeconds === undefined ? '  suppression NOT active at the collector after 300 s' : `  suppression active at the collector ${suppressionSeconds} s after the request`);
const receipt = await run;
const erasureSeconds = seconds(t);
console.log(`  erasure complete (receipt signed) ${erasureSeconds} s after the request`);
const totalAfter = await count(true);
const adaAfter = await count(false);
const verified = (await verifyReceipt(w, receipt, KEY)).ok;
const others = Object.fromEntries(tables.map((tb) => [tb.table, { before: totalBefore[tb.table]! - adaBefore[tb.table]!, after: totalAfter[tb.table]! - adaAfter[tb.table]! }]));
const untouched = Object.values(others).every((o) => o.before === o.after);
for (const tb of tables) console.log(`  ${tb.table.padEnd(24)} Ada ${String(adaBefore[tb.table]).padStart(7)} → ${String(adaAfter[tb.table]).padStart(4)}   others ${String(others[tb.table]!.before).padStart(10)} → ${String(others[tb.table]!.after).padStart(10)}`);
console.log(`  nobody else's rows touched: ${untouched}; receipt verifies: ${verified}`);
await worker.close();
await connection.close();

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), clickhouse: 'chdb 4.4 (ClickHouse 26.9) behind the test HTTP front, one query at a time; the stack shares the cores' },
  data: { events: E, people: P, personEvents: A, generateSeconds: generated },
  suppressionSeconds,
  erasureSeconds,
  settleSeconds: 10,
  sweepAfterSeconds: 30,
  stores: receipt.stores.map((s) => ({ table: s.table, before: s.before, after: s.after, kept: Boolean(s.kept) })),
  others,
  untouched,
  verified,
  targets: { suppressionSeconds: 60, erasureSeconds: 300 },
};
const out = fileURLToPath(new URL('./results/privacy.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(`bench: wrote ${out}`);
await product.close();
