// The local runtime: the Deployments the operator creates become local processes, their readiness
// flows back into Pod and Deployment status, and the collector Service answers on loopback —
// the path CR → Deployment → ReplicaSet → Pod → process, end to end with a real event.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { eventually } from '../support/env.ts';
import { operatorHarness, type OperatorHarness } from '../support/operator.ts';
import type { LocalRuntime } from '../../stack/runtime/kubelet.ts';
import { webhookReceiver } from '../activations/support.ts';

describe('local runtime', { timeout: 900_000 }, () => {
  let h: OperatorHarness;
  let runtime: LocalRuntime;
  before(async () => {
    h = await operatorHarness('rt');
    await h.startOperator();
    runtime = await h.startRuntime();
  });
  after(async () => h?.close());

  const collectorPod = async () => (await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/name=uspa-collector' })).items.filter((p) => !p.metadata!.deletionTimestamp);
  const writeKey = async () => Buffer.from((await h.core.readNamespacedSecret({ name: 'web-write-key', namespace: h.namespace })).data!.writeKey!, 'base64').toString();
  const track = async (messageId: string) => {
    const url = runtime.serviceUrl(h.namespace, 'uspa-collector');
    assert.ok(url, 'the collector Service is forwarded on loopback');
    return fetch(`${url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${await writeKey()}:`).toString('base64')}` },
      body: JSON.stringify({ messageId, userId: 'u-1', event: 'Signed Up', properties: { plan: 'pro' } }),
    });
  };

  test('Source and Pipeline become Ready once their pods run as local processes; an event flows to ClickHouse', async () => {
    await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec: { type: web }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec:
  sources: [web]
  batch: { maxWaitMs: 100, profileIntervalMs: 200 }
`);
    await h.ready('sources', 'web', undefined, 120_000);
    await h.ready('pipelines', 'main', undefined, 120_000);
    const [pod] = await collectorPod();
    assert.equal(pod!.spec!.nodeName, 'uspa-local');
    assert.equal(pod!.status!.phase, 'Running');
    assert.equal(pod!.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
    const d = await h.apps.readNamespacedDeployment({ name: 'uspa-collector', namespace: h.namespace });
    assert.equal(d.status!.readyReplicas, 1, 'readiness reached the Deployment through the real ReplicaSet controller');

    const id = `rt-${randomUUID()}`;
    const res = await track(id);
    assert.equal(res.status, 200, await res.text());
    await eventually('the event in ClickHouse', async () => Number((await h.warehouse.query<{ n: string }>('SELECT count() AS n FROM {db}.events WHERE message_id = {id:String}', { id }))[0]!.n) === 1, 60_000);
  });

  test('a killed process is restarted and the restart is counted in Pod status', async () => {
    const [pod] = await collectorPod();
    const proc = runtime.processOf(h.namespace, pod!.metadata!.name!)!;
    process.kill(proc.pid!, 'SIGKILL');
    await eventually('restartCount 1 and Ready again', async () => {
      const [p] = await collectorPod();
      const s = p!.status!.containerStatuses![0]!;
      return s.restartCount === 1 && s.ready && p!.status!.conditions!.find((c) => c.type === 'Ready')!.status === 'True';
    }, 60_000);
    assert.equal((await track(`rt-${randomUUID()}`)).status, 200);
  });

  test('a configuration change rolls the collector: the new pod starts, the old one is stopped and removed', async () => {
    const [old] = await collectorPod();
    await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec: { type: web, rateLimit: { eventsPerSecond: 1000, burst: 2000 } }
`);
    await eventually('a new collector pod, the old one gone', async () => {
      const pods = await collectorPod();
      return pods.length === 1 && pods[0]!.metadata!.name !== old!.metadata!.name && pods[0]!.status!.containerStatuses?.[0]?.ready;
    }, 120_000);
    // A terminating pod leaves collectorPod() at once; like a kubelet, the runtime removes the Pod
    // object only once its process has stopped.
    await eventually('the old Pod to be removed from the API server', async () => {
      const pods = await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/name=uspa-collector' });
      return !pods.items.some((p) => p.metadata!.name === old!.metadata!.name);
    }, 60_000);
    assert.equal(runtime.processOf(h.namespace, old!.metadata!.name!), undefined, 'the old process was stopped');
    assert.equal((await track(`rt-${randomUUID()}`)).status, 200);
  });

  test('a Segment is computed by the namespace\'s segments worker (a pod too): events in → members → size in status', async () => {
    const url = runtime.serviceUrl(h.namespace, 'uspa-collector')!;
    const auth = `Basic ${Buffer.from(`${await writeKey()}:`).toString('base64')}`;
    for (const [user, plan] of [['u-pro-1', 'pro'], ['u-pro-2', 'pro'], ['u-free', 'free']]) {
      const res = await fetch(`${url}/v1/identify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify({ userId: user, traits: { plan } }) });
      assert.equal(res.status, 200);
    }
    await eventually('three profiles with a plan', async () => Number((await h.warehouse.query<{ n: string }>("SELECT count() AS n FROM {db}.profiles FINAL WHERE deleted = 0 AND JSONHas(traits, 'plan')"))[0]!.n) === 3, 60_000);
    const appliedAt = Math.floor(Date.now() / 1000) * 1000; // lastComputedAt has whole seconds
    await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: pro }
spec: { rule: { trait: plan, op: eq, value: pro } }
`);
    await h.ready('segments', 'pro');
    await eventually('the segments worker pod ready', async () => (await h.apps.readNamespacedDeployment({ name: 'uspa-worker-segments', namespace: h.namespace })).status?.readyReplicas === 1, 120_000);
    // No trigger: a new Segment is computed once as soon as its schedule exists (its first run waits
    // for the worker pod), not at its hourly interval. A second run here would make it version 2.
    await eventually('size 2 in the Segment status', async () => (await h.get('segments', 'pro')).status?.size === 2, 90_000);
    const s = await h.get('segments', 'pro');
    assert.equal(s.status!.version, 1);
    const lastComputedAt = s.status!.lastComputedAt as string;
    assert.match(lastComputedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Date.parse(lastComputedAt) >= appliedAt && Date.parse(lastComputedAt) <= Date.now(), `lastComputedAt ${lastComputedAt} is after the Segment was applied (${new Date(appliedAt).toISOString()}) and not in the future`);
  });

  test('the whole path on the product\'s own pods: identify → Segment entered → campaign → webhook received exactly once although its first attempt failed', async () => {
    const hook = await webhookReceiver((_req, n) => (n === 1 ? 503 : 200));
    try {
      // An Activation also reads what was published up to 2 s (clock skew) before it was accepted, and
      // its acceptance time has whole seconds: u-pro-1 and u-pro-2 entering in the previous test must
      // be older than that, or they trigger it too (CI once saw 3 deliveries).
      await new Promise((r) => setTimeout(r, 4_000));
      await h.apply(`apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: welcome }
spec:
  segment: pro
  trigger: { type: segmentEntered }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  template: { body: '{"plan": "{{ traits.plan }}"}' }
`);
      // The activations worker starts with the first Activation and bundles its workflows first: minutes
      // on two loaded cores, as in the killed-worker test.
      await h.ready('activations', 'welcome', undefined, 240_000);
      await eventually('the activations worker pod ready', async () => (await h.apps.readNamespacedDeployment({ name: 'uspa-worker-activations', namespace: h.namespace })).status?.readyReplicas === 1, 120_000);
      const url = runtime.serviceUrl(h.namespace, 'uspa-collector')!;
      const res = await fetch(`${url}/v1/identify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${await writeKey()}:`).toString('base64')}` }, body: JSON.stringify({ userId: 'u-pro-3', traits: { plan: 'pro', consent: { marketing: true } } }) });
      assert.equal(res.status, 200);
      await eventually('the new profile stored', async () => Number((await h.warehouse.query<{ n: string }>("SELECT count() AS n FROM {db}.profiles FINAL WHERE deleted = 0 AND has(identities, 'userId:u-pro-3')"))[0]!.n) === 1, 60_000);
      // A manual trigger overlaps a run in flight unless told otherwise (the SDK's default is ALLOW_ALL);
      // two runs of one Segment at once would both see u-pro-3 enter. The schedule itself skips overlaps.
      await h.temporal.schedule.getHandle(`uspa-segment-${h.namespace}-pro`).trigger(ScheduleOverlapPolicy.BUFFER_ONE);
      // Segment run, segment-changes record, trigger consumer, campaign, two webhook attempts: minutes under load.
      await eventually('one accepted delivery', async () => hook.delivered.size === 1, 300_000);
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal(hook.delivered.size, 1, 'exactly one delivery');
      assert.equal(hook.requests.length, 2, 'the first attempt failed (503) and was retried');
      assert.equal(hook.requests[0]!.headers['idempotency-key'], hook.requests[1]!.headers['idempotency-key'], 'the retry carries the same idempotency key');
      assert.deepEqual(JSON.parse(hook.requests[1]!.body), { plan: 'pro' });
      const sent = await h.warehouse.query<{ n: string }>("SELECT count() AS n FROM {db}.activation_deliveries FINAL WHERE activation = {a:String} AND outcome = 'sent'", { a: `${h.namespace}/welcome` });
      assert.equal(Number(sent[0]!.n), 1);
    } finally {
      await hook.close();
    }
  });
});

