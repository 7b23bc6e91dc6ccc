// The training activities run directly (a mock activity context, no workflow) on the real
// ClickHouse: DBSCAN personas — a dense niche and a dense group found, outliers written as the
// "noise" persona — and the offline quality every recommendations version carries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Warehouse, chTime, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { NOISE_CLUSTER, NOISE_PERSONA } from '../../lib/models/dbscan.ts';
import { createRng } from '../../lib/models/kmeans.ts';
import { MODEL_TABLES } from '../../api/tables/models.ts';
import { migrate } from '../../lib/schema.ts';
import { rebuildProfiles } from '../../workers/pipeline/profiles.ts';
import { createActivities, type ModelsActivities } from '../../workers/models/activities.ts';
import { unique } from '../support/env.ts';

type Group = 'niche' | 'browser' | 'odd';

/**
 * 89 profiles written as the pipeline writes them, then built by its profile builder:
 *   niche    25: 10 orders of ~200 (o1 + o2), 30 views of outdoor items o1–o4
 *   browser  60: no order, 3 views of home items h1–h3
 *   odd       4: each unlike anyone — 40 orders of 5, one order of 20,000, 300 views of toys, 15 orders of books
 */
async function loadFixture(w: Warehouse): Promise<Map<string, Group>> {
  const rng = createRng(17);
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const now = Date.now();
  const group = new Map<string, Group>();
  const events: object[] = [];
  const identities: object[] = [];
  let m = 0;
  const person = (pid: string, g: Group) => {
    group.set(pid, g);
    identities.push({ identity: `userId:${pid}`, profile_id: pid, first_seen: chTime(new Date(now - 40 * 86_400_000).toISOString()), version: 1 });
    return (name: string, properties: Record<string, unknown>, revenue = 0) => {
      const at = chTime(new Date(now - between(1, 20) * 86_400_000 - between(0, 86_000) * 1000).toISOString());
      events.push({ message_id: `m-${++m}`, source: 'web', type: 'track', event: name, timestamp: at, received_at: at, identity: `userId:${pid}`, user_id: pid, profile_id: pid, properties: JSON.stringify(properties), revenue });
    };
  };
  for (let i = 0; i < 25; i++) {
    const event = person(`niche-${i}`, 'niche');
    for (let o = 0; o < 10; o++) event('Order Completed', { revenue: 200, products: [{ product_id: 'o1' }, { product_id: 'o2' }] }, 195 + between(0, 10));
    for (let v = 0; v < 30; v++) event('Product Viewed', { product_id: `o${1 + (v % 4)}`, category: 'outdoor' });
  }
  for (let i = 0; i < 60; i++) {
    const event = person(`browser-${i}`, 'browser');
    for (let v = 0; v < 3; v++) event('Product Viewed', { product_id: `h${1 + ((v + i) % 3)}`, category: 'home' });
  }
  const odd = [
    (e: ReturnType<typeof person>) => Array.from({ length: 40 }, () => e('Order Completed', { revenue: 5, product_id: 'x1' }, 5)),
    (e: ReturnType<typeof person>) => e('Order Completed', { revenue: 20_000, product_id: 'x2' }, 20_000),
    (e: ReturnType<typeof person>) => Array.from({ length: 300 }, (_, v) => e('Product Viewed', { product_id: `t${v % 7}`, category: 'toys' })),
    (e: ReturnType<typeof person>) => Array.from({ length: 15 }, () => e('Order Completed', { revenue: 60, product_id: 'b1', category: 'books' }, 60)),
  ];
  odd.forEach((make, i) => make(person(`odd-${i}`, 'odd')));
  await w.insert('identities', identities);
  await w.insert('events', events);
  await rebuildProfiles(w, [...group.keys()]);
  return group;
}

describe('model training activities', { timeout: 180_000, concurrency: false }, () => {
  const database = `t_${unique('mtr').replace(/-/g, '_')}`;
  let w: Warehouse;
  let group: Map<string, Group>;
  let activities: ModelsActivities;
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => new MockActivityEnvironment().run(fn, ...args);

  before(async () => {
    w = new Warehouse({ ...clickhouseSettingsFromEnv(), database });
    await migrate(w, createLogger('test', 'warn'));
    for (const statement of MODEL_TABLES) await w.command(statement);
    group = await loadFixture(w);
    activities = createActivities({ warehouse: () => w, log: createLogger('test', 'warn') });
  });
  after(async () => {
    await w?.command('DROP DATABASE IF EXISTS {db}');
    await w?.close();
  });

  test('DBSCAN personas: the niche and the browsers are personas, each outlier is "noise"', async () => {
    const trained = await run(activities.trainPersonas, { database, version: 1, algorithm: 'dbscan', eps: 1, minPoints: 5 });
    assert.equal(trained.skipped, false, JSON.stringify(trained));
    if (trained.skipped) return;
    const q = trained.quality as { algorithm: string; k: number; noise: number; noiseShare: number; n: number; sizes: number[]; silhouette: number; clusters: Array<{ persona: string; size: number }> };
    assert.equal(q.algorithm, 'dbscan');
    assert.equal(q.n, 89);
    assert.equal(q.k, 2, JSON.stringify(q.clusters));
    assert.equal(q.noise, 4);
    assert.equal(q.noiseShare, 4 / 89);
    assert.deepEqual(q.sizes, [25, 60]);
    assert.ok(q.silhouette > 0.5, `silhouette ${q.silhouette}`);
    assert.deepEqual(q.clusters.at(-1), { persona: NOISE_PERSONA, rank: null, size: 4, share: 4 / 89, centroid: null });
    assert.equal((trained.params as { algorithm: string }).algorithm, 'dbscan');

    const rows = await w.query<{ profile_id: string; persona: string; cluster: number }>('SELECT profile_id, persona, cluster FROM {db}.profile_personas FINAL WHERE model_version = 1');
    assert.equal(rows.length, 89);
    const personas = new Map<Group, Set<string>>();
    for (const r of rows) {
      const g = group.get(r.profile_id)!;
      personas.set(g, (personas.get(g) ?? new Set()).add(r.persona));
      if (g === 'odd') assert.equal(Number(r.cluster), NOISE_CLUSTER);
    }
    assert.deepEqual(personas.get('odd'), new Set([NOISE_PERSONA]));
    assert.equal(personas.get('niche')!.size, 1);
    assert.match([...personas.get('niche')!][0]!, /^p1-high-value-.*outdoor$/);
    assert.equal(personas.get('browser')!.size, 1);
    assert.match([...personas.get('browser')!][0]!, /^p2-non-buyer.*-home$/);
  });

  test('DBSCAN with nothing dense is skipped; a bad algorithm or eps fails without retries', async () => {
    // The 60 browsers share one feature vector: 61 points within a tiny eps exist nowhere.
    const none = await run(activities.trainPersonas, { database, version: 2, algorithm: 'dbscan', eps: 0.0001, minPoints: 61 });
    assert.equal(none.skipped, true);
    assert.match(none.skipped ? none.reason : '', /no dense group/);
    const nonRetryable = (pattern: RegExp) => (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'InvalidModelInput' && pattern.test(err.message);
    await assert.rejects(run(activities.trainPersonas, { database, version: 2, algorithm: 'optics' as never }), nonRetryable(/algorithm must be one of kmeans, dbscan/));
    await assert.rejects(run(activities.trainPersonas, { database, version: 2, algorithm: 'dbscan', eps: -1 }), nonRetryable(/eps must be a number > 0/));
    // K-Means is still the default, and says so.
    const kmeans = await run(activities.trainPersonas, { database, version: 3, kRange: [2, 4] });
    assert.equal(kmeans.skipped, false);
    assert.equal(!kmeans.skipped && kmeans.quality.algorithm, 'kmeans');
  });

  test('recommendations carry their offline quality: a time split, model and popularity at 10', async () => {
    const trained = await run(activities.trainRecommendations, { database, version: 1, evaluation: { profiles: 1 } });
    assert.equal(trained.skipped, false);
    if (trained.skipped) return;
    const offline = trained.quality.offline as { split: { method: string; profiles: number }; k: number; evaluatedProfiles: number; model: { precision: number; recall: number; coverage: number }; popularity: { precision: number; recall: number; coverage: number } };
    assert.equal(offline.split.method, 'last-items-by-time');
    assert.equal(offline.split.profiles, 1);
    assert.equal(offline.k, 10);
    // Everyone with two distinct items: the 25 niche profiles, the 60 browsers, the toy viewer.
    assert.equal(offline.evaluatedProfiles, 86);
    for (const side of [offline.model, offline.popularity]) {
      assert.deepEqual(Object.keys(side).sort(), ['coverage', 'precision', 'recall']);
      for (const v of Object.values(side)) assert.ok(v >= 0 && v <= 1, JSON.stringify(side));
    }
    // Held-out items are other items of the same small group: the model finds them.
    assert.ok(offline.model.recall > 0.5, JSON.stringify(offline));
    const none = await run(activities.trainRecommendations, { database, version: 2, evaluation: false });
    assert.equal(!none.skipped && 'offline' in none.quality, false);
  });
});
