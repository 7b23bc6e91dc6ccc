// What the dashboard reads, through the API on the real engines: the overview (volume, freshness,
// dead letters by cause, collector refusals, resources), Sources with their live tail and the write
// key only for admins, replay of a selection of dead letters, a profile's merges and unmerge,
// Activation results with lift, placements, and model versions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { chTime } from '../../lib/clickhouse.ts';
import { eventually } from '../support/env.ts';
import { kubeConfig } from '../support/operator.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const GROUP = { group: 'uspa.tech', version: 'v1alpha1' };
const ORDER_PLAN = { 'Order Completed': { type: 'object', required: ['revenue'], properties: { revenue: { type: 'number' } } } };

describe('the data behind the dashboard', { timeout: 300_000 }, () => {
  let h: ApiHarness;
  let custom: CustomObjectsApi;
  let source: string;
  const keys: Record<string, string> = {};
  const run = randomUUID().slice(0, 8);
  const ids = { a: `tail-a-${run}`, b: `tail-b-${run}`, dead1: `dead1-${run}`, dead2: `dead2-${run}` };

  before(async () => {
    h = await startApi({ sources: [{ name: 'web', type: 'web', trackingPlan: { mode: 'dlq', events: ORDER_PLAN } } as never] });
    source = h.product.sources.web!.name;
    const kc = kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    for (const role of ['admin', 'analyst', 'marketer'] as const) keys[role] = await h.key(role);
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'sources', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Source', metadata: { name: source }, spec: { type: 'web' } } });
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'pipelines', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Pipeline', metadata: { name: 'main' }, spec: { sources: [source] } } });
    // The write key's Secret, as the operator would have made it.
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: h.namespace, body: { metadata: { name: `${source}-write-key` }, stringData: { writeKey: h.product.sources.web!.writeKey } } });
    const sent = await h.product.post('/v1/batch', {
      batch: [
        { type: 'track', messageId: ids.a, userId: 'u-1', event: 'Tail A', properties: { email: 'ada@example.com' } },
        { type: 'track', messageId: ids.dead1, userId: 'u-1', event: 'Order Completed', properties: { revenue: 'lots' } },
        { type: 'track', messageId: ids.dead2, userId: 'u-1', event: 'Order Completed', properties: {} },
      ],
    });
    assert.equal(sent.status, 200);
    // A refusal the collector counts (a bad write key), never stored.
    assert.equal((await h.product.post('/v1/track', { userId: 'u-x', event: 'X' }, 'not-a-key')).status, 401);
    await h.product.waitForEvents([ids.a]);
    await eventually('the dead letters', async () => (await h.product.rows('SELECT DISTINCT message_id FROM {db}.dead_letters WHERE message_id IN {ids:Array(String)}', { ids: [ids.dead1, ids.dead2] })).length === 2, 60_000);
  });
  after(async () => {
    if (process.env.DEBUG_DASH) console.log(h.logs.filter((l) => l.includes('"level":50')).join('\n'));
    await h?.close();
  });

  test('overview: volume per Source, freshness, dead letters by cause, resources; refusals counted from the first read on', async () => {
    const first = await h.call(keys.analyst, 'GET', '/v1/overview', { query: { minutes: 60 } });
    assert.equal(first.status, 200, first.text);
    const web = first.body.sources.find((s: { source: string }) => s.source === source);
    assert.equal(web.total, 1, 'the one stored event (dead letters are not events)');
    assert.equal(first.body.freshness.recent.events, 1);
    assert.ok(first.body.freshness.recent.p50Seconds >= 0 && first.body.freshness.recent.p50Seconds < 60, String(first.body.freshness.recent.p50Seconds));
    assert.deepEqual(first.body.deadLetters.byCause, [{ source, reason: 'tracking_plan_violation', count: 2 }]);
    assert.deepEqual(first.body.resources.map((r: { kind: string; name: string }) => `${r.kind}/${r.name}`).sort(), ['ApiKey/k1-admin', 'ApiKey/k2-analyst', 'ApiKey/k3-marketer', 'Pipeline/main', `Source/${source}`]);
    assert.equal(first.body.window.bucketSeconds, 60);
    assert.equal(first.body.refusals.reachable, true, first.body.refusals.problem);
    // Sampling started at the first read: a refusal after it is counted (by the next 15 s sample).
    assert.equal((await h.product.post('/v1/track', { userId: 'u-x', event: 'X' }, 'still-not-a-key')).status, 401);
    await eventually('the refusal counted', async () => {
      const o = await h.call(keys.analyst, 'GET', '/v1/overview');
      return o.body.refusals.byStatus.some((r: { status: number; count: number }) => r.status === 401 && r.count >= 1);
    }, 40_000);
    assert.equal((await h.call(keys.analyst, 'GET', '/v1/overview', { query: { minutes: 2 } })).status, 400, 'minutes below 5 is refused');
  });

  test('Sources: the write key only for admins; the live tail redacts for analysts and follows its cursor', async () => {
    const list = await h.call(keys.marketer, 'GET', '/v1/sources');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.sources.map((s: { name: string; last24h: { events: number; violations: number } }) => [s.name, s.last24h.events, s.last24h.violations]), [[source, 1, 2]]);
    const admin = await h.call(keys.admin, 'GET', `/v1/sources/${source}`);
    assert.equal(admin.body.writeKey, h.product.sources.web!.writeKey);
    assert.ok(admin.body.snippet.includes(`data-write-key="${h.product.sources.web!.writeKey}"`));
    assert.ok(admin.body.snippet.startsWith(`<script src="${h.product.url}/uspa.js"`), admin.body.snippet);
    assert.deepEqual(admin.body.violations.map((v: { event: string; count: number }) => [v.event, v.count]).sort(), [['Order Completed', 1], ['Order Completed', 1]]);
    const marketer = await h.call(keys.marketer, 'GET', `/v1/sources/${source}`);
    assert.equal(marketer.body.writeKey, null);
    assert.ok(!marketer.text.includes(h.product.sources.web!.writeKey), 'the key is nowhere in a marketer\'s answer');
    assert.match(marketer.body.writeKeyNote, /Secret .*-write-key/);

    const tail = await h.call(keys.analyst, 'GET', `/v1/sources/${source}/events`, { query: { limit: 10 } });
    assert.equal(tail.status, 200, tail.text);
    assert.deepEqual(tail.body.events.map((e: { event: { messageId: string } }) => e.event.messageId), [ids.a]);
    assert.equal(tail.body.events[0].event.properties.email, '[redacted]');
    const quiet = await h.call(keys.analyst, 'GET', `/v1/sources/${source}/events`, { query: { after: tail.body.cursor } });
    assert.deepEqual(quiet.body.events, [], 'nothing new since the cursor');
    assert.equal((await h.product.post('/v1/track', { messageId: ids.b, userId: 'u-2', event: 'Tail B' })).status, 200);
    const next = await eventually('the new event in the tail', async () => {
      const r = await h.call(keys.admin, 'GET', `/v1/sources/${source}/events`, { query: { after: quiet.body.cursor } });
      return r.body.events.length > 0 && r;
    });
    assert.deepEqual(next.body.events.map((e: { event: { messageId: string } }) => e.event.messageId), [ids.b], 'only what was stored after the cursor');
    assert.equal((await h.call(keys.analyst, 'GET', `/v1/sources/${source}/events`, { query: { after: 'garbage' } })).status, 400);
  });

  test('replay of a selection sends exactly the selected dead letters', async () => {
    const dry = await h.call(keys.admin, 'POST', '/v1/pipelines/main/dead-letters/replay', { body: { messageIds: [ids.dead1], dryRun: true } });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.replayed, 1);
    const done = await h.call(keys.admin, 'POST', '/v1/pipelines/main/dead-letters/replay', { body: { messageIds: [ids.dead1] } });
    assert.equal(done.body.replayed, 1);
    await h.product.waitForEvents([ids.dead1]);
    const left = await h.call(keys.admin, 'GET', '/v1/pipelines/main/dead-letters', { query: { replayed: false } });
    assert.deepEqual(left.body.items.map((l: { messageId: string }) => l.messageId), [ids.dead2], 'the other one still waits');
    assert.equal((await h.call(keys.admin, 'POST', '/v1/pipelines/main/dead-letters/replay', { body: { messageIds: [] } })).status, 400);
  });

  test('merges list the links that joined a profile; unmerge (admin only) splits it and answers with the undo', async () => {
    const anon = `anon-${run}`;
    assert.equal((await h.product.post('/v1/identify', { userId: `merge-${run}`, anonymousId: anon, traits: { plan: 'pro' } })).status, 200);
    const merged = await eventually('one profile for both identities', async () => {
      const r = await h.call(keys.analyst, 'GET', `/v1/profiles/userId:merge-${run}/merges`);
      return r.status === 200 && r.body.edges.some((e: { action: string }) => e.action === 'link') && r;
    });
    const link = merged.body.edges.find((e: { action: string }) => e.action === 'link');
    const byId = await h.call(keys.analyst, 'GET', `/v1/profiles/profileId:${merged.body.profileId}`);
    assert.equal(byId.status, 200, 'a profile is found by its own id too (campaign deliveries name it so)');
    assert.equal(byId.body.profileId, merged.body.profileId);
    assert.equal((await h.call(keys.analyst, 'GET', '/v1/profiles/profileId:no-such-profile')).status, 404);
    assert.deepEqual([link.a, link.b].sort(), [`anonymousId:${anon}`, `userId:merge-${run}`].sort());
    assert.equal(link.undone, false);
    const refused = await h.call(keys.marketer, 'POST', `/v1/profiles/userId:merge-${run}/unmerge`, { body: { edgeId: link.id, reason: 'test' } });
    assert.equal(refused.status, 403);
    const unknown = await h.call(keys.admin, 'POST', `/v1/profiles/userId:merge-${run}/unmerge`, { body: { edgeId: 'no-such-edge', reason: 'test' } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.field, 'body.edgeId');
    const undo = await h.call(keys.admin, 'POST', `/v1/profiles/userId:merge-${run}/unmerge`, { body: { edgeId: link.id, reason: 'a shared device' } });
    assert.equal(undo.status, 200, undo.text);
    assert.equal(undo.body.action, 'unlink');
    assert.equal(undo.body.undoes, link.id);
    await eventually('two profiles again', async () => {
      const a = await h.call(keys.analyst, 'GET', `/v1/profiles/anonymousId:${anon}`);
      const u = await h.call(keys.analyst, 'GET', `/v1/profiles/userId:merge-${run}`);
      return a.status === 200 && u.status === 200 && a.body.profileId !== u.body.profileId;
    });
  });

  test('Activation results: outcomes over time, reasons, lift over the holdout with an interval, recent deliveries', async () => {
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'activations', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Activation', metadata: { name: 'promo' }, spec: { trigger: { type: 'event', event: { name: 'Signed Up' } }, destination: { type: 'kafka', kafka: { topic: 'promo-out' } }, template: { body: '{}' }, holdoutPercent: 10 } } });
    const key = `${h.namespace}/promo`;
    const at = chTime(new Date().toISOString());
    // What the activations worker records (its own engine tests cover how): 40 sent in arm a, 20 held out, 2 failed.
    const deliveries = [
      ...Array.from({ length: 40 }, (_, i) => ({ activation: key, message_id: `s-${i}`, profile_id: `p-${i}`, variant: 'a', outcome: 'sent', reason: '', attempt: 1, at })),
      ...Array.from({ length: 20 }, (_, i) => ({ activation: key, message_id: `h-${i}`, profile_id: `q-${i}`, variant: '', outcome: 'holdout', reason: 'holdout', attempt: 0, at })),
      ...Array.from({ length: 2 }, (_, i) => ({ activation: key, message_id: `f-${i}`, profile_id: `r-${i}`, variant: 'a', outcome: 'failed', reason: 'webhook answered 500', attempt: 3, at })),
    ];
    await h.product.warehouse.insert('activation_deliveries', deliveries);
    const conversion = (message_id: string, profile_id: string, variant: string, outcome: string) => ({ activation: key, message_id, profile_id, variant, outcome, event: 'Order Completed', event_message_id: `e-${message_id}`, delivered_at: at, converted_at: at });
    await h.product.warehouse.insert('activation_conversions', [...Array.from({ length: 20 }, (_, i) => conversion(`s-${i}`, `p-${i}`, 'a', 'sent')), ...Array.from({ length: 5 }, (_, i) => conversion(`h-${i}`, `q-${i}`, '', 'holdout'))]);
    const r = await h.call(keys.analyst, 'GET', '/v1/activations/promo/results', { query: { minutes: 60, limit: 5 } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.totals, { sent: 40, failed: 2, suppressed: 0, holdout: 20 });
    assert.deepEqual(r.body.reasons, [{ outcome: 'holdout', reason: 'holdout', count: 20 }, { outcome: 'failed', reason: 'webhook answered 500', count: 2 }]);
    const arm = r.body.lift.find((a: { arm: string }) => a.arm === 'a');
    assert.equal(arm.rate, 0.5);
    assert.equal(arm.lift, 1, '50% against 25%');
    assert.ok(arm.liftLow < 1 && arm.liftHigh > 1, `interval ${arm.liftLow}…${arm.liftHigh}`);
    assert.equal(r.body.recent.length, 5);
    assert.equal((await h.call(keys.analyst, 'GET', '/v1/activations/none/results')).status, 404);
  });

  test('placements with their arms; model versions with persona sizes and recommendation quality', async () => {
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: h.namespace, plural: 'personalizations', body: { apiVersion: 'uspa.tech/v1alpha1', kind: 'Personalization', metadata: { name: 'hero' }, spec: { variants: [{ name: 'all', content: 'hi' }], fallback: { content: '' }, holdoutPercent: 10 } } });
    const p = await h.call(keys.analyst, 'GET', '/v1/personalizations');
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.body.placements.map((x: { name: string; variants: string[]; holdoutPercent: number }) => [x.name, x.variants, x.holdoutPercent]), [['hero', ['all'], 10]]);
    const at = chTime(new Date().toISOString());
    await h.product.warehouse.insert('model_versions', [
      { model: 'personas', version: 1, run: 'r1', revision: 'x', trained_at: at, params: '{}', quality: JSON.stringify({ algorithm: 'kmeans', k: 2, silhouette: 0.41, n: 100, clusters: [{ persona: 'p1-buyers', rank: 1, size: 30, share: 0.3, centroid: [1] }, { persona: 'p2-browsers', rank: 2, size: 70, share: 0.7, centroid: [0] }] }), artifact: '{}' },
      { model: 'recommendations', version: 3, run: 'r3', revision: 'x', trained_at: at, params: '{}', quality: JSON.stringify({ items: 60, coverage: 0.8, offline: { model: { precision: 0.11 }, popularity: { precision: 0.05 } } }), artifact: '{}' },
    ]);
    const m = await h.call(keys.analyst, 'GET', '/v1/models');
    assert.equal(m.status, 200, m.text);
    assert.deepEqual(m.body.personas[0].personas, [{ label: 'p1-buyers', size: 30, share: 0.3 }, { label: 'p2-browsers', size: 70, share: 0.7 }]);
    assert.equal(m.body.personas[0].quality.clusters, undefined, 'the clusters (with centroids) are in personas');
    assert.equal(m.body.recommendations[0].quality.coverage, 0.8);
  });
});
