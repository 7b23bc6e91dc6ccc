// npm run bench:decide [-- --profiles 1000000 --placements 10 --rate 1000 --duration 30 --identifies 20 --catalog 5000]
// The decision API (POST /v1/decisions) under load. Loads a fresh database with P profiles
// (identities, traits, interests, event counts, revenue), a batch Segment version holding about a
// tenth of them and a product catalog (INSERT … SELECT FROM numbers()), creates Personalization
// resources using every kind of rule (trait, interest, Segment, profile field, none; a split with a
// holdout; recommendations), runs the collector, the pipeline and the API (`uspa api`) each as its
// own process as the operator would, and loads the API from this process with autocannon:
//   (a) a fixed rate over a warm working set (profiles in the cache),
//   (c) as many decisions as it answers over that set (closed loop),
//   (b) the same fixed rate over all P profiles (mostly cache misses: the cold path),
// then how soon a decision changes after an identify sent through the collector and the pipeline.
// (b) runs last: the profile loads it queues in ClickHouse outlast it. Prints the figures and writes
// test/bench/results/decide.json.
//
// Every decision produces exposure events. By default (--exposures pipeline) the pipeline ingests
// them as in production (they are stored and touch no profile); with --exposures aside they go to a
// Source whose Pipeline this run does not start, so the figures are those of the decision path alone.
// Before the phases the API loads every profile into memory for decisions (the time is reported);
// (b) then measures the whole population from memory, not cache misses.
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
import { DEFAULT_CACHE_PROFILES } from '../../gateway/profiles/cache.ts';
import { createRng } from '../../lib/models/kmeans.ts';
import { Warehouse, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { segmentKey } from '../../lib/segments/rules.ts';
import { status } from '../../stack/stack.ts';
import { installCrds, kubeConfig } from '../support/operator.ts';
import { cpuSeconds, peakRssMiB, rssMiB } from './proc.ts';

const { values } = parseArgs({
  options: {
    profiles: { type: 'string', default: '1000000' },
    placements: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '30' },
    identifies: { type: 'string', default: '20' },
    catalog: { type: 'string', default: '5000' },
    // The warm set is filled through the API at the speed of its cache misses, and cached profiles
    // expire 10 minutes after they are loaded: the set must fill in a few minutes.
    'working-set': { type: 'string', default: '5000' },
    'warm-concurrency': { type: 'string', default: '8' },
    connections: { type: 'string', default: '100' },
    'max-connections': { type: 'string', default: '32' },
    'max-duration': { type: 'string', default: '15' },
    'cache-profiles': { type: 'string' },
    exposures: { type: 'string', default: 'pipeline' },
    'warm-reads': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const integer = (flag: string, text: string | undefined, min: number): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag}: expected an integer ≥ ${min} (got ${text})`);
  return n;
};
const P = integer('profiles', values.profiles, 1);
const placementCount = integer('placements', values.placements, 1);
const rate = integer('rate', values.rate, 1);
const duration = integer('duration', values.duration, 1);
const identifies = integer('identifies', values.identifies, 0);
const C = integer('catalog', values.catalog, 0);
const W = Math.min(P, integer('working-set', values['working-set'], 1));
const warmConcurrency = integer('warm-concurrency', values['warm-concurrency'], 1);
const connections = integer('connections', values.connections, 1);
const maxConnections = integer('max-connections', values['max-connections'], 1);
const maxDuration = integer('max-duration', values['max-duration'], 1);
const exposures = values.exposures;
if (exposures !== 'aside' && exposures !== 'pipeline') throw new Error(`--exposures: aside or pipeline (got ${exposures})`);

// ---- The generated population (deterministic from the profile's number n) ----
const INTERESTS = ['running', 'shoes', 'trail', 'yoga', 'cycling', 'swimming', 'hiking', 'camping', 'tennis', 'golf', 'fitness', 'outdoor', 'kids', 'women', 'men', 'sale', 'new', 'premium', 'eco', 'accessories'];
const CATEGORIES = INTERESTS.map((k) => k[0]!.toUpperCase() + k.slice(1));
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'IN', 'BR'];
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Linus'];
const PRO_PERCENT = 30;
/** Every USER_ID_EVERY-th profile also has a userId (u-<n>) besides its anonymousId (a-<n>). */
const USER_ID_EVERY = 4;
/** About one profile in VIP_EVERY is a member of the batch Segment. */
const VIP_EVERY = 10;
const SEGMENT = 'bench-vip';
const CHUNK = 250_000;

const sqlList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
const hash = (n: string, salt: number) => `cityHash64(toUInt64(${n}), ${salt})`;
const pick = (list: readonly string[], n: string, salt: number) => `arrayElement(${sqlList(list)}, ${hash(n, salt)} % ${list.length} + 1)`;
const planSql = (n: string) => `if(${hash(n, 1)} % 100 < ${PRO_PERCENT}, 'pro', 'free')`;
const countrySql = (n: string) => pick(COUNTRIES, n, 2);
const nameSql = (n: string) => `concat(${pick(FIRST_NAMES, n, 3)}, ' ', toString(${n}))`;
/** 1–3 distinct interest keys (positions i, i+7, i+13 of 20) with shares 0–0.999. */
const interestsSql = (n: string) => {
  const k = INTERESTS.length;
  const first = `${hash(n, 10)} % ${k}`;
  const keys = [0, 7, 13].map((offset) => `arrayElement(${sqlList(INTERESTS)}, (${first} + ${offset}) % ${k} + 1)`);
  const shares = [12, 13, 14].map((salt) => `round((${hash(n, salt)} % 1000) / 1000, 3)`);
  const length = `1 + ${hash(n, 11)} % 3`;
  return `mapFromArrays(arraySlice([${keys.join(', ')}], 1, ${length}), arraySlice([${shares.join(', ')}], 1, ${length}))`;
};

// ---- The Personalization resources ----
type Rule = Record<string, unknown>;
interface VariantSpec {
  name: string;
  rule?: Rule;
  content: string;
  weight?: number;
}
interface PlacementSpec {
  name: string;
  role: 'hero' | 'split' | 'recommendations' | 'mixed';
  spec: {
    description: string;
    strategy?: 'firstMatch' | 'split';
    holdoutPercent?: number;
    variants: VariantSpec[];
    fallback: { content: string };
    recommendations?: Record<string, unknown>;
  };
}
const BASE_NAMES = ['home-hero', 'promo-split', 'pdp-recs', 'cart-recs', 'nav-promo', 'footer-offer', 'search-hint', 'category-hero', 'checkout-note', 'newsletter'];
const GREETING = '{{ traits.name | default: "there" }}';
const RECS_LIST = '<ul>{% for r in recommendations %}<li><a href="{{ r.url }}"><img src="{{ r.image }}" alt="">{{ r.title }}</a> {{ r.price }} {{ r.currency }}</li>{% endfor %}</ul>';
const PRO: Rule = { trait: 'plan', op: 'eq', value: 'pro' };
const VIP: Rule = { segment: SEGMENT };
const country = (value: string): Rule => ({ trait: 'country', op: 'eq', value });
const interest = (key: string, value: number): Rule => ({ interest: key, op: 'gte', value });
const spender = (value: number): Rule => ({ profile: 'lifetime_revenue', op: 'gte', value });
/** The variant freshness waits for: the hero's first, {trait: plan, op: eq, value: pro}. */
const FRESH_VARIANT = 'pro';

function placementSpecs(count: number, catalogItems: number): PlacementSpec[] {
  const out: PlacementSpec[] = [];
  for (let i = 0; i < count; i++) {
    const key = INTERESTS[i % INTERESTS.length]!;
    const other = INTERESTS[(i + 5) % INTERESTS.length]!;
    const base = BASE_NAMES[i % BASE_NAMES.length]!;
    const name = i < BASE_NAMES.length ? base : `${base}-${Math.floor(i / BASE_NAMES.length)}`;
    const fallback = { content: '<p>Our bestsellers</p>' };
    if (i === 0) {
      out.push({
        name,
        role: 'hero',
        spec: {
          description: 'firstMatch over a trait, an interest, a Segment, a profile field, and a default',
          variants: [
            { name: FRESH_VARIANT, rule: PRO, content: `<h1>Welcome back, ${GREETING}</h1><p>Your Pro benefits in {{ traits.country | default: "your country" }}</p>` },
            { name: `${key}-fan`, rule: interest(key, 0.5), content: `<h1>New in ${key}, ${GREETING}</h1><p>{{ interests.${key} | times: 100 | round }}% of what you looked at lately</p>` },
            { name: 'vip', rule: VIP, content: `<h1>Early access, ${GREETING}</h1>{% if segments contains "${SEGMENT}" %}<p>members only</p>{% endif %}` },
            { name: 'big-spender', rule: spender(1500), content: `<h1>Thank you, ${GREETING}</h1>` },
            { name: 'default', content: `<h1>Hello ${GREETING}</h1>` },
          ],
          fallback,
        },
      });
    } else if (i === 1) {
      out.push({
        name,
        role: 'split',
        spec: {
          description: 'an A/B split with a 10% holdout',
          strategy: 'split',
          holdoutPercent: 10,
          variants: [
            { name: 'a', weight: 1, content: `<div class="banner">Spring sale, ${GREETING}</div>` },
            { name: 'b', weight: 1, content: `<div class="banner">Free shipping this week, ${GREETING}</div>` },
            { name: 'pro-offer', weight: 2, rule: PRO, content: `<div class="banner">Pro members: 20% off, ${GREETING}</div>` },
          ],
          fallback,
        },
      });
    } else if (i === 2) {
      out.push({
        name,
        role: 'recommendations',
        spec: {
          description: 'four recommended items, premium boosted, sale items left out',
          variants: [
            { name: `${key}-picks`, rule: interest(key, 0.3), content: `<h3>${key} picks for ${GREETING}</h3>${RECS_LIST}` },
            { name: 'spender-picks', rule: spender(1000), content: `<h3>Premium picks for ${GREETING}</h3>${RECS_LIST}` },
            { name: 'default', content: `<h3>Recommended for you</h3>${RECS_LIST}` },
          ],
          fallback: { content: '' },
          recommendations: { count: 4, boost: [{ tag: 'premium', factor: 1.5 }], excludeTags: ['sale'] },
        },
      });
    } else if (i === 3) {
      out.push({
        name,
        role: 'recommendations',
        spec: {
          description: 'four recommended items, accessories buried, one item pinned first',
          variants: [
            { name: 'vip', rule: VIP, content: `<h3>For our members, ${GREETING}</h3>${RECS_LIST}` },
            { name: 'de', rule: country('DE'), content: `<h3>Beliebt in Deutschland</h3>${RECS_LIST}` },
            { name: 'pro', rule: PRO, content: `<h3>Pro picks, ${GREETING}</h3>${RECS_LIST}` },
            { name: 'default', content: `<h3>You may also like</h3>${RECS_LIST}` },
          ],
          fallback: { content: '' },
          recommendations: { count: 4, bury: [{ category: 'Accessories', factor: 0.5 }], ...(catalogItems > 0 ? { pin: [{ item: 'sku-0', position: 1 }] } : {}) },
        },
      });
    } else {
      const pool: VariantSpec[] = [
        { name: 'de', rule: country('DE'), content: `<p>Angebot für ${GREETING}</p>` },
        { name: `${key}-fan`, rule: interest(key, 0.4), content: `<p>More ${key} for ${GREETING}</p>` },
        { name: 'vip', rule: VIP, content: `<p>Members' corner, ${GREETING}</p>` },
        { name: 'spender', rule: spender(1000), content: `<p>Free returns for ${GREETING}</p>` },
        { name: 'pro', rule: PRO, content: `<p>Pro tip for ${GREETING} in {{ traits.country }}</p>` },
        { name: `pro-${other}`, rule: { all: [PRO, interest(other, 0.2)] }, content: `<p>${other} for Pro members, ${GREETING}</p>` },
      ];
      const ruled = 2 + (i % 3); // 3–5 variants with the default
      const variants = Array.from({ length: ruled }, (_, j) => pool[(i + j) % pool.length]!);
      variants.push({ name: 'default', content: `<p>Hello ${GREETING}</p>` });
      out.push({ name, role: 'mixed', spec: { description: `${variants.length} variants, firstMatch`, variants, fallback } });
    }
  }
  return out;
}

// ---- Request bodies: made before a phase starts, so the load generator only sends ----

const specs = placementSpecs(placementCount, C);
const names = specs.map((s) => s.name);
const recsNames = specs.filter((s) => s.role === 'recommendations').map((s) => s.name);
const hero = names[0]!;
const MAX_PER_REQUEST = 10;
const chunks = <T>(xs: T[], size: number): T[][] => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

/** A pool of request bodies for visitors drawn by `visitor`, cycled when a phase needs more. */
function bodies(count: number, seed: number, visitor: (rnd: () => number) => number): () => string {
  const rnd = createRng(seed);
  const pool = Array.from({ length: count }, () => {
    const n = visitor(rnd);
    const k = 1 + Math.floor(rnd() * Math.min(3, names.length));
    const chosen = new Set<string>();
    while (chosen.size < k) chosen.add(names[Math.floor(rnd() * names.length)]!);
    const identity = n % USER_ID_EVERY === 0 && rnd() < 0.5 ? `userId:u-${n}` : `anonymousId:a-${n}`;
    const withItem = C > 0 && [...chosen].some((p) => recsNames.includes(p)) && rnd() < 0.5;
    return JSON.stringify({ identity, placements: [...chosen], context: { page: { path: `/page/${Math.floor(rnd() * 100)}` }, ...(withItem ? { item: `sku-${Math.floor(rnd() * C)}` } : {}) } });
  });
  let next = 0;
  return () => pool[next++ % pool.length]!;
}

// ---- The run's names, configuration and processes ----
const suffix = Date.now().toString(36);
const namespace = `bench-decide-${suffix}`;
const database = `bench_decide_${suffix}`;
const prefix = `bench-decide-${suffix}`;
const writeKey = randomBytes(18).toString('base64url');
const web = `web-${suffix}`;
const pipelineName = `p-${suffix}`;
const aside = `exposures-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'uspa-bench-decide-'));
const configPath = join(dir, 'uspa.yaml');
// The API sends exposures to the first Source of the first Pipeline. Aside: that is a Source of its
// own whose Pipeline is not started (USPA_PIPELINE below), so its topic only fills.
const batch = { maxEvents: 5000, maxWaitMs: 100, profileIntervalMs: 200 };
const config = {
  sources: [...(exposures === 'aside' ? [{ name: aside, type: 'server', writeKey: randomBytes(18).toString('base64url') }] : []), { name: web, type: 'server', writeKey }],
  pipelines: [
    ...(exposures === 'aside' ? [{ name: aside, sources: [aside] }] : []),
    // The freshness floor is the Pipeline's batch wait plus its profile rebuild interval.
    { name: pipelineName, sources: [web], batch },
  ],
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
  return s.length ? +s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1) : null;
};
const share = (part: number, whole: number) => (whole > 0 ? +(part / whole).toFixed(4) : null);
const percent = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)} %`);
const load = () => loadavg().map((x) => +x.toFixed(2));

// The profile cache holds every profile when the memory allows: a cached document with its
// identity entries is assumed to take at most 4 KiB of the API's heap (the run measures it below).
const BYTES_PER_CACHED_PROFILE = 4096;
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const wantedCache = values['cache-profiles'] !== undefined ? integer('cache-profiles', values['cache-profiles'], 1) : P;
const heapNeeded = wantedCache * BYTES_PER_CACHED_PROFILE + GiB;
const cacheFits = values['cache-profiles'] !== undefined || heapNeeded <= 0.4 * totalmem();
const cacheProfiles = cacheFits ? wantedCache : Math.max(DEFAULT_CACHE_PROFILES, Math.floor((0.4 * totalmem() - GiB) / BYTES_PER_CACHED_PROFILE));
const apiHeapMiB = Math.max(4096, Math.ceil((cacheProfiles * BYTES_PER_CACHED_PROFILE + GiB) / MiB));

let stopping = false;
function start(name: string, args: string[], extra: Record<string, string>): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, args, { env: { ...env, ...extra }, stdio: ['ignore', log, log] });
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited during the benchmark (code ${code}, signal ${signal}); its log: ${join(dir, `${name}.log`)}`);
  });
  return child;
}
/** SIGTERM, and SIGKILL if it has not exited 15 s later. */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
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

/** Logs `label: done / total` at most every 5 s, with the rate and what is left. */
function progress(label: string, total: number): (done: number) => void {
  const t0 = performance.now();
  let last = t0;
  return (done) => {
    const now = performance.now();
    if (now - last < 5000 && done < total) return;
    last = now;
    const perSecond = done / Math.max(0.001, (now - t0) / 1000);
    const left = perSecond > 0 && done < total ? `, about ${Math.round((total - done) / perSecond)} s left` : '';
    console.log(`    ${label}: ${done.toLocaleString()} / ${total.toLocaleString()} (${Math.round(perSecond).toLocaleString()}/s${left})`);
  };
}

/** One INSERT … SELECT FROM numbers({from}, {count}) per chunk of rows, with progress. */
async function generate(label: string, rows: number, sql: string): Promise<number> {
  const t0 = performance.now();
  const say = progress(label, rows);
  for (let from = 0; from < rows; from += CHUNK) {
    const count = Math.min(CHUNK, rows - from);
    await w.command(sql, { from, count });
    say(from + count);
  }
  return seconds(t0);
}

// ---- What the processes' /metrics say ----
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
class Scrape {
  constructor(readonly samples: Sample[]) {}
  sum(name: string, where: Record<string, string> = {}): number {
    return this.samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
  }
  /** Values by one label's value. */
  by(name: string, label: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.samples) if (s.name === name && s.labels[label] !== undefined) out.set(s.labels[label]!, (out.get(s.labels[label]!) ?? 0) + s.value);
    return out;
  }
  /** A histogram's cumulative buckets (le → count). */
  buckets(name: string, where: Record<string, string> = {}): Map<string, number> {
    return new Map(this.samples.filter((s) => s.name === `${name}_bucket` && Object.entries(where).every(([k, v]) => s.labels[k] === v)).map((s) => [s.labels.le!, s.value]));
  }
}
const scrape = async (url: string) => new Scrape(parseMetrics(await (await fetch(`${url}/metrics`)).text()));
const apiMetrics = () => scrape(api);
const pipelineMetrics = () => scrape(`http://127.0.0.1:${pipelinePort}`).catch(() => new Scrape([]));
/** A quantile from the delta of two cumulative bucket sets: the upper bound of the bucket it falls in. */
function serverQuantile(before: Map<string, number>, after: Map<string, number>, q: number): string {
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  if (total <= 0) return 'n/a';
  const les = [...after.keys()].sort((a, b) => (a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b)));
  for (const le of les) if (after.get(le)! - (before.get(le) ?? 0) >= q * total) return le === '+Inf' ? 'above the last bucket' : `≤ ${+(Number(le) * 1000).toFixed(1)} ms`;
  return 'n/a';
}
/** What grew between two scrapes, by label value. */
function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

interface DecisionAnswer {
  decisionId: string;
  personalized: boolean;
  placements: Record<string, { variant: string | null; content: string | null; fallback: boolean; reason: string }>;
}

const children: ChildProcess[] = [];
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
let nsCreated = false;
const loadAtStart = load();
try {
  console.log(`bench: ${P.toLocaleString()} profiles, ${specs.length} placements, ${C.toLocaleString()} catalog items into ${database}, namespace ${namespace}`);
  console.log(`  machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / GiB)} GiB, load average ${loadAtStart.join(' / ')} (1 / 5 / 15 min)`);
  console.log(`  profile cache of the API: ${cacheProfiles.toLocaleString()} profiles (USPA_API_CACHE_PROFILES; its default is ${DEFAULT_CACHE_PROFILES.toLocaleString()}), API heap limit ${apiHeapMiB.toLocaleString()} MiB` +
    (cacheFits ? '' : ` — ${P.toLocaleString()} would need about ${Math.round(heapNeeded / GiB)} GiB at ${BYTES_PER_CACHED_PROFILE / 1024} KiB each, more than 40 % of this machine's memory`));
  console.log(`  exposures: ${exposures === 'aside' ? `to Source ${aside}, whose Pipeline is not started (the pipeline ingests only the identifies)` : `to Source ${web}, ingested by the pipeline as in production (stored; they touch no profile)`}`);
  await migrate(w, createLogger('bench', 'warn'));
  // The pipeline starts on the empty database: its restart recovery would otherwise rebuild every generated profile.
  const pipeline = start('pipeline', ['--import', 'tsx', entry('../../workers/pipeline/main.ts')], { PORT: String(pipelinePort), USPA_PIPELINE: pipelineName });
  const collector = start('collector', ['--import', 'tsx', entry('../../collector/main.ts')], { PORT: String(collectorPort), HOST: '127.0.0.1' });
  children.push(pipeline, collector);
  await waitFor('the collector', async () => (await fetch(`http://127.0.0.1:${collectorPort}/readyz`)).ok);
  await waitFor('the pipeline', async () => (await fetch(`http://127.0.0.1:${pipelinePort}/readyz`)).ok);

  // ---- 1. The data ----
  const userIds = Math.ceil(P / USER_ID_EVERY);
  const generated: Record<string, number> = {};
  generated.identities = await generate('identities (anonymousId)', P, `INSERT INTO {db}.identities (identity, profile_id, first_seen, version)
    SELECT concat('anonymousId:a-', toString(number)), concat('p-', toString(number)), now64(3) - toIntervalDay(number % 365), 1
    FROM numbers({from:UInt64}, {count:UInt64})`);
  generated.identities += await generate('identities (userId, every 4th profile)', P, `INSERT INTO {db}.identities (identity, profile_id, first_seen, version)
    SELECT concat('userId:u-', toString(number)), concat('p-', toString(number)), now64(3) - toIntervalDay(number % 365), 1
    FROM numbers({from:UInt64}, {count:UInt64}) WHERE number % ${USER_ID_EVERY} = 0`);
  generated.profiles = await generate('profiles', P, `INSERT INTO {db}.profiles (profile_id, identities, traits, first_seen, last_seen, event_count, event_counts,
      lifetime_revenue, order_count, rfm_recency, rfm_frequency, rfm_monetary, interests)
    SELECT concat('p-', toString(number)),
      if(number % ${USER_ID_EVERY} = 0, [concat('userId:u-', toString(number)), concat('anonymousId:a-', toString(number))], [concat('anonymousId:a-', toString(number))]),
      concat('{"plan":"', ${planSql('number')}, '","country":"', ${countrySql('number')}, '","name":"', ${nameSql('number')}, '"}'),
      now64(3) - toIntervalDay(number % 365), now64(3) - toIntervalHour(number % 720),
      views + products + orders, mapFilter((k, v) -> v > 0, map('Page Viewed', views, 'Product Viewed', products, 'Order Completed', orders)),
      revenue, orders, 1 + number % 5, 1 + intDiv(number, 5) % 5, 1 + intDiv(number, 25) % 5, ${interestsSql('number')}
    FROM (SELECT number, toUInt64(${hash('number', 6)} % 40) AS views, toUInt64(${hash('number', 7)} % 15) AS products,
            toUInt64(${hash('number', 8)} % 7) AS orders, if(orders = 0, 0, round((${hash('number', 4)} % 200000) / 100, 2)) AS revenue
          FROM numbers({from:UInt64}, {count:UInt64}))`);
  // What the API serves as traits: the newest value per identity and trait (the profile row's JSON is the pipeline's copy).
  generated.traits = await generate('identity traits (plan, country, name)', 3 * P, `INSERT INTO {db}.identity_traits (identity, trait, value, event_time, message_id)
    SELECT concat('anonymousId:a-', toString(n)), ['plan', 'country', 'name'][number % 3 + 1],
      concat('"', multiIf(number % 3 = 0, ${planSql('n')}, number % 3 = 1, ${countrySql('n')}, ${nameSql('n')}), '"'),
      now64(3) - toIntervalDay(n % 30), concat('t-', toString(n))
    FROM (SELECT number, intDiv(number, 3) AS n FROM numbers({from:UInt64}, {count:UInt64}))`);
  const key = segmentKey(namespace, SEGMENT);
  generated.segment = await generate(`members of Segment ${SEGMENT}`, P, `INSERT INTO {db}.segment_members (segment, version, profile_id)
    SELECT '${key}', 1, concat('p-', toString(number)) FROM numbers({from:UInt64}, {count:UInt64}) WHERE ${hash('number', 5)} % ${VIP_EVERY} = 0`);
  const [members] = await w.query<{ n: string }>('SELECT count() AS n FROM {db}.segment_members WHERE segment = {key:String} AND version = 1', { key });
  const segmentSize = Number(members?.n ?? 0);
  await w.command('INSERT INTO {db}.segment_versions (segment, version, size, computed_at, query) VALUES ({key:String}, 1, {n:UInt64}, now64(3), \'\')', { key, n: segmentSize });
  let t = performance.now();
  if (C > 0) {
    await w.command(`INSERT INTO {db}.catalog_items (id, title, category, price, currency, tags, url, image, available, attributes, origin, updated_at)
      SELECT concat('sku-', toString(number)), concat(arrayElement(${sqlList(CATEGORIES)}, c1 + 1), ' item ', toString(number)),
        [arrayElement(${sqlList(CATEGORIES)}, c0 + 1), arrayElement(${sqlList(CATEGORIES)}, c1 + 1)],
        round(5 + (${hash('number', 32)} % 20000) / 100, 2), 'USD',
        arraySlice([arrayElement(${sqlList(INTERESTS)}, t0 + 1), arrayElement(${sqlList(INTERESTS)}, (t0 + 9) % ${INTERESTS.length} + 1), arrayElement(${sqlList(INTERESTS)}, (t0 + 14) % ${INTERESTS.length} + 1)], 1, 1 + ${hash('number', 34)} % 3),
        concat('/p/sku-', toString(number)), concat('/img/sku-', toString(number), '.jpg'), if(${hash('number', 35)} % 20 = 0, 0, 1), '{"brand":"Bench"}', 'bench', now64(3)
      FROM (SELECT number, ${hash('number', 30)} % ${INTERESTS.length} AS c0, (c0 + 1 + ${hash('number', 31)} % ${INTERESTS.length - 1}) % ${INTERESTS.length} AS c1,
              ${hash('number', 33)} % ${INTERESTS.length} AS t0 FROM numbers({c:UInt64}))`, { c: C });
  }
  generated.catalog = seconds(t);
  console.log(`  generated ${P.toLocaleString()} profiles (${(P + userIds).toLocaleString()} identities, ${(3 * P).toLocaleString()} traits, 1–3 of ${INTERESTS.length} interests each), a Segment version of ${segmentSize.toLocaleString()} members and ${C.toLocaleString()} catalog items in ${Object.values(generated).reduce((a, b) => a + b, 0).toFixed(1)} s`);

  // ---- 2. The resources ----
  await installCrds();
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  nsCreated = true;
  const group = { group: 'uspa.tech', version: 'v1alpha1', namespace };
  // No Segment resource: decisions read memberships from segment_versions / segment_members, written
  // above as the segments worker would have written a batch Segment's version.
  for (const s of specs) await custom.createNamespacedCustomObject({ ...group, plural: 'personalizations', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Personalization', metadata: { name: s.name }, spec: s.spec } });
  // As the operator issues it: the API gets only the hash, in the status.
  const apiKey = generateApiKey();
  const hash256 = apiKeyHash(apiKey);
  await custom.createNamespacedCustomObject({ ...group, plural: 'apikeys', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'ApiKey', metadata: { name: 'bench' }, spec: { role: 'marketer', rateLimit: { requestsPerSecond: 10_000, burst: 100_000 } } } });
  await custom.patchNamespacedCustomObjectStatus({ ...group, plural: 'apikeys', name: 'bench', body: [{ op: 'add', path: '/status', value: { keyHash: hash256, keyId: apiKeyId(hash256), secretName: 'uspa-apikey-bench', keyCreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } }] }, { headers: { 'Content-Type': 'application/json-patch+json' } } as never);
  const auth = `Bearer ${apiKey}`;

  // ---- 3. The API ----
  t = performance.now();
  const gateway = start('api', [entry('../../bin/uspa.js'), 'api'], {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    USPA_API_CACHE_PROFILES: String(cacheProfiles),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${apiHeapMiB}`.trim(),
  });
  children.push(gateway);
  const decide = async (identity: string, placements: string[]): Promise<DecisionAnswer | undefined> => {
    const res = await fetch(`${api}/v1/decisions`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth }, body: JSON.stringify({ identity, placements }) });
    if (res.status !== 200) {
      await res.arrayBuffer();
      return undefined;
    }
    return (await res.json()) as DecisionAnswer;
  };
  await waitFor('the API to be ready (/readyz)', async () => (await fetch(`${api}/readyz`)).ok, 180_000);
  await waitFor('the API to know every placement', async () => {
    for (const part of chunks(names, MAX_PER_REQUEST)) {
      const d = await decide('anonymousId:bench-probe', part);
      if (!d || Object.values(d.placements).some((p) => p.reason === 'unknown placement')) return false;
    }
    return true;
  });
  const invalid: string[] = [];
  for (const part of chunks(names, MAX_PER_REQUEST)) {
    const d = await decide('anonymousId:bench-probe', part);
    for (const [name, p] of Object.entries(d?.placements ?? {})) if (p.reason === 'invalid placement') invalid.push(name);
  }
  if (invalid.length) throw new Error(`the API refused placements ${invalid.join(', ')} (see their status.workers); logs in ${dir}`);
  const apiReady = seconds(t);
  // Every profile into the API's memory for decisions (until then they read through the profile cache).
  const tw = performance.now();
  let lastShown = 0;
  await waitFor('the API to hold every profile in memory', async () => {
    const m = await apiMetrics();
    const loaded = m.sum('uspa_api_decision_profiles');
    if (Date.now() - lastShown > 5_000) {
      lastShown = Date.now();
      console.log(`    decision profiles in memory: ${loaded.toLocaleString()} / ${P.toLocaleString()} (${seconds(tw)} s)`);
    }
    return m.sum('uspa_api_decision_profiles_ready') === 1;
  }, 900_000);
  const warmLoad = seconds(tw);
  console.log(`  every profile in the API's memory for decisions in ${warmLoad} s`);
  const apiRssAtStart = rssMiB(gateway.pid);
  console.log(`  API (uspa api, its own process, pid ${gateway.pid}) ready with ${specs.length} placements in ${apiReady} s; collector pid ${collector.pid}, pipeline pid ${pipeline.pid}`);

  const pids = () => ({
    api: gateway.pid,
    collector: collector.pid,
    pipeline: pipeline.pid,
    clickhouse: status().state?.engines.clickhouse?.processes[0]?.pid,
    kafka: status().state?.engines.kafka?.processes[0]?.pid,
    'load generator': process.pid,
  });
  const [version] = await w.query<{ v: string }>('SELECT version() AS v');

  // The working set: spread over the million, each read once through the API (which awaits the
  // load, unlike a decision past its budget), then decided once in the recommendation placements
  // so that each visitor's recommendation signals are cached too.
  const warm = Array.from({ length: W }, (_, i) => Math.floor((i * P) / W));
  const probeIdentity = `anonymousId:a-${warm[0]}`;
  const warmUp = async (label: string) => {
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    let failed = 0;
    const say = progress(`${label}: profiles read`, warm.length);
    // Decisions read every profile from memory already; the profile cache matters only with --warm-reads.
    if (values['warm-reads']) await Promise.all(Array.from({ length: warmConcurrency }, async () => {
      while (next < warm.length) {
        const n = warm[next++]!;
        const res = await fetch(`${api}/v1/profiles/${encodeURIComponent(`anonymousId:a-${n}`)}`, { headers: { Authorization: auth } }).catch(() => undefined);
        if (res?.status !== 200) failed++;
        await res?.arrayBuffer().catch(() => undefined);
        say(++done);
      }
    }));
    const profilesSeconds = seconds(t0);
    const t1 = performance.now();
    let unsettled = 0;
    if (recsNames.length) {
      next = 0;
      done = 0;
      const say2 = progress(`${label}: recommendation signals`, warm.length);
      await Promise.all(Array.from({ length: Math.min(4, warmConcurrency) }, async () => {
        while (next < warm.length) {
          const n = warm[next++]!;
          let ok = false;
          // Past its budget a decision answers with the fallback while the load goes on: ask again until it is decided.
          for (let attempt = 0; attempt < 20 && !ok; attempt++) {
            const d = await decide(`anonymousId:a-${n}`, recsNames).catch(() => undefined);
            ok = d !== undefined && Object.values(d.placements).every((p) => p.reason !== 'budget' && p.reason !== 'profile unavailable');
            if (!ok) await sleep(50);
          }
          if (!ok) unsettled++;
          say2(++done);
        }
      }));
    }
    const out = { profiles: W, seconds: seconds(t0), profile_reads_s: profilesSeconds, profile_reads_per_s: Math.round(W / Math.max(0.001, profilesSeconds)), profile_reads_failed: failed, recommendation_pass_s: seconds(t1), recommendation_not_settled: unsettled };
    console.log(`  ${label}: ${W.toLocaleString()} profiles in ${out.seconds} s (reads ${out.profile_reads_s} s, ${out.profile_reads_per_s}/s, ${failed} failed; recommendation signals ${out.recommendation_pass_s} s, ${unsettled} not settled)`);
    return out;
  };

  // What a phase waits for before it starts: with exposures ingested, the pipeline's backlog as well.
  const SETTLE_MS = exposures === 'pipeline' ? 900_000 : 120_000;
  /** Until what an earlier phase left queued has drained (SELECT 1 and a warm decision are quick again, the pipeline has caught up). */
  const settle = async (limitMs: number): Promise<{ seconds: number; settled: boolean }> => {
    const t0 = performance.now();
    let said = t0;
    while (performance.now() - t0 < limitMs) {
      let q = performance.now();
      const pinged = await w.query('SELECT 1 AS one').then(() => true, () => false);
      const ping = performance.now() - q;
      q = performance.now();
      const d = await decide(probeIdentity, [hero]).catch(() => undefined);
      const decided = performance.now() - q;
      let caughtUp = true;
      if (exposures === 'pipeline') {
        const [a, p] = [await apiMetrics(), await pipelineMetrics()];
        const reasons = a.by('uspa_api_decisions_total', 'reason');
        // No exposure is recorded for these: no placement, no consent, or no profile read in time.
        const unexposed = new Set(['unknown placement', 'invalid placement', 'suspended', 'no consent', 'budget', 'profile unavailable']);
        const exposed = [...reasons].filter(([r]) => !unexposed.has(r)).reduce((n, [, v]) => n + v, 0) - a.sum('uspa_api_exposures_lost_total');
        caughtUp = p.sum('uspa_pipeline_events_written_total') + 10 >= exposed && p.sum('uspa_pipeline_profiles_pending') === 0;
      }
      if (pinged && ping < 100 && d && decided < 100 && caughtUp) return { seconds: seconds(t0), settled: true };
      if (performance.now() - said > 15_000) {
        said = performance.now();
        console.log(`    waiting for ClickHouse, the API${exposures === 'pipeline' ? ' and the pipeline' : ''} to settle (${seconds(t0)} s; SELECT 1 ${Math.round(ping)} ms, a warm decision ${Math.round(decided)} ms${caughtUp ? '' : ', the pipeline behind'})`);
      }
      await sleep(1000);
    }
    return { seconds: seconds(t0), settled: false };
  };

  /** One autocannon phase over the bodies next() gives, with what the API and the pipeline say of it. */
  const phase = async (label: string, next: () => string, opts: { rate?: number; connections: number; seconds: number; visitors: string }) => {
    const settled = await settle(SETTLE_MS);
    const before = await apiMetrics();
    const pBefore = await pipelineMetrics();
    const cpu0 = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const started = Date.now();
    const ticker = setInterval(() => console.log(`    ${label}: ${Math.round((Date.now() - started) / 1000)} / ${opts.seconds} s`), 10_000);
    let r: autocannon.Result;
    try {
      r = await autocannon({
        url: api,
        connections: opts.connections,
        duration: opts.seconds,
        ...(opts.rate ? { overallRate: opts.rate } : {}),
        requests: [{ method: 'POST', path: '/v1/decisions', headers: { 'content-type': 'application/json', authorization: auth }, setupRequest: (req) => ({ ...req, body: next() }) }],
      });
    } finally {
      clearInterval(ticker);
    }
    const wall = (Date.now() - started) / 1000;
    const after = await apiMetrics();
    const pAfter = await pipelineMetrics();
    const cpu = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, Math.round((100 * (cpuSeconds(pid) - (cpu0[k] ?? 0))) / wall)]));
    const reasons = delta(before.by('uspa_api_decisions_total', 'reason'), after.by('uspa_api_decisions_total', 'reason'));
    const decided = Object.values(reasons).reduce((n, v) => n + v, 0);
    const lookups = (cache: string) => {
      const hits = after.sum('uspa_api_profile_cache_hits_total', { cache }) - before.sum('uspa_api_profile_cache_hits_total', { cache });
      const misses = after.sum('uspa_api_profile_cache_misses_total', { cache }) - before.sum('uspa_api_profile_cache_misses_total', { cache });
      return share(hits, hits + misses);
    };
    const request = (s: Scrape) => s.buckets('uspa_api_request_seconds', { operation: 'decide' });
    const decision = (s: Scrape) => s.buckets('uspa_api_decision_seconds');
    const out = {
      visitors: opts.visitors,
      target_rate: opts.rate ?? null,
      connections: opts.connections,
      duration_s: opts.seconds,
      achieved_rate: Math.round(r.requests.average),
      requests: r.requests.total,
      p50_ms: r.latency.p50,
      p90_ms: r.latency.p90,
      p99_ms: r.latency.p99,
      max_ms: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      placements_decided: decided,
      placements_per_request: r.requests.total ? +(decided / r.requests.total).toFixed(2) : null,
      reasons,
      budget_share: share(reasons.budget ?? 0, decided),
      profile_unavailable_share: share(reasons['profile unavailable'] ?? 0, decided),
      profile_cache_hit_ratio: lookups('profile'),
      identity_cache_hit_ratio: lookups('identity'),
      in_the_api: {
        request_p50: serverQuantile(request(before), request(after), 0.5),
        request_p99: serverQuantile(request(before), request(after), 0.99),
        decision_p50: serverQuantile(decision(before), decision(after), 0.5),
        decision_p99: serverQuantile(decision(before), decision(after), 0.99),
        // prom-client resets the event loop delay histogram at each scrape: this covers the phase.
        event_loop_delay_p99_ms: Math.round(1000 * after.sum('nodejs_eventloop_lag_p99_seconds')),
      },
      cache_evictions: delta(before.by('uspa_api_profile_cache_evictions_total', 'reason'), after.by('uspa_api_profile_cache_evictions_total', 'reason')),
      change_records_applied: after.sum('uspa_api_profile_cache_changes_total') - before.sum('uspa_api_profile_cache_changes_total'),
      exposures_lost: after.sum('uspa_api_exposures_lost_total') - before.sum('uspa_api_exposures_lost_total'),
      pipeline: {
        events_written: pAfter.sum('uspa_pipeline_events_written_total') - pBefore.sum('uspa_pipeline_events_written_total'),
        profiles_rebuilt: pAfter.sum('uspa_pipeline_profiles_rebuilt_total') - pBefore.sum('uspa_pipeline_profiles_rebuilt_total'),
      },
      waited_to_settle_before_s: settled.seconds,
      settled_before: settled.settled,
      load_average_1m: +loadavg()[0]!.toFixed(2),
      cpu_percent_of_one_core: cpu,
    };
    console.log(`  ${label.padEnd(34)} ${String(out.achieved_rate).padStart(5)} req/s (target ${opts.rate ?? 'max'}), p50 ${out.p50_ms} ms, p90 ${out.p90_ms} ms, p99 ${out.p99_ms} ms, max ${out.max_ms} ms, non-2xx ${out.non2xx}, errors ${out.errors}`);
    console.log(`  ${''.padEnd(34)} ${decided.toLocaleString()} placements decided: budget ${percent(out.budget_share)}, profile unavailable ${percent(out.profile_unavailable_share)}; profile cache hit ratio ${percent(out.profile_cache_hit_ratio)}; reasons ${JSON.stringify(reasons)}`);
    console.log(`  ${''.padEnd(34)} in the API: request p50 ${out.in_the_api.request_p50}, p99 ${out.in_the_api.request_p99}; decision p99 ${out.in_the_api.decision_p99}; event loop delay p99 ${out.in_the_api.event_loop_delay_p99_ms} ms; load average ${out.load_average_1m}`);
    console.log(`  ${''.padEnd(34)} cpu % api ${cpu.api}, clickhouse ${cpu.clickhouse}, kafka ${cpu.kafka}, pipeline ${cpu.pipeline}, collector ${cpu.collector}, load generator ${cpu['load generator']}; pipeline wrote ${out.pipeline.events_written} events, rebuilt ${out.pipeline.profiles_rebuilt} profiles; cache evictions ${JSON.stringify(out.cache_evictions)}`);
    if (!settled.settled) console.log(`  ${''.padEnd(34)} (started before what the previous phase left had drained: ${settled.seconds} s waited)`);
    return out;
  };

  // ---- 4. Load ----
  const warming = await warmUp('warming the working set');
  const afterWarm = await apiMetrics();
  const cachedProfiles = afterWarm.sum('uspa_api_profile_cache_entries', { cache: 'profile' });
  const apiRssWarm = rssMiB(gateway.pid);
  const perProfileKiB = cachedProfiles > 0 ? +(((apiRssWarm - apiRssAtStart) * 1024) / cachedProfiles).toFixed(1) : null;
  console.log(`  profile cache: ${cachedProfiles.toLocaleString()} profiles cached; API RSS ${apiRssAtStart} → ${apiRssWarm} MiB (≈ ${perProfileKiB} KiB of RSS per cached profile, measured)`);

  const fixedCount = Math.min(200_000, Math.ceil(rate * duration * 1.1));
  const warmVisitor = (rnd: () => number) => warm[Math.floor(rnd() * warm.length)]!;
  const warmFixed = await phase(`(a) warm set of ${W.toLocaleString()}, fixed rate`, bodies(fixedCount, 1, warmVisitor), { rate, connections, seconds: duration, visitors: `warm set of ${W}` });
  // Entries loaded more than 10 minutes ago have expired: read the set again (hits are quick).
  const topUp = await warmUp('topping up the working set');
  const warmMax = await phase(`(c) warm set, max (${maxConnections} connections)`, bodies(100_000, 3, warmVisitor), { connections: maxConnections, seconds: maxDuration, visitors: `warm set of ${W}` });

  // ---- 5. Freshness: an identify through the collector, until a decision shows its trait ----
  const beforeFreshness = await settle(SETTLE_MS);
  const identify = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${collectorPort}/v1/identify`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`identify: ${res.status} ${await res.text()}`);
  };
  const fresh: number[] = [];
  const polls: number[] = [];
  const firstVariants: Record<string, number> = {};
  let notShown = 0;
  const steps: Array<{ messageId: string; identity: string; sent: number; shown: number }> = [];
  for (let i = 0; i < identifies; i++) {
    const anonymousId = `fresh-${suffix}-${i}`;
    const identity = `anonymousId:${anonymousId}`;
    const first = await decide(identity, [hero]);
    const was = first?.placements[hero]?.variant ?? `(${first?.placements[hero]?.reason ?? 'no answer'})`;
    firstVariants[was] = (firstVariants[was] ?? 0) + 1;
    const messageId = `fresh-${suffix}-${i}`;
    const sent = Date.now();
    const t0 = performance.now();
    await identify({ messageId, anonymousId, traits: { plan: 'pro', name: `Fresh ${i}` } });
    let n = 0;
    let shown = false;
    while (performance.now() - t0 < 60_000) {
      n++;
      if ((await decide(identity, [hero]).catch(() => undefined))?.placements[hero]?.variant === FRESH_VARIANT) {
        shown = true;
        break;
      }
      await sleep(25);
    }
    if (!shown) {
      notShown++;
      continue;
    }
    fresh.push(performance.now() - t0);
    polls.push(n);
    steps.push({ messageId, identity, sent, shown: Date.now() });
  }
  // Where it went: sent → event stored (collector, Kafka, pipeline batch) → its profile rebuilt → the decision showed it, one clock.
  const stored: number[] = [];
  const rebuilt: number[] = [];
  const shownAfter: number[] = [];
  for (const st of steps) {
    const [event] = await w.query<{ ingested: string }>('SELECT toUnixTimestamp64Milli(min(ingested_at)) AS ingested FROM {db}.events WHERE message_id = {id:String}', { id: st.messageId });
    const [profile] = await w.query<{ rebuilt: string }>(
      'SELECT toUnixTimestamp64Milli(min(updated_at)) AS rebuilt FROM {db}.profiles WHERE has(identities, {identity:String}) AND toUnixTimestamp64Milli(updated_at) >= {ingested:Int64}',
      { identity: st.identity, ingested: Number(event?.ingested ?? 0) },
    );
    if (!Number(event?.ingested) || !Number(profile?.rebuilt)) continue;
    stored.push(Number(event!.ingested) - st.sent);
    rebuilt.push(Number(profile!.rebuilt) - Number(event!.ingested));
    shownAfter.push(st.shown - Number(profile!.rebuilt));
  }
  const freshness = {
    identifies,
    shown: fresh.length,
    not_shown_within_60_s: notShown,
    variant_before_the_identify: firstVariants,
    p50_ms: quantile(fresh, 0.5),
    p90_ms: quantile(fresh, 0.9),
    max_ms: fresh.length ? +Math.max(...fresh).toFixed(1) : null,
    median_decisions_polled: quantile(polls, 0.5),
    median_ms: { sent_to_event_stored: quantile(stored, 0.5), stored_to_profile_rebuilt: quantile(rebuilt, 0.5), rebuilt_to_decision_shows_it: quantile(shownAfter, 0.5) },
    poll_interval_ms: 25,
    waited_to_settle_before_s: beforeFreshness.seconds,
    settled_before: beforeFreshness.settled,
    pipeline_batch: batch,
  };
  console.log(`  freshness, identify → decision shows variant "${FRESH_VARIANT}" of ${hero} (${identifies} new visitors, first decision gave ${JSON.stringify(firstVariants)}): p50 ${freshness.p50_ms} ms, p90 ${freshness.p90_ms} ms, max ${freshness.max_ms} ms; ${notShown} not shown within 60 s`);
  console.log(`    medians: sent → event stored ${freshness.median_ms.sent_to_event_stored} ms, → profile rebuilt ${freshness.median_ms.stored_to_profile_rebuilt} ms, → the decision showed it ${freshness.median_ms.rebuilt_to_decision_shows_it} ms (polled every 25 ms)`);

  // ---- 4b. The cold path, last: the loads it queues outlast it ----
  const coldVisitor = (rnd: () => number) => Math.floor(rnd() * P);
  const cold = await phase(`(b) uniform over ${P.toLocaleString()}, fixed rate`, bodies(fixedCount, 2, coldVisitor), { rate, connections, seconds: duration, visitors: `uniform over ${P}` });
  const coldAfter = await settle(300_000);
  console.log(`  after (b): ${coldAfter.settled ? `settled in ${coldAfter.seconds} s` : `not settled after ${coldAfter.seconds} s`} (profile loads queued behind ClickHouse)`);

  const memory = { api_peak_mib: peakRssMiB(gateway.pid), collector_peak_mib: peakRssMiB(collector.pid), pipeline_peak_mib: peakRssMiB(pipeline.pid), clickhouse_peak_mib: peakRssMiB(pids().clickhouse), kafka_peak_mib: peakRssMiB(pids().kafka) };
  const loadAtEnd = load();
  const row = (label: string, p: typeof warmFixed) =>
    `  ${label.padEnd(34)} ${`${p.achieved_rate}/s`.padStart(8)} ${`${p.p50_ms}`.padStart(7)} ${`${p.p90_ms}`.padStart(7)} ${`${p.p99_ms}`.padStart(7)} ${`${p.max_ms}`.padStart(7)} ${String(p.non2xx).padStart(8)} ${percent(p.budget_share).padStart(8)} ${percent(p.profile_unavailable_share).padStart(12)} ${percent(p.profile_cache_hit_ratio).padStart(9)}`;
  console.log('');
  console.log(`summary (measured; ${cpus().length} cores, ${Math.round(totalmem() / GiB)} GiB, load average 1 min ${loadAtStart[0]} at start, ${loadAtEnd[0]} at the end; the load generator shares the cores)`);
  console.log(`  ${'phase'.padEnd(34)} ${'rate'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p90 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'non-2xx'.padStart(8)} ${'budget'.padStart(8)} ${'unavailable'.padStart(12)} ${'hit ratio'.padStart(9)}`);
  console.log(row(`(a) warm set, target ${rate}/s`, warmFixed));
  console.log(row(`(b) uniform over P, target ${rate}/s`, cold));
  console.log(row(`(c) warm set, closed loop (${maxConnections} conn)`, warmMax));
  console.log(`  freshness identify → decision: p50 ${freshness.p50_ms} ms, p90 ${freshness.p90_ms} ms, max ${freshness.max_ms} ms (${fresh.length} of ${identifies} shown; target ≤ 1000 ms)`);
  console.log(`  profile cache ${cacheProfiles.toLocaleString()} profiles (set for this run), ${cachedProfiles.toLocaleString()} cached after warming; peak RSS api ${memory.api_peak_mib} MiB, pipeline ${memory.pipeline_peak_mib} MiB, clickhouse ${memory.clickhouse_peak_mib} MiB`);

  const report = {
    benchmark: 'decide',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / GiB),
      load_average_at_start: loadAtStart,
      load_average_at_end: loadAtEnd,
      node: process.version,
      clickhouse_version: version?.v ?? null,
      note: 'the API (`uspa api`), collector and pipeline each run as their own process; the load generator (this process, autocannon), Kafka and ClickHouse share the same cores',
    },
    data: {
      profiles: P,
      identities: P + userIds,
      identity_traits: 3 * P,
      interest_keys: INTERESTS.length,
      segment: { name: SEGMENT, members: segmentSize },
      catalog_items: C,
      generate_seconds: generated,
    },
    parameters: {
      placements: specs.length,
      rate,
      duration_s: duration,
      connections,
      max_connections: maxConnections,
      max_duration_s: maxDuration,
      working_set: W,
      identifies,
      exposures,
      cache_profiles: cacheProfiles,
      cache_profiles_default: DEFAULT_CACHE_PROFILES,
      api_heap_limit_mib: apiHeapMiB,
      placements_per_request: '1–3, uniformly over the placements',
    },
    placements: specs.map((s) => ({ name: s.name, role: s.role, strategy: s.spec.strategy ?? 'firstMatch', variants: s.spec.variants.map((v) => v.name), holdout_percent: s.spec.holdoutPercent ?? 0, recommendations: (s.spec.recommendations?.count as number | undefined) ?? 0, budget_ms: 'default (50)' })),
    api_ready_s: apiReady,
    decision_profiles_load_s: warmLoad,
    warm_up: { first: warming, top_up: topUp, cached_profiles: cachedProfiles, api_rss_mib: { at_start: apiRssAtStart, after_warming: apiRssWarm }, rss_kib_per_cached_profile: perProfileKiB },
    decisions: { warm_fixed_rate: warmFixed, cold_fixed_rate: cold, warm_max_throughput: warmMax },
    after_cold: coldAfter,
    freshness,
    peak_memory: memory,
    targets: { freshness_ms: 1000 },
  };
  const out = fileURLToPath(new URL('./results/decide.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`bench: wrote ${out}`);
} finally {
  stopping = true;
  console.log(`process logs: ${dir}`);
  await Promise.all(children.map(stop));
  if (values.keep) console.log(`kept: database ${database}, namespace ${namespace}`);
  else {
    if (nsCreated) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await w.command('DROP DATABASE IF EXISTS {db}').catch(() => undefined);
  }
  await w.close();
  try {
    const admin = new Kafka({ clientId: 'uspa-bench-cleanup', brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
    if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
  } catch (err) {
    console.error(`could not delete the run's topics (${prefix}.*): ${(err as Error).message}`);
  }
}
