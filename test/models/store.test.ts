// The models' ClickHouse side on the real ClickHouse: the persona trait written like the pipeline
// writes traits (last write wins, merged profiles, a concurrent rebuild is not overwritten),
// baskets from views and orders (with each item's last interaction time), versions committed last and pruned.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Warehouse, chTime, clickhouseSettingsFromEnv } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { applyTrait, baskets, beginVersion, clearVersion, commitVersion, pruneVersions, readVersions, writeItemRecommendations, writeProfileRecommendations } from '../../lib/models/store.ts';
import { MODEL_TABLES } from '../../api/tables/models.ts';
import { migrate } from '../../lib/schema.ts';
import { rebuildProfiles } from '../../workers/pipeline/profiles.ts';
import { unique } from '../support/env.ts';

const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

describe('models store', { timeout: 120_000, concurrency: false }, () => {
  const database = `t_${unique('mst').replace(/-/g, '_')}`;
  let w: Warehouse;
  let m = 0;
  const event = (identity: string, profile: string, name: string, properties: Record<string, unknown>, time = iso(-86_400_000)) => {
    const at = chTime(time);
    return { message_id: `m-${++m}`, type: 'track', event: name, timestamp: at, received_at: at, identity, profile_id: profile, properties: JSON.stringify(properties) };
  };
  const profile = async (id: string) => {
    const [row] = await w.query<{ traits: string; event_count: string }>('SELECT traits, event_count FROM {db}.profiles FINAL WHERE profile_id = {id:String} AND deleted = 0', { id });
    return row && { traits: JSON.parse(row.traits) as Record<string, unknown>, event_count: Number(row.event_count) };
  };

  before(async () => {
    w = new Warehouse({ ...clickhouseSettingsFromEnv(), database });
    await migrate(w, createLogger('test', 'warn'));
    for (const statement of MODEL_TABLES) await w.command(statement);
  });
  after(async () => {
    await w?.command('DROP DATABASE IF EXISTS {db}');
    await w?.close();
  });

  test('the persona trait: on every current identity, last write wins, merged profiles skipped, a concurrent rebuild is re-read, not overwritten', async () => {
    const first = chTime(iso(-10 * 86_400_000));
    await w.insert('identities', [
      { identity: 'userId:a', profile_id: 'p-a', first_seen: first, version: 1 },
      { identity: 'anonymousId:a', profile_id: 'p-a', first_seen: first, version: 1 },
      { identity: 'userId:b', profile_id: 'p-b', first_seen: first, version: 1 },
      // userId:c founded p-c, then was merged into p-b.
      { identity: 'userId:c', profile_id: 'p-c', first_seen: first, version: 1 },
      { identity: 'userId:c', profile_id: 'p-b', first_seen: first, version: 2 },
    ]);
    await w.insert('identity_traits', [
      { identity: 'userId:a', trait: 'plan', value: '"pro"', event_time: first, message_id: 'x1' },
      // The customer's own identify call set a persona after the training time: it keeps winning.
      { identity: 'userId:b', trait: 'persona', value: '"custom"', event_time: chTime(iso(86_400_000)), message_id: 'x2' },
    ]);
    await w.insert('events', [event('userId:a', 'p-a', 'Product Viewed', {}), event('anonymousId:a', 'p-a', 'Product Viewed', {}), event('userId:b', 'p-b', 'Product Viewed', {})]);
    await rebuildProfiles(w, ['p-a', 'p-b'], ['p-c']);
    assert.deepEqual((await profile('p-a'))?.traits, { plan: 'pro' });

    let raced = false;
    const trainedAt = iso(0);
    const applied = await applyTrait(w, [{ profile_id: 'p-a', value: 'p1-x' }, { profile_id: 'p-b', value: 'p1-x' }, { profile_id: 'p-c', value: 'p2-y' }], 'persona', trainedAt, 'model:personas:1', {
      beforeWrite: async () => {
        if (raced) return;
        raced = true;
        // The pipeline rebuilt p-a meanwhile, from traits read before ours were written.
        await w.insert('profiles', [{ profile_id: 'p-a', identities: ['anonymousId:a', 'userId:a'], traits: '{"plan":"pro"}', first_seen: first, last_seen: first, event_count: 99, updated_at: chTime(iso(0)) }]);
      },
    });
    assert.deepEqual(applied, { traitsWritten: 3, profilesUpdated: 1, profilesDeferred: 0 }, 'userId:a, anonymousId:a, userId:c (now in p-b); not userId:b, whose newer value wins anyway');
    assert.deepEqual(await profile('p-a'), { traits: { persona: 'p1-x', plan: 'pro' }, event_count: 99 }, 'the newer row got the trait, and kept its counts');
    assert.deepEqual((await profile('p-b'))?.traits, { persona: 'custom' });
    assert.equal(await profile('p-c'), undefined);
    const rows = await w.query<{ identity: string; value: string }>("SELECT identity, value FROM {db}.identity_traits FINAL WHERE trait = 'persona' ORDER BY identity");
    assert.deepEqual(rows, [{ identity: 'anonymousId:a', value: '"p1-x"' }, { identity: 'userId:a', value: '"p1-x"' }, { identity: 'userId:b', value: '"custom"' }, { identity: 'userId:c', value: '"p1-x"' }]);

    const again = await applyTrait(w, [{ profile_id: 'p-a', value: 'p1-x' }, { profile_id: 'p-b', value: 'p1-x' }], 'persona', trainedAt, 'model:personas:1');
    assert.deepEqual(again, { traitsWritten: 0, profilesUpdated: 0, profilesDeferred: 0 });

    // The pipeline's builder, later, keeps it.
    await rebuildProfiles(w, ['p-a', 'p-b'], [], new Date(Date.now() + 5000));
    assert.deepEqual((await profile('p-a'))?.traits, { persona: 'p1-x', plan: 'pro' });
  });

  test('baskets: product_id, sku, numeric ids and products[] of orders, per current profile, purchase flag', async () => {
    await w.insert('identities', [
      { identity: 'userId:r', profile_id: 'p-r', first_seen: '2026-01-01 00:00:00', version: 1 },
      { identity: 'anonymousId:r', profile_id: 'p-old', first_seen: '2026-01-01 00:00:00', version: 1 },
      { identity: 'anonymousId:r', profile_id: 'p-r', first_seen: '2026-01-01 00:00:00', version: 2 },
      { identity: 'userId:s', profile_id: 'p-s', first_seen: '2026-01-01 00:00:00', version: 1 },
    ]);
    // Times a minute apart, so each item's last interaction (`at`) is known exactly.
    const t = (minute: number) => Date.parse('2026-02-01T10:00:00.000Z') + minute * 60_000;
    const at = (minute: number) => new Date(t(minute)).toISOString();
    await w.insert('events', [
      event('userId:r', 'p-r', 'Product Viewed', { product_id: 'shoe' }, at(1)),
      event('userId:r', 'p-r', 'Product Viewed', { product_id: 'shoe' }, at(2)),
      event('anonymousId:r', 'p-old', 'Product Viewed', { sku: 'SKU-1' }, at(3)),
      event('anonymousId:r', 'p-old', 'Product Viewed', { product_id: 42 }, at(4)),
      event('userId:r', 'p-r', 'Order Completed', { products: [{ product_id: 'shoe' }, { sku: 'sock' }, { name: 'no id' }], revenue: 10 }, at(5)),
      event('userId:r', 'p-r', 'Product Added', { product_id: 'cart-only' }, at(6)),
      event('userId:s', 'p-s', 'Order Completed', { product_id: 'hat' }, at(7)),
    ]);
    const all = [];
    for await (const b of baskets(w)) if (b.profile_id === 'p-r' || b.profile_id === 'p-s') all.push(b);
    assert.deepEqual(all, [
      {
        profile_id: 'p-r',
        items: [
          { item: '42', purchased: false, count: 1, at: t(4) },
          { item: 'SKU-1', purchased: false, count: 1, at: t(3) },
          { item: 'shoe', purchased: true, count: 3, at: t(5) },
          { item: 'sock', purchased: true, count: 1, at: t(5) },
        ],
      },
      { profile_id: 'p-s', items: [{ item: 'hat', purchased: true, count: 1, at: t(7) }] },
    ]);
  });

  test('versions: numbered per model, found again by run, cleared before a rewrite, rows of old versions pruned', async () => {
    const commit = (version: number, run: string) => commitVersion(w, { model: 'recommendations', version, run, revision: 'cfg', trained_at: iso(0), params: {}, quality: { items: version }, artifact: {} });
    const rows = (version: number) => [{ item: 'a', rank: 1, rec_item: `b${version}`, score: 0.5 }];
    const count = async () => (await w.query<{ v: string }>('SELECT version AS v FROM {db}.item_recommendations FINAL ORDER BY v')).map((r) => Number(r.v));

    assert.deepEqual(await beginVersion(w, 'recommendations', 'r1'), { version: 1 });
    await writeItemRecommendations(w, 1, rows(1));
    await writeItemRecommendations(w, 1, rows(1));
    await clearVersion(w, 'recommendations', 1);
    assert.deepEqual(await count(), [], 'a retried attempt starts from nothing');
    await writeItemRecommendations(w, 1, rows(1));
    await writeProfileRecommendations(w, 1, [{ profile_id: 'p', rank: 1, item: 'a', score: 1 }]);
    assert.deepEqual(await beginVersion(w, 'recommendations', 'r1'), { version: 1 }, 'uncommitted: the same version again');
    await commit(1, 'r1');
    const begun = await beginVersion(w, 'recommendations', 'r1');
    assert.equal(begun.committed?.version, 1);
    assert.deepEqual(begun.committed?.quality, { items: 1 });
    assert.deepEqual(await beginVersion(w, 'personas', 'r1'), { version: 1 }, 'versions are per model');
    for (const v of [2, 3, 4]) {
      assert.deepEqual(await beginVersion(w, 'recommendations', `r${v}`), { version: v });
      await writeItemRecommendations(w, v, rows(v));
      await commit(v, `r${v}`);
    }
    await writeItemRecommendations(w, 5, rows(5)); // in progress, not committed
    await pruneVersions(w, 'recommendations', 2);
    assert.deepEqual(await count(), [3, 4, 5]);
    assert.deepEqual((await readVersions(w, 'recommendations')).map((v) => v.version), [4, 3, 2, 1], 'the history stays');
    assert.equal(Number((await w.query<{ n: string }>('SELECT count() AS n FROM {db}.profile_recommendations'))[0]!.n), 0);
  });
});
