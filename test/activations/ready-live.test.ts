// Ready means live, tried the way a marketer meets it, three times in fresh namespaces: a Source,
// a Pipeline, a realtime Segment and two Activations (a segment-entered welcome webhook; a cart
// reminder with a delay and an `unless`) are applied; the moment `kubectl get uspa` shows every
// resource Ready, two identifies and the cart events are sent. Nothing may be skipped: the welcome
// fires once per person, the reminder once, and not for the person who ordered. The operator, the
// local runtime and every worker (collector, pipeline, activations, …) run for real.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../lib/log.ts';
import { startActivationsWorker, type RunningActivationsWorker } from '../../workers/activations/main.ts';
import { eventually } from '../support/env.ts';
import { SOURCE_AND_PIPELINE } from '../support/manifests.ts';
import { kubectl, operatorHarness, type OperatorHarness } from '../support/operator.ts';
import { scratch, webhookReceiver, type Scratch, type WebhookReceiver } from './support.ts';

const RUNS = 3;

function journeys(hookUrl: string): string {
  return `${SOURCE_AND_PIPELINE}---
apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: pro }
spec: { mode: realtime, rule: { trait: plan, op: eq, value: pro } }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: welcome }
spec:
  segment: pro
  trigger: { type: segmentEntered }
  destination: { type: webhook, webhook: { url: "${hookUrl}" } }
  template: { body: '{"name": {{ traits.name | json }}}' }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: cart }
spec:
  trigger:
    type: event
    event: { name: Product Added }
    delay: 2s
    unless: { event: Order Completed, within: 2s }
  destination: { type: webhook, webhook: { url: "${hookUrl}" } }
  template: { body: '{"name": {{ traits.name | json }}, "item": {{ event.properties.name | json }}}' }
`;
}

/** What the marketer looks at: every resource of the namespace, each with Ready=True. */
async function allReady(namespace: string, count: number): Promise<void> {
  await eventually(`all ${count} resources Ready in kubectl get uspa`, async () => {
    const items = (JSON.parse(await kubectl(['get', 'uspa', '-n', namespace, '-o', 'json'])) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> }).items;
    return items.length === count && items.every((i) => i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, 180_000);
}

describe('Ready means live: events sent the moment everything is Ready are not skipped', { timeout: RUNS * 360_000 }, () => {
  let hook: WebhookReceiver;
  before(async () => {
    hook = await webhookReceiver();
  });
  after(async () => hook?.close());

  for (let run = 1; run <= RUNS; run++) {
    test(`run ${run} of ${RUNS}, fresh namespace: the welcome fires once per person, the cart reminder once and not for the person who ordered`, async () => {
      const h: OperatorHarness = await operatorHarness('live');
      try {
        await h.startOperator();
        const runtime = await h.startRuntime();
        await h.apply(journeys(hook.url));
        await allReady(h.namespace, 5);

        const url = runtime.serviceUrl(h.namespace, 'uspa-collector');
        assert.ok(url, 'the collector Service is forwarded on loopback');
        const writeKey = Buffer.from((await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace })).data!.writeKey!, 'base64').toString();
        const send = async (path: string, body: object) => {
          const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` }, body: JSON.stringify(body) });
          assert.equal(res.status, 200, `${path}: ${await res.text()}`);
        };
        const sentAt = Date.now();
        await send('/v1/identify', { userId: 'u-ada', traits: { name: 'Ada', plan: 'pro' } });
        await send('/v1/identify', { userId: 'u-bob', traits: { name: 'Bob', plan: 'pro' } });
        await send('/v1/track', { userId: 'u-ada', event: 'Product Added', properties: { name: 'Shoes' } });
        await send('/v1/track', { userId: 'u-bob', event: 'Product Added', properties: { name: 'Hat' } });
        await send('/v1/track', { userId: 'u-bob', event: 'Order Completed', properties: { revenue: 30 } });

        const of = (activation: string) => [...hook.delivered.values()].filter((r) => r.headers['x-uspa-activation'] === `${h.namespace}/${activation}`);
        await eventually('a welcome for each person', async () => of('welcome').length >= 2, 60_000);
        const welcomedIn = Date.now() - sentAt;
        await eventually('the cart reminder', async () => of('cart').length >= 1, 60_000);
        await new Promise((r) => setTimeout(r, 5_000)); // room for a duplicate or a wrong reminder to arrive
        assert.deepEqual(of('welcome').map((r) => JSON.parse(r.body).name).sort(), ['Ada', 'Bob'], 'one welcome per person');
        assert.deepEqual(of('cart').map((r) => JSON.parse(r.body)), [{ name: 'Ada', item: 'Shoes' }], 'one reminder, not for Bob who ordered');
        console.log(`run ${run}: both welcomes within ${welcomedIn} ms of the first identify`);
      } finally {
        await h.close();
      }
    });
  }
});

describe('Ready means live: a Source added to a running namespace is Ready only once the collector serves its write key', { timeout: 300_000 }, () => {
  test('the moment the second Source is Ready, its write key is accepted (and the first one still is)', async () => {
    const h = await operatorHarness('live-src');
    try {
      await h.startOperator();
      const runtime = await h.startRuntime();
      await h.apply(SOURCE_AND_PIPELINE);
      await h.ready('sources', 'web', undefined, 120_000);
      await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: app }
spec: { type: server }
`);
      // The shared collector rolls to a configuration with the new Source; the old pod answers until it is replaced.
      await h.ready('sources', 'app', undefined, 120_000);
      const track = async (source: string) => {
        const key = Buffer.from((await h.core.readNamespacedSecret({ name: `${source}-write-key`, namespace: h.namespace })).data!.writeKey!, 'base64').toString();
        const res = await fetch(`${runtime.serviceUrl(h.namespace, 'uspa-collector')}/v1/track`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` }, body: JSON.stringify({ userId: 'u-1', event: 'Signed Up' }) });
        return `${res.status} ${await res.text()}`;
      };
      assert.match(await track('app'), /^200 /, 'the new Source\'s write key right after it turned Ready');
      assert.match(await track('web'), /^200 /);
    } finally {
      await h.close();
    }
  });
});

describe('Ready means live: an Activation added to a running trigger consumer', { timeout: 240_000 }, () => {
  test('sees what was published between its acceptance and its load (a catch-up read for it alone), and is reported loaded', async () => {
    const s: Scratch = await scratch('catch');
    const hook = await webhookReceiver();
    let worker: RunningActivationsWorker | undefined;
    const activation = (name: string, event: string) => `apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: ${name} }
spec:
  trigger: { type: event, event: { name: ${event} } }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  template: { body: '{"name": {{ traits.name | json }}}' }
`;
    const loaded = async (name: string) => {
      const a = JSON.parse(await kubectl(['get', 'activation', name, '-n', s.namespace, '-o', 'json'])) as { metadata: { generation: number }; status?: { workers?: Array<{ component: string; generation: number; state: string }> } };
      return a.status?.workers?.some((w) => w.component === 'activations' && w.state === 'Live' && w.generation === a.metadata.generation);
    };
    try {
      await s.profile('p-late', ['userId:u-late'], { name: 'Late' });
      await s.apply(activation('first', 'Page Viewed'));
      worker = await startActivationsWorker({ namespace: s.namespace, env: s.env, log: createLogger('worker-activations', process.env.USPA_TEST_LOGS ? 'debug' : 'error'), conversionsIntervalMs: false, topicRefreshMs: 1_000 });
      await eventually('the first Activation reported loaded', () => loaded('first'), 60_000);

      // A record the consumer reads before it knows the second Activation, stamped (as Kafka
      // records are, by their producer) as published once that Activation was accepted.
      const before = worker.consumer!.recordsSeen;
      const now = new Date().toISOString();
      const event = { type: 'track', event: 'Product Added', userId: 'u-late', messageId: `late-${Date.now()}`, timestamp: now, receivedAt: now, properties: {}, traits: {}, context: {}, integrations: {}, source: 'web' };
      await s.producer.send({ topic: `${s.topicPrefix}.events.web`, acks: -1, messages: [{ key: 'u-late', value: JSON.stringify(event), timestamp: String(Date.now() + 5_000) }] });
      await eventually('the consumer read it', async () => worker!.consumer!.recordsSeen > before, 30_000);
      assert.equal(worker.activations.get('second'), undefined, 'read before the second Activation existed');

      await s.apply(activation('second', 'Product Added'));
      await eventually('the second Activation reported loaded', () => loaded('second'), 60_000);
      const of = (name: string) => [...hook.delivered.values()].filter((r) => r.headers['x-uspa-activation'] === `${s.namespace}/${name}`);
      await eventually('the second Activation fired for the record', async () => of('second').length >= 1, 60_000);
      await new Promise((r) => setTimeout(r, 3_000));
      assert.deepEqual(of('second').map((r) => JSON.parse(r.body)), [{ name: 'Late' }], 'once');
      assert.equal(of('first').length, 0);
    } finally {
      await worker?.cancelCampaigns('second').catch(() => undefined);
      await worker?.close();
      await hook.close();
      await s.close();
    }
  });
});
