// Decisions on the real engines: the catalog loaded through the API, a visitor's interests built by
// the pipeline from their product views, a Personalization resource watched by the API, and the
// block a visitor sees changing when they identify. Exposures land in ClickHouse as events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { EXPOSURE_EVENT } from '../../api/v1alpha1/index.ts';
import { eventually } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';
import { kubeConfig } from '../support/operator.ts';

const GROUP = { group: 'uspa.tech', version: 'v1alpha1', plural: 'personalizations' };

describe('decisions API', { timeout: 600_000 }, () => {
  let h: ApiHarness;
  let marketer = '';
  let browser = '';
  const run = randomUUID().slice(0, 8);
  const visitor = `a-${run}`;
  const custom = kubeConfig().makeApiClient(CustomObjectsApi);
  const apply = (name: string, spec: Record<string, unknown>) =>
    custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Personalization', metadata: { name }, spec } });
  const decide = (key: string, identity: string, placements: string[], headers: Record<string, string> = {}) => h.call(key, 'post', '/v1/decisions', { body: { identity, placements }, headers });

  before(async () => {
    h = await startApi();
    marketer = await h.key('marketer');
    browser = await h.key('decisions');
    const loaded = await h.call(marketer, 'put', '/v1/catalog/items', {
      body: { items: [
        { id: `run-${run}`, title: 'Trail runner', category: 'Shoes > Running', price: 89, tags: ['sale'] },
        { id: `hat-${run}`, title: 'Sun hat', category: ['Hats'] },
        { id: `trail-${run}`, title: 'Trail shoe', category: 'Shoes > Trail' },
        { id: `gone-${run}`, title: 'Sold out shoe', category: 'Shoes > Running', available: false },
        { title: 'no id', price: -1 },
      ] },
    });
    assert.equal(loaded.status, 200, loaded.text);
    assert.equal(loaded.body.upserted, 4);
    assert.deepEqual(loaded.body.rejected.map((r: { index: number }) => r.index), [4]);
    assert.ok(loaded.body.rejected[0].problems.includes('body.items[4].id: is required'), loaded.text);
    await apply('home-hero', {
      variants: [
        { name: 'vip', rule: { trait: 'plan', op: 'eq', value: 'pro' }, content: 'Welcome back, {{ traits.name }}' },
        { name: 'shoes', rule: { interest: 'shoes', op: 'gte', value: 0.6 }, content: 'New running shoes' },
        { name: 'welcome', content: 'Welcome to the shop' },
      ],
      fallback: { content: 'Hello' },
    });
  });
  after(async () => {
    await h?.close();
  });

  test('the catalog item is stored with its category path; an unknown item is 404', async () => {
    const item = await h.call(marketer, 'get', `/v1/catalog/items/run-${run}`);
    assert.equal(item.status, 200, item.text);
    assert.deepEqual([item.body.category, item.body.tags, item.body.available], [['Shoes', 'Running'], ['sale'], true]);
    assert.equal((await h.call(marketer, 'get', '/v1/catalog/items/nope')).status, 404);
    assert.equal((await h.call(browser, 'get', `/v1/catalog/items/run-${run}`, { headers: { Origin: 'https://shop.example.com' } })).status, 403, 'a browser key reads no catalog');
  });

  test('a Product Updated event through the collector updates the catalog; one describing no valid item changes nothing', async () => {
    const batch = [
      { type: 'track', event: 'Product Updated', messageId: `pu-${run}`, anonymousId: `ops-${run}`, properties: { product_id: `hat-${run}`, name: 'Sun hat', category: 'Hats > Summer', price: 19, in_stock: false, brand: 'Acme' } },
      { type: 'track', event: 'Product Updated', messageId: `pu-bad-${run}`, anonymousId: `ops-${run}`, properties: { name: 'no id' } },
    ];
    assert.equal((await h.product.post('/v1/batch', { batch })).status, 200);
    let item: { category: string[]; available: boolean; attributes: Record<string, unknown> } | undefined;
    await eventually('the event reached the catalog', async () => {
      item = (await h.call(marketer, 'get', `/v1/catalog/items/hat-${run}`)).body;
      return item?.available === false;
    }, 30_000);
    assert.deepEqual([item!.category, item!.attributes], [['Hats', 'Summer'], { brand: 'Acme' }]);
    await h.product.waitForEvents([`pu-bad-${run}`]);
  });

  test('an unknown visitor gets the default path; an unknown placement its fallback, not an error', async () => {
    await eventually('the API loaded home-hero', async () => (await decide(marketer, `anonymousId:nobody-${run}`, ['home-hero'])).body.placements['home-hero'].variant === 'welcome', 15_000);
    const res = await decide(browser, `anonymousId:nobody-${run}`, ['home-hero', 'no-such-placement'], { Origin: 'https://shop.example.com' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example.com');
    assert.deepEqual(res.body.placements['home-hero'], { variant: 'welcome', content: 'Welcome to the shop', fallback: false, reason: 'matched' });
    assert.deepEqual(res.body.placements['no-such-placement'], { variant: null, content: null, fallback: true, reason: 'unknown placement' });
  });

  test('product views build interests; an identify changes the block; traits are escaped', async () => {
    const views = [1, 2].map((n) => ({ type: 'track', event: 'Product Viewed', messageId: `v-${run}-${n}`, anonymousId: visitor, properties: { product_id: `run-${run}` } }));
    assert.equal((await h.product.post('/v1/batch', { batch: views })).status, 200);
    await eventually('the shoes variant for the visitor', async () => (await decide(browser, `anonymousId:${visitor}`, ['home-hero'], { Origin: 'https://shop.example.com' })).body.placements['home-hero'].variant === 'shoes', 30_000);
    const profile = await h.call(marketer, 'get', `/v1/profiles/anonymousId:${visitor}`);
    assert.deepEqual(profile.body.interests, { running: 1, sale: 1, shoes: 1 });

    const started = Date.now();
    assert.equal((await h.product.post('/v1/batch', { batch: [{ type: 'identify', messageId: `i-${run}`, anonymousId: visitor, userId: `u-${run}`, traits: { plan: 'pro', name: '<b>Ada</b>' } }] })).status, 200);
    let seen: { variant: string; content: string } | undefined;
    await eventually('the vip variant after the identify', async () => {
      seen = (await decide(browser, `anonymousId:${visitor}`, ['home-hero'], { Origin: 'https://shop.example.com' })).body.placements['home-hero'];
      return seen?.variant === 'vip';
    }, 30_000);
    assert.equal(seen!.content, 'Welcome back, &lt;b&gt;Ada&lt;/b&gt;');
    console.log(`identify → decision reflects it: ${Date.now() - started} ms (polled)`);
  });

  test('recommendations in a template: the visitor\'s interests against the catalog, unavailable items never', async () => {
    await apply('shoe-recs', { variants: [{ name: 'list', content: '{% for r in recommendations %}{{ r.id }};{% endfor %}' }], fallback: { content: '' }, recommendations: { count: 3 } });
    let content = '';
    await eventually('recommendations rendered', async () => {
      content = (await decide(marketer, `anonymousId:${visitor}`, ['shoe-recs'])).body.placements['shoe-recs']?.content ?? '';
      return content.split(';').filter(Boolean).length >= 2;
    }, 15_000);
    const ids = content.split(';').filter(Boolean);
    assert.deepEqual(new Set(ids.slice(0, 2)), new Set([`run-${run}`, `trail-${run}`]), content);
    assert.ok(!ids.includes(`gone-${run}`), `an unavailable item was recommended: ${content}`);
    const cold = (await decide(marketer, `anonymousId:cold-${run}`, ['shoe-recs'])).body.placements['shoe-recs'];
    assert.equal(cold.fallback, false);
    assert.ok(cold.content.split(';').filter(Boolean).length > 0, 'a cold visitor still gets items (popularity)');
  });

  test('a browser key decides by anonymousId only; a bad identity names the field', async () => {
    const byEmail = await decide(browser, 'email:ada@example.com', ['home-hero'], { Origin: 'https://shop.example.com' });
    assert.equal(byEmail.status, 403);
    assert.equal(byEmail.body.error.field, 'body.identity');
    const hostile = await decide(marketer, "nope:' OR 1=1", ['home-hero']);
    assert.equal(hostile.status, 400);
    assert.equal(hostile.body.error.field, 'body.identity');
    const badName = await decide(marketer, `anonymousId:${visitor}`, ['Home Hero']);
    assert.equal(badName.status, 400);
  });

  test('an invalid resource falls back and its status says why; a template that fails at render too', async () => {
    await apply('bad-rule', { variants: [{ name: 'x', rule: { event: 'Order Completed', within: '7d' }, content: 'x' }], fallback: { content: '' } });
    await apply('slow-template', { variants: [{ name: 'loop', content: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }], fallback: { content: 'Plain' } });
    await eventually('both loaded', async () => {
      const res = await decide(marketer, `anonymousId:${visitor}`, ['bad-rule', 'slow-template']);
      return res.body.placements['bad-rule'].reason === 'invalid placement' && res.body.placements['slow-template'].reason === 'render failed';
    }, 15_000);
    const res = await decide(marketer, `anonymousId:${visitor}`, ['slow-template']);
    assert.deepEqual(res.body.placements['slow-template'], { variant: null, content: 'Plain', fallback: true, reason: 'render failed' });
    const status = async (name: string) => ((await custom.getNamespacedCustomObject({ ...GROUP, namespace: h.namespace, name })) as { status?: { workers?: Array<{ component: string; state: string; reason?: string; message?: string }> } }).status;
    await eventually('the API reports both', async () => (await status('bad-rule'))?.workers?.[0]?.state === 'Stalled' && (await status('slow-template'))?.workers?.[0]?.reason === 'TemplateRenderFailed', 15_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; ${JSON.stringify(await status('bad-rule'))} ${JSON.stringify(await status('slow-template'))}`);
    });
    assert.match((await status('bad-rule'))!.workers![0]!.message!, /spec\.variants\[0\]\.rule\.within: decisions are made in memory/);
    assert.match((await status('slow-template'))!.workers![0]!.message!, /loop: .*limit/i);
  });

  test('every decision is recorded as an exposure event of the visitor', async () => {
    await eventually('exposures stored', async () => {
      const rows = await h.product.rows<{ arm: string }>(`SELECT JSONExtractString(properties, 'variant') AS arm FROM {db}.events WHERE event = {e:String} AND identity = {i:String}`, { e: EXPOSURE_EVENT, i: `anonymousId:${visitor}` });
      return rows.some((r) => r.arm === 'vip') && rows.some((r) => r.arm === 'shoes');
    }, 30_000);
  });
});
