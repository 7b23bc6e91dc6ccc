// A real Temporal worker's /metrics, on the local stack's Temporal, ClickHouse and Kafka: the
// segments worker computes a Segment, and its page shows what the Segments dashboard and the
// worker alerts read — polling (uspa_worker_running), activity attempts and times, the Segment's
// size and published changes — only under names the static list of registrations holds; a worker
// whose Temporal worker stopped says so while its process still answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { taskQueue } from '../../api/names.ts';
import { eventually, unique } from '../support/env.ts';
import { startSegmentsHarness, type SegmentsHarness } from '../segments/harness.ts';
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

describe('a real worker /metrics', { timeout: 240_000 }, () => {
  const namespace = unique('obs');
  const compiled = compileSegment(parseRule({ trait: 'plan', op: 'eq', value: 'pro' }), { namespace });
  let h: SegmentsHarness;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${h.worker.port}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

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
    const text = await scrape();
    const page = samples(text);
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

    const exported = await exportedSeries();
    const names = new Set([...page.keys()].map((s) => s.replace(/\{.*$/, '')));
    assert.ok(names.size > 20);
    for (const name of names) assert.ok(exported.has(name), `${name} is on a real page but not in the list the dashboards are checked against`);
  });

  test('a worker whose Temporal worker stopped says so on a page that still answers', async () => {
    h.worker.worker.shutdown();
    await eventually('the worker stopped', async () => h.worker.worker.getState() === 'STOPPED', 30_000);
    const page = samples(await scrape());
    assert.equal(value(page, 'uspa_worker_running', { component: 'worker-segments', task_queue: taskQueue('segments', namespace) }), 0);
  });
});
