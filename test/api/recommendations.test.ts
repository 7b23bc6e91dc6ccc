// A profile's recommendations and an item's similar items through the API on the real engines:
// the profile comes through the collector and the pipeline; the model rows are inserted into
// ClickHouse directly, as the models worker writes them (rows first, the model_versions row last).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { API_ROLES } from '../../api/v1alpha1/index.ts';
import { ROLE_PERMISSIONS } from '../../gateway/access/roles.ts';
import { eventually } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const ch = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const recs = (identity: string) => `/v1/profiles/${encodeURIComponent(identity)}/recommendations`;
const similar = (item: string) => `/v1/items/${encodeURIComponent(item)}/similar`;

describe('recommendations API', { timeout: 600_000 }, () => {
  let h: ApiHarness;
  const keys: Record<string, string> = {};
  const run = randomUUID().slice(0, 8);
  const user = `r-${run}`;
  const lonely = `l-${run}`;
  let profileId = '';
  const trainedAt = Date.now() - 60_000;

  before(async () => {
    h = await startApi();
    for (const role of API_ROLES) keys[role] = await h.key(role, {}, `role-${role}`);
    const res = await h.product.post('/v1/batch', { batch: [
      { type: 'identify', messageId: `m-${run}-1`, userId: user, traits: { plan: 'pro' } },
      { type: 'identify', messageId: `m-${run}-2`, userId: lonely, traits: { plan: 'free' } },
    ] });
    assert.equal(res.status, 200);
    await eventually('both profiles built', async () => {
      const rows = await h.product.rows<{ profile_id: string; identities: string[] }>('SELECT profile_id, identities FROM {db}.profiles FINAL WHERE deleted = 0');
      profileId = rows.find((r) => r.identities.includes(`userId:${user}`))?.profile_id ?? '';
      return rows.length === 2;
    }, 30_000);
  });
  after(async () => {
    await h?.close();
  });

  test('before the first training run: no items and a null model; no similar items (404 path.item)', async () => {
    const res = await h.call(keys.reader, 'get', recs(`userId:${user}`));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { profileId, model: null, items: [] });
    const item = await h.call(keys.reader, 'get', similar('sku-1'));
    assert.equal(item.status, 404);
    assert.equal(item.body.error.field, 'path.item');
  });

  test('the newest complete model version: ranked items, its version and training time', async () => {
    const w = h.product.warehouse;
    // Version 1 is old; version 2 complete; version 3's rows are written but not its model_versions row (a run in progress).
    await w.insert('profile_recommendations', [
      ...Array.from({ length: 5 }, (_, i) => ({ version: 1, profile_id: profileId, rank: i + 1, item: `old-${i}`, score: 0.1 })),
      ...Array.from({ length: 30 }, (_, i) => ({ version: 2, profile_id: profileId, rank: i + 1, item: `sku-${i + 100}`, score: Number((1 - i / 40).toFixed(3)) })),
      ...Array.from({ length: 5 }, (_, i) => ({ version: 3, profile_id: profileId, rank: i + 1, item: `next-${i}`, score: 0.9 })),
    ]);
    await w.insert('item_recommendations', [
      { version: 1, item: 'sku-gone', rank: 1, rec_item: 'sku-2', score: 0.5 },
      ...Array.from({ length: 5 }, (_, i) => ({ version: 2, item: 'sku-1', rank: i + 1, rec_item: `sku-${i + 2}`, score: 0.9 - i / 10 })),
      { version: 3, item: 'sku-1', rank: 1, rec_item: 'sku-unfinished', score: 1 },
    ]);
    await w.insert('model_versions', [1, 2].map((v) => ({ model: 'recommendations', version: v, run: `r${v}`, revision: '', trained_at: ch(trainedAt - (2 - v) * 3_600_000), params: '{}', quality: '{}', artifact: '{}' })));
    // A personas version 9 must not be taken for a recommendations version.
    await w.insert('model_versions', [{ model: 'personas', version: 9, run: 'p9', revision: '', trained_at: ch(trainedAt), params: '{}', quality: '{}', artifact: '{}' }]);

    const res = await h.call(keys.analyst, 'get', recs(`userId:${user}`));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.profileId, profileId);
    assert.deepEqual(res.body.model, { version: 2, trainedAt: new Date(trainedAt).toISOString() });
    assert.equal(res.body.items.length, 20, 'default limit 20');
    assert.deepEqual(res.body.items.slice(0, 2), [{ item: 'sku-100', rank: 1, score: 1 }, { item: 'sku-101', rank: 2, score: 0.975 }]);
    assert.deepEqual(res.body.items.map((i: { rank: number }) => i.rank), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal((await h.call(keys.analyst, 'get', recs(`userId:${user}`), { query: { limit: 100 } })).body.items.length, 30);
    assert.equal((await h.call(keys.analyst, 'get', recs(`userId:${user}`), { query: { limit: 3 } })).body.items.length, 3);

    const other = await h.call(keys.analyst, 'get', recs(`userId:${lonely}`));
    assert.deepEqual(other.body.items, [], 'a profile the model has nothing for');
    assert.equal(other.body.model.version, 2);

    const sim = await h.call(keys.analyst, 'get', similar('sku-1'), { query: { limit: 4 } });
    assert.equal(sim.status, 200, sim.text);
    assert.deepEqual(sim.body.model, { version: 2, trainedAt: new Date(trainedAt).toISOString() });
    assert.deepEqual(sim.body.similar.map((s: { item: string }) => s.item), ['sku-2', 'sku-3', 'sku-4', 'sku-5']);
    assert.equal(sim.body.item, 'sku-1');
    const gone = await h.call(keys.analyst, 'get', similar('sku-gone'));
    assert.equal(gone.status, 404, 'only in an older version');
    assert.equal(gone.body.error.field, 'path.item');
  });

  test('every role: recommendations:read allowed (decisions from its origin), others 403', async () => {
    for (const role of API_ROLES) {
      const allowed = (ROLE_PERMISSIONS[role] as readonly string[]).includes('recommendations:read');
      const headers = role === 'decisions' ? { Origin: 'https://shop.example.com' } : undefined;
      for (const p of [recs(`userId:${user}`), similar('sku-1')]) {
        const res = await h.call(keys[role], 'get', p, { headers });
        assert.equal(res.status, allowed ? 200 : 403, `${role} ${p}`);
      }
    }
    assert.ok(!(ROLE_PERMISSIONS.privacy as readonly string[]).includes('recommendations:read'), 'the matrix has a refused role to test');
  });

  test('bad input: 400 naming the field, unknown profiles and items 404, SQL nowhere', async () => {
    const cases: Array<[string, Record<string, string | number>, number, string]> = [
      [recs(`userId:${user}`), { limit: 101 }, 400, 'query.limit'],
      [recs(`userId:${user}`), { limit: 0 }, 400, 'query.limit'],
      [recs(`userId:${user}`), { limit: "1; DROP TABLE {db}.profile_recommendations" }, 400, 'query.limit'],
      [recs(`userId:${user}`), { page: 2 }, 400, 'query.page'],
      [recs('crm:1'), {}, 400, 'path.identity'],
      [recs('userId'), {}, 400, 'path.identity'],
      [recs(`userId:nobody-${run}`), {}, 404, 'path.identity'],
      [recs("userId:x' OR '1'='1"), {}, 404, 'path.identity'],
      [similar('sku-1'), { limit: 1000 }, 400, 'query.limit'],
      [similar('nothing-like-it'), {}, 404, 'path.item'],
      [similar("sku-1' OR '1'='1"), {}, 404, 'path.item'],
      [similar("x'; DROP TABLE {db}.item_recommendations; --"), {}, 404, 'path.item'],
      [similar('sku\u00011'), {}, 400, 'path.item'],
      [similar('x'.repeat(513)), {}, 400, 'path.item'],
    ];
    const count = async () => (await h.product.rows<{ p: string; i: string; m: string }>(
      'SELECT (SELECT count() FROM {db}.profile_recommendations) AS p, (SELECT count() FROM {db}.item_recommendations) AS i, (SELECT count() FROM {db}.model_versions) AS m',
    ))[0];
    const before_ = await count();
    for (const [p, query, status, field] of cases) {
      const res = await h.call(keys.admin, 'get', p, { query });
      assert.equal(res.status, status, `${p} ${JSON.stringify(query)}: ${res.text}`);
      assert.equal(res.body.error.field, field, `${p} ${JSON.stringify(query)}`);
    }
    assert.deepEqual(await count(), before_);
  });

  test("a profile's recommendations are audited as a read of that profile", async () => {
    await eventually('audit row', async () => {
      const rows = await h.product.rows<{ n: string }>("SELECT count() AS n FROM {db}.api_audit WHERE operation = 'getProfileRecommendations' AND kind = 'read' AND target = {p:String} AND status = 200", { p: profileId });
      return Number(rows[0]?.n) > 0;
    }, 15_000);
  });
});
