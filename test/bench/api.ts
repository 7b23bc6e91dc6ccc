// npm run bench:api [-- --profiles 1000000 --duration 15 --rate 500 --identifies 20]
// Loads a fresh database with profiles, identities, traits, timeline events and a Segment version
// holding every profile (INSERT … SELECT FROM numbers()), runs the collector, the pipeline and the
// API (`uspa api`) each as its own process as the operator would, creates an ApiKey, and loads the
// API from this process with autocannon: profile reads at a fixed rate from a warm working set
// (cache hits) and over the whole million (misses), timelines, the member export, and the freshness
// of a read after an identify through the collector and pipeline. Prints the figures and writes
// test/bench/results/api.json.
import '../support/use-stack.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { stringify } from 'yaml';
import { apiKeyHash, apiKeyId, generateApiKey } from '../../api/v1alpha1/index.ts';
import type { WorkloadConfig } from '../../api/workload.ts';
import { ClickHouseProfiles } from '../../gateway/profiles/clickhouse.ts';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { status } from '../../stack/stack.ts';
import { installCrds, kubeConfig } from '../support/operator.ts';
import { cpuSeconds, peakRssMiB, rssMiB } from './proc.ts';

const { values } = parseArgs({
  options: {
    profiles: { type: 'string', default: '1000000' },
    'timeline-profiles': { type: 'string', default: '100000' },
    'events-per-profile': { type: 'string', default: '20' },
    duration: { type: 'string', default: '15' },
    rate: { type: 'string', default: '500' },
    'miss-rate': { type: 'string', default: '10' },
    'timeline-rate': { type: 'string', default: '20' },
    'working-set': { type: 'string', default: '1000' },
    identifies: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const P = Number(values.profiles);
const T = Math.min(P, Number(values['timeline-profiles']));
const EPP = Number(values['events-per-profile']);
const duration = Number(values.duration);
const rate = Number(values.rate);
const missRate = Number(values['miss-rate']);
const timelineRate = Number(values['timeline-rate']);
const workingSet = Math.min(P, Number(values['working-set']));
const identifies = Number(values.identifies);

const suffix = Date.now().toString(36);
const namespace = `bench-api-${suffix}`;
const database = `bench_api_${suffix}`;
const prefix = `bench-api-${suffix}`;
const segment = 'bench-all';
const writeKey = randomBytes(18).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'uspa-bench-api-'));
const configPath = join(dir, 'uspa.yaml');
const config = {
  sources: [{ name: `web-${suffix}`, type: 'server', writeKey }],
  // The freshness floor is the Pipeline's batch wait plus its profile rebuild interval.
  pipelines: [{ name: `p-${suffix}`, sources: [`web-${suffix}`], batch: { maxEvents: 5000, maxWaitMs: 100, profileIntervalMs: 200 } }],
};
writeFileSync(configPath, stringify(config));
const env = { ...process.env, USPA_CONFIG: configPath, USPA_DATABASE: database, USPA_TOPIC_PREFIX: prefix, USPA_NAMESPACE: namespace, LOG_LEVEL: 'warn' };
const collectorPort = 18000 + Math.floor(Math.random() * 1000);
const apiPort = collectorPort + 1000;
const pipelinePort = collectorPort + 2000;
const api = `http://127.0.0.1:${apiPort}`;
const w = new Warehouse(clickhouseSettingsFromEnv(env));
const seconds = (t0: number) => +((performance.now() - t0) / 1000).toFixed(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? +s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1) : 0;
};

let stopping = false;
function start(name: string, args: string[], extra: Record<string, string>): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, { env: { ...env, ...extra }, stdio: ['ignore', log, log] });
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited during the benchmark (code ${code}, signal ${signal}); its log: ${join(dir, `${name}.log`)}`);
  });
  return child;
}
const entry = (path: string) => fileURLToPath(new URL(path, import.meta.url));

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs in ${dir}`);
    await sleep(100);
  }
}

const children: ChildProcess[] = [];
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
let nsCreated = false;
try {
  console.log(`bench: ${P.toLocaleString()} profiles into ${database} (${cpus().length} cores), namespace ${namespace}`);
  await migrate(w, createLogger('bench', 'warn'));
  // The pipeline starts on the empty database: its restart recovery would otherwise rebuild every generated profile.
  const pipeline = start('pipeline', ['--import', 'tsx', entry('../../workers/pipeline/main.ts')], { PORT: String(pipelinePort) });
  const collector = start('collector', ['--import', 'tsx', entry('../../collector/main.ts')], { PORT: String(collectorPort), HOST: '127.0.0.1' });
  children.push(pipeline, collector);
  await waitFor('the collector', async () => (await fetch(`http://127.0.0.1:${collectorPort}/readyz`)).ok);
  await waitFor('the pipeline', async () => (await fetch(`http://127.0.0.1:${pipelinePort}/readyz`)).ok);

  let t = performance.now();
  await w.command(`INSERT INTO {db}.identities (identity, profile_id, first_seen, version)
    SELECT if(number < {n:UInt64}, concat('userId:u', toString(number)), concat('email:u', toString(number - {n:UInt64}), '@example.com')),
           concat('p', toString(number % {n:UInt64})), now64(3) - toIntervalDay(number % 365), 1
    FROM numbers({n2:UInt64})`, { n: P, n2: 2 * P });
  await w.command(`INSERT INTO {db}.profiles (profile_id, identities, traits, first_seen, last_seen, event_count, event_counts, lifetime_revenue, order_count, rfm_recency, rfm_frequency, rfm_monetary)
    SELECT concat('p', toString(number)), [concat('userId:u', toString(number)), concat('email:u', toString(number), '@example.com')],
      concat('{"plan":"', ['free','pro','team'][number % 3 + 1], '","country":"', ['US','DE','FR','IN','BR'][number % 5 + 1], '","email":"u', toString(number), '@example.com"}'),
      now64(3) - toIntervalDay(number % 365), now64(3) - toIntervalDay(number % 30), if(number < {t:UInt64}, {epp:UInt64}, 0),
      if(number < {t:UInt64}, map('Page Viewed', {epp:UInt64}), map()), (number % 1000) * 1.5, number % 7, 1 + number % 5, 1 + number % 5, 1 + number % 5
    FROM numbers({n:UInt64})`, { n: P, t: T, epp: EPP });
  await w.command(`INSERT INTO {db}.identity_traits (identity, trait, value, event_time, message_id)
    SELECT concat('userId:u', toString(intDiv(number, 3))), ['plan', 'country', 'email'][number % 3 + 1],
      multiIf(number % 3 = 0, concat('"', ['free','pro','team'][intDiv(number, 3) % 3 + 1], '"'), number % 3 = 1, concat('"', ['US','DE','FR','IN','BR'][intDiv(number, 3) % 5 + 1], '"'), concat('"u', toString(intDiv(number, 3)), '@example.com"')),
      now64(3) - toIntervalDay(intDiv(number, 3) % 30), concat('t', toString(intDiv(number, 3)))
    FROM numbers({n3:UInt64})`, { n3: 3 * P });
  const generateProfiles = seconds(t);
  t = performance.now();
  await w.command(`INSERT INTO {db}.events (message_id, source, type, event, timestamp, received_at, user_id, identity, profile_id, properties, revenue)
    SELECT concat('m', toString(number)), {source:String}, 'track',
      ['Page Viewed','Product Viewed','Product Added','Order Completed'][cityHash64(number) % 4 + 1],
      now64(3) - toIntervalSecond(cityHash64(number, 1) % (90 * 86400)), now64(3),
      concat('u', toString(number % {t:UInt64})), concat('userId:u', toString(number % {t:UInt64})), concat('p', toString(number % {t:UInt64})),
      concat('{"sku":"sku-', toString(cityHash64(number, 3) % 500), '","price":', toString(cityHash64(number, 2) % 200), '}'), 0
    FROM numbers({e:UInt64})`, { t: T, e: T * EPP, source: `web-${suffix}` });
  const generateEvents = seconds(t);
  t = performance.now();
  await w.command(`INSERT INTO {db}.segment_versions (segment, version, size, computed_at, query) VALUES ({key:String}, 1, {n:UInt64}, now64(3), '')`, { key: `${namespace}/${segment}`, n: P });
  await w.command(`INSERT INTO {db}.segment_members (segment, version, profile_id) SELECT {key:String}, 1, concat('p', toString(number)) FROM numbers({n:UInt64})`, { key: `${namespace}/${segment}`, n: P });
  const generateSegment = seconds(t);
  console.log(`  generated ${P.toLocaleString()} profiles (2 identities, 3 traits each) in ${generateProfiles} s, ${(T * EPP).toLocaleString()} events (${EPP} for each of ${T.toLocaleString()} profiles) in ${generateEvents} s, a Segment version of ${P.toLocaleString()} members in ${generateSegment} s`);

  await installCrds();
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  nsCreated = true;
  await custom.createNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'segments', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Segment', metadata: { name: segment }, spec: { rule: { trait: 'plan', op: 'exists' } } } });
  // As the operator issues it: the API gets only the hash, in the status.
  const key = generateApiKey();
  const hash = apiKeyHash(key);
  await custom.createNamespacedCustomObject({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'apikeys', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'ApiKey', metadata: { name: 'bench' }, spec: { role: 'marketer', rateLimit: { requestsPerSecond: 10_000, burst: 100_000 } } } });
  await custom.patchNamespacedCustomObjectStatus({ group: 'uspa.tech', version: 'v1alpha1', namespace, plural: 'apikeys', name: 'bench', body: [{ op: 'add', path: '/status', value: { keyHash: hash, keyId: apiKeyId(hash), secretName: 'uspa-apikey-bench', keyCreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);
  const auth = `Bearer ${key}`;

  t = performance.now();
  const gateway = start('api', [entry('../../bin/uspa.js'), 'api'], { PORT: String(apiPort), HOST: '127.0.0.1' });
  children.push(gateway);
  await waitFor('the API', async () => (await fetch(`${api}/v1/whoami`, { headers: { Authorization: auth } })).status === 200);
  console.log(`  API (uspa api, its own process, pid ${gateway.pid}) ready in ${seconds(t)} s; collector pid ${collector.pid}, pipeline pid ${pipeline.pid}`);

  const pids = () => ({ api: gateway.pid, clickhouse: status().state?.engines.clickhouse?.processes[0]?.pid, kafka: status().state?.engines.kafka?.processes[0]?.pid, 'load generator': process.pid });
  const metrics = async () => {
    const text = await (await fetch(`${api}/metrics`)).text();
    const lines = text.split('\n');
    const get = (name: string, label: string) => lines.filter((l) => l.startsWith(`${name}{`) && l.includes(label)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    // The API's own request time (route matched → last byte), by bucket: what the server spends, without the wait for a core.
    const buckets = (operation: string) => new Map(lines.filter((l) => l.startsWith('uspa_api_request_seconds_bucket{') && l.includes(`operation="${operation}"`)).map((l) => [/le="([^"]+)"/.exec(l)![1]!, Number(l.slice(l.lastIndexOf(' ') + 1))]));
    return {
      hits: get('uspa_api_profile_cache_hits_total', 'cache="profile"'),
      misses: get('uspa_api_profile_cache_misses_total', 'cache="profile"'),
      lagSum: get('uspa_api_profile_cache_change_lag_seconds_sum', 'profile-changes'),
      lagCount: get('uspa_api_profile_cache_change_lag_seconds_count', 'profile-changes'),
      buckets,
      // prom-client resets the event loop delay histogram at each scrape: these cover the time since the last one.
      loopP99Ms: Math.round(1000 * get('nodejs_eventloop_lag_p99_seconds', '')),
    };
  };
  /** A quantile from the delta of two cumulative bucket sets: the upper bound of the bucket it falls in. */
  const serverQuantile = (before: Map<string, number>, after: Map<string, number>, q: number): string => {
    const les = [...after.keys()];
    const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
    for (const le of les) if ((after.get(le)! - (before.get(le) ?? 0)) >= q * total) return le === '+Inf' ? '> 60 s' : `≤ ${Number(le) * 1000} ms`;
    return 'n/a';
  };
  const profilePath = (n: number) => `/v1/profiles/${encodeURIComponent(`userId:u${n}`)}`;

  /** Until what an earlier phase left queued in ClickHouse has drained (a cached read and SELECT 1 are quick again). */
  const drain = async () => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const q = performance.now();
      await w.query('SELECT 1 AS one');
      await (await fetch(api + profilePath(0), { headers: { Authorization: auth } })).arrayBuffer();
      if (performance.now() - q < 100) return;
      await sleep(1000);
    }
  };

  /** A fixed-rate autocannon phase over the paths next() gives, with the CPU each process used. */
  const phase = async (name: string, operation: string, next: () => string, opts: { rate?: number; connections?: number; seconds?: number } = {}) => {
    await drain();
    const before = await metrics();
    const cpu0 = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const started = Date.now();
    const r = await autocannon({
      url: api,
      connections: opts.connections ?? 64,
      duration: opts.seconds ?? duration,
      ...(opts.rate ? { overallRate: opts.rate } : {}),
      requests: [{ method: 'GET', headers: { authorization: auth }, setupRequest: (req) => ({ ...req, path: next() }) }],
    });
    const wall = (Date.now() - started) / 1000;
    const after = await metrics();
    const cpu = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, Math.round((100 * (cpuSeconds(pid) - (cpu0[k] ?? 0))) / wall)]));
    const lookups = after.hits - before.hits + (after.misses - before.misses);
    const out = {
      target_rate: opts.rate ?? null,
      achieved_rate: Math.round(r.requests.average),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      max_ms: r.latency.max,
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      cache_hit_ratio: lookups ? +((after.hits - before.hits) / lookups).toFixed(3) : null,
      server_p50: serverQuantile(before.buckets(operation), after.buckets(operation), 0.5),
      server_p99: serverQuantile(before.buckets(operation), after.buckets(operation), 0.99),
      api_event_loop_delay_p99_ms: after.loopP99Ms,
      load_average_1m: +loadavg()[0]!.toFixed(1),
      cpu_percent_of_one_core: cpu,
    };
    console.log(`  ${name.padEnd(30)} ${String(out.achieved_rate).padStart(5)} req/s (target ${opts.rate ?? 'max'}), p50 ${out.p50_ms} ms, p99 ${out.p99_ms} ms, max ${out.max_ms} ms, non-2xx ${out.non2xx}, errors ${out.errors}, hit ratio ${out.cache_hit_ratio}`);
    console.log(`  ${''.padEnd(30)} in the API: p50 ${out.server_p50}, p99 ${out.server_p99}; API event loop delay p99 ${out.api_event_loop_delay_p99_ms} ms; load average ${out.load_average_1m}; cpu % api ${cpu.api}, clickhouse ${cpu.clickhouse}, kafka ${cpu.kafka}, load generator ${cpu['load generator']}`);
    return out;
  };

  // Warm the working set (one read each), then read only it: every lookup a hit.
  const warm = Array.from({ length: workingSet }, (_, i) => Math.floor((i * P) / workingSet));
  t = performance.now();
  for (let i = 0; i < warm.length; i += 16) await Promise.all(warm.slice(i, i + 16).map(async (n) => (await fetch(api + profilePath(n), { headers: { Authorization: auth } })).arrayBuffer()));
  console.log(`  warmed ${workingSet} profiles in ${seconds(t)} s`);
  const hit = await phase(`profile read, cache hit`, 'getProfile', () => profilePath(warm[Math.floor(Math.random() * warm.length)]!), { rate });
  const random = () => profilePath(Math.floor(Math.random() * P));
  const miss = await phase(`profile read, miss (cold)`, 'getProfile', random, { rate });
  const missSustained = await phase(`profile read, miss at ${missRate}/s`, 'getProfile', random, { rate: missRate, connections: 16 });
  const timelinePath = () => `/v1/profiles/${encodeURIComponent(`userId:u${Math.floor(Math.random() * T)}`)}/events?limit=50`;
  const timeline = await phase(`timeline (50 of ${EPP} events)`, 'listProfileEvents', timelinePath, { rate: timelineRate, connections: 16 });

  // Where a miss spends its time: the same queries from this process, one at a time, with the API idle.
  await drain();
  const direct = new Warehouse(clickhouseSettingsFromEnv(env));
  const inner = new ClickHouseProfiles(direct, config as unknown as WorkloadConfig);
  const resolveMs: number[] = [];
  const loadMs: number[] = [];
  const pingMs: number[] = [];
  for (let i = 0; i < 100; i++) {
    const n = Math.floor(Math.random() * P);
    let q = performance.now();
    await w.query('SELECT 1 AS one');
    pingMs.push(performance.now() - q);
    q = performance.now();
    const id = await inner.resolve(`userId:u${n}`);
    resolveMs.push(performance.now() - q);
    q = performance.now();
    await inner.load(id!);
    loadMs.push(performance.now() - q);
  }
  const queries = {
    select_1_p50_ms: quantile(pingMs, 0.5),
    resolve_p50_ms: quantile(resolveMs, 0.5),
    resolve_p99_ms: quantile(resolveMs, 0.99),
    load_p50_ms: quantile(loadMs, 0.5),
    load_p99_ms: quantile(loadMs, 0.99),
    serial_misses_per_s: Math.round(1000 / (quantile(resolveMs, 0.5) + quantile(loadMs, 0.5))),
  };
  await direct.close();
  console.log(`  a miss's queries alone (serial, API idle): SELECT 1 p50 ${queries.select_1_p50_ms} ms; resolve p50 ${queries.resolve_p50_ms} / p99 ${queries.resolve_p99_ms} ms; load p50 ${queries.load_p50_ms} / p99 ${queries.load_p99_ms} ms → at most ~${queries.serial_misses_per_s} misses/s through a front that runs one query at a time`);

  // The member export: streamed and counted here, never held (in this process or the API's).
  const exports: Record<string, unknown> = {};
  for (const [format, query] of [['ndjson', 'format=ndjson'], ['ndjson_no_identities', 'format=ndjson&identities=false'], ['csv', 'format=csv']] as const) {
    const rss0 = rssMiB(gateway.pid);
    t = performance.now();
    const res = await fetch(`${api}/v1/segments/${segment}/members?${query}`, { headers: { Authorization: auth } });
    let lines = 0;
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
    }
    const s = seconds(t);
    const members = format === 'csv' ? lines - 1 : lines;
    exports[format] = { status: res.status, members, seconds: s, members_per_s: Math.round(members / s), mib: +(bytes / 2 ** 20).toFixed(1), api_rss_before_mib: rss0, api_rss_after_mib: rssMiB(gateway.pid) };
    console.log(`  member export ${format.padEnd(21)} ${members.toLocaleString()} members in ${s} s → ${Math.round(members / s).toLocaleString()} members/s (${(bytes / 2 ** 20).toFixed(1)} MiB; API RSS ${rss0} → ${rssMiB(gateway.pid)} MiB)`);
  }

  // Freshness: identify a person, read them (now cached), identify again with a new trait, and
  // read until the API shows it — through the collector, Kafka, the pipeline, ClickHouse, the
  // profile-changes record and the cache.
  const post = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${collectorPort}/v1/identify`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`identify: ${res.status} ${await res.text()}`);
  };
  const plan = async (userId: string) => {
    const res = await fetch(`${api}/v1/profiles/${encodeURIComponent(`userId:${userId}`)}`, { headers: { Authorization: auth } });
    return res.status === 200 ? ((await res.json()) as { traits: Record<string, { value: unknown }> }).traits.plan?.value : undefined;
  };
  const fresh: number[] = [];
  const steps: Array<{ messageId: string; userId: string; sent: number; shown: number }> = [];
  const lag0 = await metrics();
  for (let i = 0; i < identifies; i++) {
    const userId = `fresh-${suffix}-${i}`;
    await post({ userId, traits: { plan: 'v0' } });
    await waitFor(`${userId} served`, async () => (await plan(userId)) === 'v0', 60_000);
    // Its first rebuild's record may still be on its way: let it land, so the entry read next stays cached.
    await sleep(500);
    await plan(userId);
    const messageId = `fresh-${suffix}-${i}-v1`;
    const sent = Date.now();
    const t0 = performance.now();
    await post({ messageId, userId, traits: { plan: 'v1' } });
    for (;;) {
      if ((await plan(userId)) === 'v1') break;
      if (performance.now() - t0 > 60_000) throw new Error(`${userId}: the new trait never showed`);
      await sleep(10);
    }
    fresh.push(performance.now() - t0);
    steps.push({ messageId, userId, sent, shown: Date.now() });
  }
  // Where it went: sent → event stored (collector, Kafka, pipeline batch) → its profile's rebuild
  // began (the rebuild interval) → the read showed it (rebuild queries, record, cache), one clock.
  const stored: number[] = [];
  const rebuilt: number[] = [];
  const shown: number[] = [];
  for (const st of steps) {
    const [event] = await w.query<{ ingested: string }>('SELECT toUnixTimestamp64Milli(min(ingested_at)) AS ingested FROM {db}.events WHERE message_id = {id:String}', { id: st.messageId });
    const [profile] = await w.query<{ rebuilt: string }>(
      'SELECT toUnixTimestamp64Milli(min(updated_at)) AS rebuilt FROM {db}.profiles WHERE has(identities, {identity:String}) AND toUnixTimestamp64Milli(updated_at) >= {ingested:Int64}',
      { identity: `userId:${st.userId}`, ingested: Number(event?.ingested ?? 0) },
    );
    const row = { ingested: event?.ingested ?? '0', rebuilt: profile?.rebuilt ?? '0' };
    if (!Number(row.ingested) || !Number(row.rebuilt)) continue;
    stored.push(Number(row.ingested) - st.sent);
    rebuilt.push(Number(row.rebuilt) - Number(row.ingested));
    shown.push(st.shown - Number(row.rebuilt));
  }
  const lag1 = await metrics();
  const freshness = {
    identifies,
    p50_ms: quantile(fresh, 0.5),
    max_ms: +Math.max(...fresh).toFixed(1),
    mean_change_record_lag_ms: lag1.lagCount > lag0.lagCount ? Math.round((1000 * (lag1.lagSum - lag0.lagSum)) / (lag1.lagCount - lag0.lagCount)) : null,
    median_ms: { sent_to_event_stored: quantile(stored, 0.5), stored_to_rebuild_began: quantile(rebuilt, 0.5), rebuild_began_to_read_shows_it: quantile(shown, 0.5) },
    pipeline_batch: config.pipelines[0]!.batch,
  };
  console.log(`  freshness after an identify (collector → read shows it), ${identifies} identifies: median ${freshness.p50_ms} ms, max ${freshness.max_ms} ms`);
  console.log(`    medians: sent → event stored ${freshness.median_ms.sent_to_event_stored} ms, → its profile's rebuild began ${freshness.median_ms.stored_to_rebuild_began} ms, → the read showed it ${freshness.median_ms.rebuild_began_to_read_shows_it} ms (rebuild began → record applied in the cache: mean ${freshness.mean_change_record_lag_ms} ms)`);

  const memory = { api_peak_mib: peakRssMiB(gateway.pid), pipeline_peak_mib: peakRssMiB(pipeline.pid), clickhouse_peak_mib: peakRssMiB(pids().clickhouse) };
  const report = {
    benchmark: 'api',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      clickhouse: 'chdb behind the stack\'s HTTP front, one query at a time',
      note: 'the API (`uspa api`), collector and pipeline each run as their own process; the load generator (this process), Kafka and ClickHouse share the same cores',
    },
    data: { profiles: P, identities: 2 * P, traits: 3 * P, events: T * EPP, timeline_profiles: T, segment_members: P, generate_seconds: { profiles: generateProfiles, events: generateEvents, segment: generateSegment } },
    parameters: { duration_s: duration, rate, miss_rate: missRate, timeline_rate: timelineRate, working_set: workingSet, cache_profiles: Number(process.env.USPA_API_CACHE_PROFILES) || 100_000 },
    profile_read: { cache_hit: hit, cache_miss: miss, cache_miss_sustained: missSustained },
    miss_queries_alone: queries,
    timeline: timeline,
    member_export: exports,
    freshness,
    peak_memory: memory,
    targets: { profile_read_p99_ms: 50, at_rate: 500, freshness_ms: 1000 },
  };
  const out = fileURLToPath(new URL('./results/api.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`bench: wrote ${out}`);
} finally {
  stopping = true;
  console.log(`process logs: ${dir}`);
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  if (nsCreated) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  if (!values.keep) await w.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
  await w.close();
  const admin = new Kafka({ clientId: 'uspa-bench-cleanup', brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
  if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
}
