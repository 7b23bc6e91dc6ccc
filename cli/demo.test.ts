import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseCatalogItem } from '../api/catalog.ts';
import { parseEvent } from '../api/event.ts';
import { HOLDOUT_ARM, type Personalization } from '../api/v1alpha1/personalization.ts';
import type { Activation } from '../api/v1alpha1/activation.ts';
import { LIMITS, normalizeBatch } from '../collector/tracking-api.ts';
import { validateRule } from '../lib/segments/rules.ts';
import { compilePlacement } from '../lib/personalization/placement.ts';
import { destinationErrors, templateErrors } from '../operator/controllers/activation.ts';
import { repoRoot } from '../stack/paths.ts';
import { BATCH_EVENTS, DEMO_DAYS, DEMO_FILE, DEMO_OUTPUT, DEMO_PLACEMENT, demoBatches, demoCatalog, demoEvents, demoTrickle, type DemoEvent } from './demo.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-04T12:00:00Z');
// The default size, made once: the assertions below read the same events.
const data = demoEvents({ now: NOW, seed: 7 });
const of = (phase: DemoEvent['phase']) => data.events.filter((e) => e.phase === phase);
const props = (e: DemoEvent) => e.payload.properties as Record<string, unknown>;

test('demo: the same seed and clock give the same events; another seed others', () => {
  const a = demoEvents({ now: NOW, seed: 3, visitors: 200 });
  assert.deepEqual(demoEvents({ now: NOW, seed: 3, visitors: 200 }), a);
  assert.notDeepEqual(demoEvents({ now: NOW, seed: 4, visitors: 200 }).events, a.events);
  // A visitor is the same whatever the count: the first 200 of 3000 are these 200.
  const first = (d: typeof a) => d.events.filter((e) => e.phase === 'history' && Number(/^demo-7-(\d+)-/.exec(e.payload.messageId)?.[1] ?? Infinity) < 200);
  assert.deepEqual(first(demoEvents({ now: NOW, seed: 7, visitors: 200 })), first(data));
  assert.equal(new Set(data.events.map((e) => e.payload.messageId)).size, data.events.length, 'message ids are unique');
  assert.equal(data.visitors, 3000);
});

test('demo: batches hold one Source each, at most 100 events and 500 KB, every event once and in order', () => {
  for (const [events, maxBytes] of [[data.events, LIMITS.batchBytes], [data.events.slice(0, 3000), 20_000]] as const) {
    const batches = demoBatches(events, BATCH_EVENTS, maxBytes);
    for (const b of batches) {
      assert.ok(b.events.length >= 1 && b.events.length <= 100, `${b.events.length} events`);
      assert.equal(b.bytes, Buffer.byteLength(JSON.stringify({ batch: b.events })), 'bytes is the request body');
      assert.ok(b.bytes <= maxBytes, `${b.bytes} bytes`);
    }
    for (const source of ['web', 'backend'] as const) {
      assert.deepEqual(batches.filter((b) => b.source === source).flatMap((b) => b.events.map((e) => e.messageId)), events.filter((e) => e.source === source).map((e) => e.payload.messageId));
    }
  }
  assert.ok(LIMITS.batchBytes <= 500 * 1024);
  assert.throws(() => demoBatches(data.events.slice(0, 1), 100, 100), /larger than a batch may be/);
});

test('demo: the collector accepts the history and live events, and refuses the invalid ones into the dead-letter topics', () => {
  const ctx = { source: 'web', receivedAt: new Date(NOW), newMessageId: () => 'generated' };
  const seen = new Map<string, number>();
  const byId = new Map(data.events.map((e) => [e.payload.messageId, e]));
  for (const b of demoBatches(data.events)) {
    const { results, errors } = normalizeBatch({ batch: b.events }, { ...ctx, source: b.source });
    assert.deepEqual(errors, []);
    results.forEach((r, i) => {
      const e = byId.get(b.events[i]!.messageId)!;
      if (e.phase === 'invalid') {
        assert.equal(r.ok, false, e.payload.messageId);
        const reason = (!r.ok && r.reason) || 'invalid_event';
        seen.set(reason, (seen.get(reason) ?? 0) + 1);
      } else {
        assert.ok(r.ok, `${e.payload.messageId}: ${JSON.stringify(!r.ok && r.errors)}`);
        if (r.ok) assert.ok(parseEvent(Buffer.from(JSON.stringify(r.event))).ok, 'the pipeline reads it');
      }
    });
  }
  assert.equal(of('invalid').length, 20);
  assert.deepEqual(Object.fromEntries(seen), { timestamp_out_of_window: 16, invalid_event: 4 });
});

test('demo: orders carry revenue (their lines plus shipping) and name catalog products', () => {
  const catalog = new Map(demoCatalog().map((i) => [i.id, i]));
  const orders = data.events.filter((e) => e.phase !== 'invalid' && e.payload.event === 'Order Completed');
  assert.equal(orders.length, data.orders);
  assert.ok(data.orders > 300, `${data.orders} orders`);
  for (const o of orders) {
    const p = props(o);
    const lines = p.products as Array<{ product_id: string; price: number; quantity: number }>;
    assert.ok(lines.length > 0);
    for (const l of lines) assert.equal(catalog.get(l.product_id)?.price, l.price);
    const subtotal = Math.round(lines.reduce((s, l) => s + l.price * l.quantity, 0) * 100) / 100;
    assert.ok(typeof p.revenue === 'number' && p.revenue > 0);
    assert.equal(p.revenue, Math.round((subtotal + (p.shipping as number)) * 100) / 100);
    assert.equal(p.currency, 'EUR');
    // A logged-in customer's order comes from the backend, a guest's from the website.
    assert.equal(o.source, o.payload.userId && !o.payload.anonymousId ? 'backend' : 'web');
  }
  assert.ok(orders.some((o) => o.source === 'backend') && orders.some((o) => o.source === 'web'));
  assert.ok(data.events.filter((e) => e.payload.event === 'Product Viewed' || e.payload.event === 'Product Added').every((e) => e.phase === 'invalid' || catalog.has(props(e).product_id as string)));
});

test('demo: about 30% of visitors identify with traits, some through the backend', () => {
  const identifies = data.events.filter((e) => e.phase === 'history' && e.payload.type === 'identify');
  const web = identifies.filter((e) => e.source === 'web');
  assert.equal(new Set(web.map((e) => e.payload.anonymousId)).size, data.identified);
  const share = data.identified / data.visitors;
  assert.ok(share > 0.27 && share < 0.33, `${share}`);
  for (const e of web) {
    const traits = e.payload.traits as Record<string, unknown>;
    assert.ok(e.payload.userId && e.payload.anonymousId);
    assert.match(String(traits.email), /^[a-z0-9.]+@example\.com$/);
    assert.ok(traits.name && traits.country && typeof traits.newsletter === 'boolean' && traits.plan === 'free');
  }
  const upgrades = identifies.filter((e) => e.source === 'backend');
  assert.ok(upgrades.length > 0 && upgrades.every((e) => (e.payload.traits as { plan?: string }).plan === 'pro' && !e.payload.anonymousId));
  const share_ = upgrades.length / data.identified;
  assert.ok(share_ > 0.15 && share_ < 0.35, `pro share ${share_}`);
});

test('demo: the history spans the past 14 days, never the future; live events have no timestamp', () => {
  const times = of('history').map((e) => Date.parse(e.payload.timestamp as string));
  assert.ok(times.every((t) => t >= NOW - DEMO_DAYS * DAY && t < NOW), 'within the 14 days before now');
  assert.ok(Math.min(...times) < NOW - (DEMO_DAYS - 1) * DAY, 'starts 14 days ago');
  assert.ok(Math.max(...times) > NOW - 3_600_000, 'reaches the last hour');
  assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!), 'in time order');
  const days = new Set(times.map((t) => Math.floor((NOW - t) / DAY)));
  assert.equal(days.size, DEMO_DAYS, 'every day has events');
  const live = of('live');
  assert.ok(live.length >= 10 && live.every((e) => e.payload.timestamp === undefined));
  // The only timestamps ahead of now are the invalid ones.
  assert.ok(data.events.filter((e) => typeof e.payload.timestamp === 'string' && Date.parse(e.payload.timestamp) > NOW).every((e) => e.phase === 'invalid'));
});

test('demo: the live trickle is deterministic per tick, undated, and never repeats a message id', () => {
  const a = demoTrickle({ seed: 7, visitors: 3000, tick: 5, run: 'r1' });
  assert.deepEqual(demoTrickle({ seed: 7, visitors: 3000, tick: 5, run: 'r1' }), a);
  assert.ok(a.events.length > 0 && a.events.every((e) => e.phase === 'live' && e.payload.timestamp === undefined));
  const ids = [1, 2, 3, 4, 5, 6].flatMap((tick) => demoTrickle({ seed: 7, visitors: 3000, tick, run: 'r1' }).events.map((e) => e.payload.messageId));
  assert.equal(new Set([...ids, ...demoTrickle({ seed: 7, visitors: 3000, tick: 1, run: 'r2' }).events.map((e) => e.payload.messageId)]).size, ids.length + demoTrickle({ seed: 7, visitors: 3000, tick: 1, run: 'r2' }).events.length);
});

test('demo: examples/demo.yaml holds valid rules, templates, destinations and the placement the exposures name', () => {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, DEMO_FILE), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> });
  assert.ok(docs.every((d) => d.metadata.namespace === undefined), 'namespace-less');
  const kinds = docs.map((d) => d.kind);
  assert.ok(kinds.filter((k) => k === 'Segment').length >= 4 && kinds.includes('Activation') && kinds.includes('Personalization'));
  for (const s of docs.filter((d) => d.kind === 'Segment')) assert.deepEqual(validateRule(s.spec.rule), [], s.metadata.name);
  assert.ok(docs.some((d) => d.kind === 'Segment' && d.spec.mode === 'realtime'));
  const activation = docs.find((d) => d.kind === 'Activation') as unknown as Activation;
  assert.deepEqual(templateErrors(activation.spec), []);
  assert.deepEqual(destinationErrors(activation.spec, 'uspa.default.out.', 'deny'), []);
  assert.equal(activation.spec.destination.kafka?.topic, `uspa.default.out.${DEMO_OUTPUT}`);
  assert.equal(activation.spec.holdoutPercent, 10);
  assert.equal(activation.spec.variants?.length, 2);
  const placement = docs.find((d) => d.kind === 'Personalization') as unknown as Personalization;
  assert.equal(placement.metadata.name, DEMO_PLACEMENT);
  assert.deepEqual(compilePlacement(placement).problems, []);
  const arms = new Set(data.events.filter((e) => e.payload.event === 'Personalization Exposed').map((e) => props(e).variant));
  assert.deepEqual([...arms].filter((a) => a !== HOLDOUT_ARM && !placement.spec.variants.some((v) => v.name === a)), [], 'exposures name variants of the placement');
  assert.ok(arms.has(HOLDOUT_ARM));
});

test('demo: the catalog is 60 valid items in 6 departments', () => {
  const items = demoCatalog();
  assert.equal(items.length, 60);
  assert.equal(new Set(items.map((i) => i.id)).size, 60);
  assert.equal(new Set(items.map((i) => i.category.join(' > '))).size, 6);
  for (const [i, item] of items.entries()) assert.deepEqual(parseCatalogItem(item, `items[${i}]`).problems, undefined);
  assert.ok(items.some((i) => !i.available) && items.some((i) => i.tags.includes('new')));
});
