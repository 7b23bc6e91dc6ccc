// Model retraining on the Temporal dev server against the real ClickHouse: personas chosen by
// silhouette on three behaviour groups, the persona trait usable by segments and kept by the
// profile builder, item-to-item and per-profile recommendations, idempotent re-runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { Warehouse, chTime, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { createRng } from '../../lib/models/kmeans.ts';
import { profilePersona, profileRecommendations, itemRecommendations, readVersions } from '../../lib/models/store.ts';
import { MODEL_TABLES } from '../../api/tables/models.ts';
import { migrate } from '../../lib/schema.ts';
import { compileSegment } from '../../lib/segments/compile.ts';
import { parseRule } from '../../lib/segments/rules.ts';
import { rebuildProfiles } from '../../workers/pipeline/profiles.ts';
import { WORKFLOWS_PATH, startModelsWorker, type ModelsWorker } from '../../workers/models/main.ts';
import type { PersonasOutcome, RetrainRecommendationsResult } from '../../api/workflows/models.ts';
import { retrainPersonas, retrainRecommendations } from '../../workflows/models.ts';
import { required, unique } from '../support/env.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

type Group = 'vip' | 'casual' | 'browser';

interface Fixture {
  group: Map<string, Group>;
  bought: Map<string, Set<string>>;
  viewed: Map<string, Set<string>>;
  named: Set<string>;
}

/**
 * 200 profiles in three behaviour groups, written as the pipeline writes them (events, identities,
 * identity traits), then built by the pipeline's own profile builder:
 *   vip      60: 8–12 orders of 150–300 (e1 + e2, a third of them once e3 too), 20–30 views of electronics e1–e4
 *   casual   80: 1–2 orders of 20–45 (f1 + f2 given by sku), 4–8 views of fashion f1–f4
 *   browser  60: no order, 2–5 views of home items h1–h3
 * Every fourth profile also has an anonymous identity carrying part of its events.
 */
async function loadFixture(w: Warehouse): Promise<Fixture> {
  const rng = createRng(11);
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const now = Date.now();
  const fixture: Fixture = { group: new Map(), bought: new Map(), viewed: new Map(), named: new Set() };
  const events: object[] = [];
  const identities: object[] = [];
  const traits: object[] = [];
  let m = 0;
  const groups: Array<[Group, number]> = [['vip', 60], ['casual', 80], ['browser', 60]];
  for (const [g, count] of groups) {
    for (let i = 0; i < count; i++) {
      const pid = `${g}-${String(i).padStart(3, '0')}`;
      fixture.group.set(pid, g);
      fixture.bought.set(pid, new Set());
      fixture.viewed.set(pid, new Set());
      const ids = [`userId:${pid}`];
      if (i % 4 === 0) ids.push(`anonymousId:anon-${pid}`);
      ids.forEach((identity, j) => identities.push({ identity, profile_id: pid, first_seen: chTime(new Date(now - 40 * 86_400_000 + j).toISOString()), version: 1 }));
      if (i % 5 === 0) {
        traits.push({ identity: ids[0], trait: 'first_name', value: JSON.stringify(`Name ${pid}`), event_time: chTime(new Date(now - 30 * 86_400_000).toISOString()), message_id: `t-${pid}` });
        fixture.named.add(pid);
      }
      const event = (name: string, properties: Record<string, unknown>, revenue = 0) => {
        const at = chTime(new Date(now - between(1, 20) * 86_400_000 - between(0, 86_000) * 1000).toISOString());
        events.push({ message_id: `m-${++m}`, source: 'web', type: 'track', event: name, timestamp: at, received_at: at, identity: ids[m % ids.length], user_id: pid, profile_id: pid, properties: JSON.stringify(properties), revenue });
      };
      const view = (item: string, category: string) => {
        fixture.viewed.get(pid)!.add(item);
        event('Product Viewed', { product_id: item, category });
      };
      const order = (items: Array<{ product_id?: string; sku?: string }>, revenue: number) => {
        for (const it of items) fixture.bought.get(pid)!.add((it.product_id ?? it.sku)!);
        event('Order Completed', { revenue, products: items }, revenue);
      };
      if (g === 'vip') {
        const orders = between(8, 12);
        for (let o = 0; o < orders; o++) order(i % 3 === 0 && o === 0 ? [{ product_id: 'e1' }, { product_id: 'e2' }, { product_id: 'e3' }] : [{ product_id: 'e1' }, { product_id: 'e2' }], between(150, 300));
        const views = between(20, 30);
        for (let v = 0; v < views; v++) view(['e1', 'e2', 'e3', 'e4'][v % (i % 2 === 0 ? 4 : 3)]!, 'electronics');
      } else if (g === 'casual') {
        const orders = between(1, 2);
        for (let o = 0; o < orders; o++) order([{ product_id: 'f1' }, { sku: 'f2' }], between(20, 45));
        const views = between(4, 8);
        for (let v = 0; v < views; v++) view(['f1', 'f2', 'f3', 'f4'][v % (i % 2 === 0 ? 4 : 2)]!, 'fashion');
      } else {
        const views = between(2, 5);
        for (let v = 0; v < views; v++) view(['h1', 'h2', 'h3'][v % (i % 3 === 0 ? 3 : 2)]!, 'home');
      }
    }
  }
  await w.insert('identities', identities);
  await w.insert('identity_traits', traits);
  await w.insert('events', events);
  await rebuildProfiles(w, [...fixture.group.keys()]);
  return fixture;
}

describe('model retraining', { timeout: 300_000, concurrency: false }, () => {
  const namespace = unique('mdl');
  const database = `t_${namespace.replace(/-/g, '_')}`;
  const env = { ...process.env, USPA_DATABASE: database, LOG_LEVEL: 'warn' };
  let w: Warehouse;
  let worker: ModelsWorker;
  let connection: Connection;
  let client: Client;
  let fixture: Fixture;
  let personas: PersonasOutcome;
  let personaOfGroup: Map<Group, string>;

  const count = async (sql: string, params: Record<string, unknown> = {}) => Number((await w.query<{ n: string }>(sql, params))[0]!.n);
  const currentProfiles = async () => {
    const rows = await w.query<{ profile_id: string; traits: string }>('SELECT profile_id, traits FROM {db}.profiles FINAL WHERE deleted = 0 ORDER BY profile_id');
    return new Map(rows.map((r) => [r.profile_id, JSON.parse(r.traits) as Record<string, unknown>]));
  };
  const personasRun = (run?: string, extra: Record<string, unknown> = {}) =>
    client.workflow.execute(retrainPersonas, { taskQueue: worker.taskQueue, workflowId: unique('personas'), args: [{ namespace, database, kRange: [2, 6], run, revision: 'cfg-1', ...extra }] }) as Promise<PersonasOutcome>;
  const recommendationsRun = (run: string) =>
    client.workflow.execute(retrainRecommendations, { taskQueue: worker.taskQueue, workflowId: unique('recs'), args: [{ namespace, database, topN: 5, run }] });

  before(async () => {
    required('TEMPORAL_ADDRESS');
    w = new Warehouse({ ...clickhouseSettingsFromEnv(env), database });
    await migrate(w, createLogger('test', 'warn'));
    for (const statement of MODEL_TABLES) await w.command(statement);
    fixture = await loadFixture(w);
    worker = await startModelsWorker({ namespace, env, port: 0, log: createLogger('worker-models', 'warn') });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  after(async () => {
    await worker?.close();
    await connection?.close();
    await w?.command('DROP DATABASE IF EXISTS {db}');
    await w?.close();
  });

  test('fixture: 200 profiles built by the pipeline profile builder', async () => {
    const profiles = await currentProfiles();
    assert.equal(profiles.size, 200);
    const [vip] = await w.query<{ order_count: string; rfm_monetary: number }>("SELECT order_count, rfm_monetary FROM {db}.profiles FINAL WHERE profile_id = 'vip-000'");
    assert.ok(Number(vip!.order_count) >= 8, JSON.stringify(vip));
    assert.equal(vip!.rfm_monetary, 5, JSON.stringify(vip));
  });

  test('retrainPersonas: three personas chosen by silhouette, a version with its quality figures, one persona per group', async () => {
    personas = await personasRun('r1');
    assert.equal(personas.version, 1);
    assert.equal(personas.trained, true);
    assert.equal(personas.k, 3, JSON.stringify(personas));
    assert.equal(personas.n, 200);
    assert.deepEqual(personas.personas.map((p) => p.size).sort((a, b) => a - b), [60, 60, 80]);
    assert.deepEqual(personas.traits, { profiles: 200, traitsWritten: 250, profilesUpdated: 200, profilesDeferred: 0 });

    const [version] = await readVersions(w, 'personas');
    assert.equal(version!.version, 1);
    assert.equal(version!.run, 'r1');
    assert.equal(version!.revision, 'cfg-1');
    const q = version!.quality as { k: number; silhouette: number; inertia: number; n: number; candidates: Array<{ k: number; silhouette: number }>; clusters: Array<{ persona: string; size: number; rank: number }> };
    assert.equal(q.k, 3);
    assert.equal(q.n, 200);
    assert.ok(q.silhouette > 0.5, `silhouette ${q.silhouette}`);
    assert.ok(q.inertia > 0);
    assert.deepEqual(q.candidates.map((c) => c.k), [2, 3, 4, 5, 6]);
    assert.equal(Math.max(...q.candidates.map((c) => c.silhouette)), q.candidates.find((c) => c.k === 3)!.silhouette);
    assert.deepEqual(q.clusters.map((c) => c.rank), [1, 2, 3]);
    assert.deepEqual((version!.params as { categories: string[] }).categories.sort(), ['electronics', 'fashion', 'home']);
    assert.equal((version!.artifact as { centroids: number[][] }).centroids.length, 3);

    const profiles = await currentProfiles();
    personaOfGroup = new Map();
    for (const [pid, traits] of profiles) {
      const g = fixture.group.get(pid)!;
      assert.equal(typeof traits.persona, 'string', `${pid} has a persona`);
      const seen = personaOfGroup.get(g);
      if (seen) assert.equal(traits.persona, seen, `${pid} is in its group's persona`);
      else personaOfGroup.set(g, traits.persona as string);
      if (fixture.named.has(pid)) assert.equal(traits.first_name, `Name ${pid}`, 'other traits are kept');
    }
    assert.equal(new Set(personaOfGroup.values()).size, 3);
    assert.equal(personaOfGroup.get('vip'), 'p1-high-value-frequent-electronics');
    assert.match(personaOfGroup.get('casual')!, /^p2-low-value.*-fashion$/);
    assert.match(personaOfGroup.get('browser')!, /^p3-non-buyer.*-home$/);
    const stored = await profilePersona(w, 'vip-001');
    assert.equal(stored?.persona, personaOfGroup.get('vip'));
    assert.equal(stored?.version, 1);
    assert.ok(stored.distance >= 0 && stored.distance < 3, `distance ${stored.distance}`);
  });

  test('a segment on the persona trait selects exactly one group', async () => {
    for (const [g, persona] of personaOfGroup) {
      const compiled = compileSegment(parseRule({ trait: 'persona', op: 'eq', value: persona }), { namespace });
      const members = (await w.query<{ profile_id: string }>(compiled.sql, compiled.params)).map((r) => r.profile_id).sort();
      const expected = [...fixture.group].filter(([, group]) => group === g).map(([pid]) => pid).sort();
      assert.deepEqual(members, expected, `segment persona = ${persona}`);
    }
  });

  test('the profile builder keeps the persona on later rebuilds', async () => {
    const ids = [...fixture.group.keys()];
    await rebuildProfiles(w, ids, [], new Date(Date.now() + 1000));
    const profiles = await currentProfiles();
    for (const [pid, traits] of profiles) assert.equal(traits.persona, personaOfGroup.get(fixture.group.get(pid)!), pid);
  });

  test('re-running the same run changes nothing; a new version keeps the same persona ids', async () => {
    const raw = async () => ({
      versions: await count('SELECT count() AS n FROM {db}.model_versions'),
      personas: await count('SELECT count() AS n FROM {db}.profile_personas'),
      traits: await count('SELECT count() AS n FROM {db}.identity_traits'),
      profiles: await count('SELECT count() AS n FROM {db}.profiles'),
    });
    const before = await raw();
    const again = await personasRun('r1');
    assert.equal(again.version, 1);
    assert.equal(again.trained, false);
    assert.deepEqual(again.traits, { profiles: 200, traitsWritten: 0, profilesUpdated: 0, profilesDeferred: 0 });
    assert.deepEqual(await raw(), before);

    const second = await personasRun('r2');
    assert.equal(second.version, 2);
    assert.equal(second.trained, true);
    assert.deepEqual(second.personas.map((p) => p.persona).sort(), [...personaOfGroup.values()].sort(), 'same data, same persona ids');
    assert.deepEqual(second.traits, { profiles: 200, traitsWritten: 0, profilesUpdated: 0, profilesDeferred: 0 });
    const after = await raw();
    assert.equal(after.versions, before.versions + 1);
    assert.equal(after.traits, before.traits);
    assert.equal(after.profiles, before.profiles);
  });

  test('retrainRecommendations: expected neighbours per item, per-profile items without what was bought, no duplicates on re-run', async () => {
    const first = (await recommendationsRun('r1')) as Extract<RetrainRecommendationsResult, { trained: boolean }>;
    assert.equal(first.version, 1);
    assert.equal(first.trained, true);
    const q = first.quality as { items: number; pairs: number; coverage: number; profiles: number; profilesWithRecommendations: number };
    assert.equal(q.items, 11);
    assert.equal(q.coverage, 1);
    assert.equal(q.profiles, 200);
    // Offline quality: a fifth of the people (by hash) have their latest items held out.
    const offline = (first.quality as { offline: { split: { method: string }; k: number; evaluatedProfiles: number; model: { precision: number; recall: number; coverage: number }; popularity: { precision: number; recall: number; coverage: number } } }).offline;
    assert.equal(offline.split.method, 'last-items-by-time');
    assert.equal(offline.k, 10);
    assert.ok(offline.evaluatedProfiles > 15 && offline.evaluatedProfiles < 70, `${offline.evaluatedProfiles} evaluated`);
    for (const figures of [offline.model, offline.popularity]) for (const v of Object.values(figures)) assert.ok(v >= 0 && v <= 1, JSON.stringify(offline));
    assert.ok(offline.model.recall > 0.5, 'a held-out item is another item of the same group, which the model suggests');

    assert.equal((await itemRecommendations(w, 'e1', 1))[0]!.item, 'e2');
    assert.equal((await itemRecommendations(w, 'e2', 1))[0]!.item, 'e1');
    assert.equal((await itemRecommendations(w, 'f1', 1))[0]!.item, 'f2', 'the sku of products[] counts as the item');
    assert.equal((await itemRecommendations(w, 'h1', 1))[0]!.item, 'h2');
    const all = await w.query<{ item: string; rec_item: string; rank: number; score: number }>('SELECT item, rec_item, rank, score FROM {db}.item_recommendations FINAL WHERE version = 1 ORDER BY item, rank');
    for (const r of all) {
      assert.equal(r.rec_item[0], r.item[0], `${r.item} → ${r.rec_item} stays in its category`);
      assert.ok(r.score > 0 && r.score <= 1 + 1e-9);
    }
    assert.ok(all.every((r) => Number(r.rank) <= 5));

    const recs = await w.query<{ profile_id: string; item: string; rank: number }>('SELECT profile_id, item, rank FROM {db}.profile_recommendations FINAL WHERE version = 1');
    for (const r of recs) {
      assert.ok(!fixture.bought.get(r.profile_id)!.has(r.item), `${r.profile_id} bought ${r.item} already`);
      assert.equal(r.item[0], fixture.bought.get(r.profile_id)!.size ? [...fixture.bought.get(r.profile_id)!][0]![0] : [...fixture.viewed.get(r.profile_id)!][0]![0]);
    }
    // casual-000 bought f1, f2 and viewed f3, f4: those are what is left to suggest.
    assert.deepEqual((await profileRecommendations(w, 'casual-000')).map((r) => r.item).sort(), ['f3', 'f4']);
    assert.equal((await profileRecommendations(w, 'vip-000'))[0]!.item, 'e4');

    const raw = async () => [await count('SELECT count() AS n FROM {db}.item_recommendations'), await count('SELECT count() AS n FROM {db}.profile_recommendations'), await count('SELECT count() AS n FROM {db}.model_versions')];
    const before = await raw();
    const again = (await recommendationsRun('r1')) as Extract<RetrainRecommendationsResult, { trained: boolean }>;
    assert.equal(again.version, 1);
    assert.equal(again.trained, false);
    assert.deepEqual(await raw(), before);
  });

  test('invalid input fails at once, without retries', async () => {
    await assert.rejects(personasRun('bad', { k: 1 }), (err: unknown) => err instanceof WorkflowFailedError && /k must be an integer/.test(String((err.cause as Error)?.message)));
  });

  test('the worker serves its probes, and the recorded history replays deterministically', async () => {
    const base = `http://127.0.0.1:${worker.port}`;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /uspa_models_versions_total\{model="personas"[^}]*\} 2/);
    assert.match(metrics, /uspa_models_quality\{[^}]*figure="offline_model_precision"[^}]*\} [\d.]+/, 'the offline figures are gauges too');
    const id = unique('personas');
    await client.workflow.execute(retrainPersonas, { taskQueue: worker.taskQueue, workflowId: id, args: [{ namespace, database, run: 'r2' }] });
    const history = await client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, id);
  });
});
