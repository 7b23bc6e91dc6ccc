// Real components' /metrics, on the local stack's Kafka, ClickHouse, Temporal and API server, under
// names the static list of registrations (what the dashboards and alerts are checked against)
// holds: the operator, whose per-Pipeline lag follows records waiting in the Source topic; the
// collector and a pipeline worker after events, good and bad, went through them (what the
// Ingestion and Pipeline dashboards and the ingestion alerts read); the segments worker after a
// Segment run — polling (uspa_worker_running), activity attempts and times, the Segment's size and
// published changes — and, once its Temporal worker stopped, saying so while its process answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Kafka, logLevel } from 'kafkajs';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { taskQueue } from '../../api/names.ts';
import { eventually, unique } from '../support/env.ts';
import { startSegmentsHarness, type SegmentsHarness } from '../segments/harness.ts';
import { startProduct, type Product } from '../support/product.ts';
import { startPipelines } from '../../workers/pipeline/main.ts';
import { LIMITS } from '../../collector/tracking-api.ts';
import { operatorHarness, type OperatorHarness } from '../support/operator.ts';
import { SOURCE_AND_PIPELINE } from '../support/manifests.ts';
import { exportedSeries } from './metrics.ts';

/** The samples of a Prometheus text page, as `name{labels}` → value (labels as exposed, sorted by prom-client). */
function samples(page: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of page.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** The value of the one sample of `name` whose labels include all of `labels`. */
function value(page: Map<string, number>, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const hits = [...page].filter(([series]) => series.startsWith(`${name}{`) && want.every((w) => series.includes(w)));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches ${hits.length} series`);
  return hits[0]?.[1];
}

async function scrape(port: number | string): Promise<Map<string, number>> {
  const res = await fetch(typeof port === 'number' ? `http://127.0.0.1:${port}/metrics` : `${port}/metrics`);
  assert.equal(res.status, 200);
  return samples(await res.text());
}

/** Names on a real page that the dashboards' list lacks. */
async function unlisted(page: Map<string, number>): Promise<string[]> {
  const exported = await exportedSeries();
  const names = new Set([...page.keys()].map((s) => s.replace(/\{.*$/, '')));
  assert.ok(names.size > 20, `only ${names.size} names on the page`);
  return [...names].filter((n) => !exported.has(n));
}

describe('the operator /metrics', { timeout: 240_000 }, () => {
  let h: OperatorHarness;
  before(async () => {
    h = await operatorHarness('obs-op');
    await h.startOperator();
  });
  after(async () => {
    await h?.close();
  });

  test('the leader, reconciles and a Pipeline\'s lag in events, labelled with its namespace', async () => {
    await h.apply(SOURCE_AND_PIPELINE);
    const pipeline = { component: 'operator', namespace: h.namespace, pipeline: 'main' };
    const port = h.operator!.port;
    await eventually('the lag of Pipeline main is read', async () => value(await scrape(port), 'uspa_operator_pipeline_lag_events', pipeline) === 0);
    const producer = new Kafka({ clientId: 'uspa-tests', brokers: h.settings.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: `${h.settings.topicPrefix}.${h.namespace}.events.web`, messages: Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, value: '{}' })) });
    await producer.disconnect();
    // The operator reads the consumer group's lag every 15 s; no worker runs here to consume them.
    await eventually('seven events wait', async () => value(await scrape(port), 'uspa_operator_pipeline_lag_events', pipeline) === 7, 60_000);
    const page = await scrape(port);
    assert.equal(value(page, 'uspa_operator_leader', { component: 'operator' }), 1);
    const reconciles = [...page].filter(([series]) => series.startsWith('uspa_operator_reconciles_total{') && series.includes('kind="Pipeline"'));
    assert.ok(reconciles.some(([series, n]) => !series.includes('result="error"') && n >= 1), JSON.stringify(reconciles));
    assert.equal(value(page, 'uspa_operator_pipeline_stalled', pipeline), 0);
    assert.deepEqual(await unlisted(page), []);
  });
});

describe('the collector and a pipeline worker /metrics', { timeout: 240_000 }, () => {
  let product: Product;
  let pipelines: Awaited<ReturnType<typeof startPipelines>>;
  before(async () => {
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }], withPipeline: false });
    pipelines = await startPipelines({ configPath: product.configPath, port: 0, env: product.env });
  });
  after(async () => {
    await pipelines?.close();
    await product?.close();
  });

  test('events accepted, refused and written show under the names the dashboards read', async () => {
    const source = product.sources.web!.name;
    const ids = [unique('m'), unique('m')];
    assert.equal((await product.post('/v1/track', { userId: 'u-1', event: 'Signed Up', messageId: ids[0] })).status, 200);
    const batch = await product.post('/v1/batch', { batch: [{ type: 'track', userId: 'u-2', event: 'Paid', messageId: ids[1] }, { type: 'track', userId: 'u-3' }] });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    assert.equal((await product.post('/v1/track', { userId: 'u-1', event: 'x' }, 'not-a-write-key')).status, 401);
    // Refused by the body reader, before the route's handler runs: still counted under its route.
    assert.equal((await product.post('/v1/t', JSON.stringify({ userId: 'u-1', event: 'x', properties: { pad: 'x'.repeat(LIMITS.batchBytes + 2048) } }))).status, 413);
    await product.waitForEvents(ids);

    const collector = await scrape(product.url);
    const c = { component: 'collector' };
    assert.equal(value(collector, 'uspa_collector_requests_total', { ...c, route: 'track', status: '200' }), 1);
    assert.equal(value(collector, 'uspa_collector_requests_total', { ...c, route: 'track', status: '401' }), 1);
    assert.equal(value(collector, 'uspa_collector_requests_total', { ...c, route: 'track', status: '413' }), 1);
    assert.equal(value(collector, 'uspa_collector_requests_total', { ...c, route: 'unknown' }), undefined, 'every request here had a route');
    assert.equal(value(collector, 'uspa_collector_events_accepted_total', { ...c, source, type: 'track' }), 2);
    assert.equal(value(collector, 'uspa_collector_events_dead_lettered_total', { ...c, source, reason: 'invalid_event' }), 1);
    assert.equal(value(collector, 'uspa_collector_request_seconds_count', { ...c, route: 'batch' }), 1);
    assert.deepEqual(await unlisted(collector), []);

    const pipeline = await scrape(pipelines.port);
    const p = { component: 'pipeline', pipeline: (parse(readFileSync(product.configPath, 'utf8')) as { pipelines: { name: string }[] }).pipelines[0]!.name };
    await eventually('the pipeline counted both events', async () => value(await scrape(pipelines.port), 'uspa_pipeline_events_written_total', p) === 2, 30_000);
    assert.ok((value(pipeline, 'uspa_pipeline_flush_seconds_count', p) ?? 0) >= 1);
    assert.equal(value(pipeline, 'uspa_pipeline_stalled', p), 0);
    assert.deepEqual(await unlisted(pipeline), []);
  });
});

describe('a real worker /metrics', { timeout: 240_000 }, () => {
  const namespace = unique('obs');
  const compiled = compileSegment(parseRule({ trait: 'plan', op: 'eq', value: 'pro' }), { namespace });
  let h: SegmentsHarness;

  before(async () => {
    h = await startSegmentsHarness(namespace);
  });
  after(async () => {
    await h?.close();
  });

  test('a Segment computation shows on the segments worker page, under exported names only', async () => {
    await h.profiles([['p1', { plan: 'pro' }], ['p2', { plan: 'pro' }], ['p3', { plan: 'free' }]]);
    const r = await h.run({ segment: 'pro', key: `${namespace}/pro`, sql: compiled.sql, params: compiled.params });
    assert.deepEqual(r, { version: 1, size: 2, entered: 2, exited: 0 });
    const page = await scrape(h.worker.port);
    const worker = { component: 'worker-segments' };
    assert.equal(value(page, 'uspa_worker_running', { ...worker, task_queue: taskQueue('segments', namespace) }), 1);
    assert.equal(value(page, 'uspa_segments_members', { ...worker, segment: 'pro' }), 2);
    assert.equal(value(page, 'uspa_segments_changes_published_total', { ...worker, segment: 'pro', change: 'entered' }), 2);
    for (const activity of ['nextVersion', 'materialize', 'commitVersion', 'pruneVersions']) {
      assert.equal(value(page, 'uspa_worker_activities_total', { ...worker, activity, result: 'completed' }), 1, activity);
      assert.equal(value(page, 'uspa_worker_activity_seconds_count', { ...worker, activity }), 1, activity);
    }
    const computedAt = value(page, 'uspa_segments_last_computed_timestamp_seconds', { ...worker, segment: 'pro' })!;
    assert.ok(Math.abs(computedAt - Date.now() / 1000) < 60, `computed at ${computedAt}`);
    assert.deepEqual(await unlisted(page), []);
  });

  test('a worker whose Temporal worker stopped says so on a page that still answers', async () => {
    h.worker.worker.shutdown();
    await eventually('the worker stopped', async () => h.worker.worker.getState() === 'STOPPED', 30_000);
    const page = await scrape(h.worker.port);
    assert.equal(value(page, 'uspa_worker_running', { component: 'worker-segments', task_queue: taskQueue('segments', namespace) }), 0);
  });
});
