// The activations worker end to end on the stack: Activation custom resources on the real API
// server, raw events and segment changes on Kafka, the Temporal dev server, ClickHouse, and real
// local receivers (HTTP, Kafka, SMTP). No operator: the Activations and Secrets are applied directly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { chTime } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { commitVersion, writeProfileRecommendations } from '../../lib/models/store.ts';
import { WORKFLOWS_PATH, startActivationsWorker, type RunningActivationsWorker } from '../../workers/activations/main.ts';
import { variantFor } from '../../workers/activations/policy.ts';
import { activationLift } from '../../lib/personalization/lift.ts';
import { campaignWorkflowId } from '../../api/workflows/activations.ts';
import { deliveryKey } from '../../workers/activations/triggers.ts';
import { syncAudience } from '../../workflows/activations.ts';
import { eventually, unique } from '../support/env.ts';
import { kubectl } from '../support/operator.ts';
import { deliveries, scratch, smtpReceiver, webhookReceiver, type Scratch, type SmtpReceiver, type WebhookReceiver } from './support.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const SIGNING_SECRET = 'whsec-e2e-0123456789';
const AUTH_HEADER = 'Bearer tok-e2e-9876543210';
let s: Scratch;
let hook: WebhookReceiver;
let smtp: SmtpReceiver;
let worker: RunningActivationsWorker;
let bundle: WorkflowBundleWithSourceMap;
const hourUtc = new Date().getUTCHours();
const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
const COUPON_VARIANTS = [
  { name: 'a', weight: 50 },
  { name: 'b', weight: 50 },
];

function activations(ns: string, crmTopic: string): string {
  return `
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: cart }
spec:
  trigger:
    type: event
    event: { name: Product Added, where: [{ property: price, op: gte, value: 20 }] }
    delay: 2s
    unless: { event: Order Completed, within: 2s }
  destination:
    type: webhook
    webhook: { url: "${hook.url}", signingSecretRef: { name: hook-signing }, secretHeaders: [{ name: Authorization, valueFrom: { secretKeyRef: { name: hook-auth, key: header } } }] }
  template:
    body: '{"text": {{ "Hi " | append: traits.firstName | append: ", your " | append: event.properties.name | append: " is waiting" | json }}, "profile": {{ profile.id | json }}}'
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: coupon }
spec:
  trigger:
    type: event
    event: { name: Coupon Viewed }
    unless: { event: Coupon Redeemed, within: 1s }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  variants: ${JSON.stringify(COUPON_VARIANTS.map((v) => ({ ...v, template: { body: `variant ${v.name} for {{ profile.id }}` } })))}
  holdoutPercent: 50
  frequencyCap: { max: 1, per: 1h }
  consent: { category: marketing }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: quiet }
spec:
  trigger: { type: event, event: { name: Wishlist Added } }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  quietHours: { start: "${hh(hourUtc)}", end: "${hh(hourUtc + 2)}", timeZoneTrait: timezone, defaultTimeZone: UTC }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: welcome }
spec:
  segment: vip
  trigger: { type: segmentEntered }
  destination: { type: kafka, kafka: { topic: ${crmTopic} } }
  template: { body: '{"profileId": {{ profile.id | json }}, "plan": {{ traits.plan | json }}, "segment": {{ segment.name | json }}, "version": {{ segment.version }}}' }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: reset }
spec:
  trigger: { type: event, event: { name: Checkout Started } }
  destination:
    type: email
    email: { smtpSecretRef: { name: smtp }, from: "Shop <hello@shop.example>", subject: "Still there, {{ traits.firstName }}?" }
  template: { body: "Hi {{ traits.firstName }}, finish your order of {{ event.properties.name }}." }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: audience }
spec:
  segment: vip
  trigger: { type: schedule, schedule: { interval: 6h }, sync: diff }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  consent: { category: ads }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: later }
spec:
  trigger: { type: event, event: { name: Newsletter Opened }, delay: 1h }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: recs }
spec:
  trigger: { type: event, event: { name: Order Shipped } }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
  template: { body: '{"profile": {{ profile.id | json }}, "recommended": [{% for r in recommendations %}{{ r.item | json }}{% unless forloop.last %}, {% endunless %}{% endfor %}]}' }
---
apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: paused }
spec:
  trigger: { type: event, event: { name: Review Requested }, delay: 3s }
  destination: { type: webhook, webhook: { url: "${hook.url}" } }
`.replaceAll('__NS__', ns);
}

const forActivation = (name: string) => [...hook.requests].filter((r) => r.headers['x-uspa-activation'] === `${s.namespace}/${name}`);

before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
  s = await scratch('act');
  hook = await webhookReceiver();
  smtp = await smtpReceiver();
  await kubectl(['create', 'secret', 'generic', 'hook-signing', '-n', s.namespace, `--from-literal=signingSecret=${SIGNING_SECRET}`]);
  await kubectl(['create', 'secret', 'generic', 'hook-auth', '-n', s.namespace, `--from-literal=header=${AUTH_HEADER}`]);
  await kubectl(['create', 'secret', 'generic', 'smtp', '-n', s.namespace, `--from-literal=url=${smtp.url}`]);
  const admin = s.kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${s.topicPrefix}.out.crm`, numPartitions: 1 }] });
  await admin.disconnect();
  await s.apply(activations(s.namespace, `${s.topicPrefix}.out.crm`));
  worker = await startActivationsWorker({ namespace: s.namespace, env: s.env, log: createLogger('worker-activations', process.env.USPA_TEST_LOGS ? 'debug' : 'error'), workflowBundle: bundle, conversionsIntervalMs: false, topicRefreshMs: 1_000 });
  await eventually('the worker sees the 9 Activations', async () => worker.activations.list().length === 9, 30_000);
  await worker.consumer!.joinedWithin(30_000);
  // The group starts where its Activations were accepted, so nothing is skipped; waiting until it
  // reads keeps the tests' delays measured from a consuming worker.
  await eventually('the trigger consumer reads', async () => {
    await s.send('web', { event: 'Warm Up', userId: 'nobody' });
    await new Promise((r) => setTimeout(r, 300));
    return worker.consumer!.recordsSeen > 0;
  }, 30_000);
});

after(async () => {
  for (const a of ['quiet', 'later', 'cart', 'coupon']) await worker?.cancelCampaigns(a).catch(() => undefined);
  await worker?.close();
  await hook?.close();
  await smtp?.close();
  await s?.close();
});

describe('activations end to end (dev server)', { timeout: 180_000 }, () => {
  test('cart abandonment: events in → the webhook receives the message exactly once although its first attempt failed; an order within the window cancels', async () => {
    let cartAttempts = 0;
    hook.answer = (req) => (req.headers['x-uspa-activation'] === `${s.namespace}/cart` && ++cartAttempts === 1 ? 503 : 200);
    await s.profile('p-ada', ['userId:u-ada'], { firstName: 'Ada' });
    await s.send('web', { event: 'Product Added', userId: 'u-ada', properties: { price: 25, name: 'Shoes' } });
    await s.send('web', { event: 'Product Added', userId: 'u-bob', properties: { price: 30, name: 'Hat' } });
    await s.send('web', { event: 'Order Completed', userId: 'u-bob', properties: { revenue: 30 } });
    await s.send('web', { event: 'Product Added', userId: 'u-cheap', properties: { price: 5, name: 'Pin' } });

    const bob = worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'cart', 'userId:u-bob'));
    assert.equal((await eventually('bob\'s campaign', () => bob.result(), 30_000)).outcome, 'cancelled');
    const ada = await eventually('ada\'s campaign', () => worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'cart', 'userId:u-ada')).result(), 60_000);
    assert.equal(ada.outcome, 'sent');
    await new Promise((r) => setTimeout(r, 1_500));

    const requests = forActivation('cart');
    assert.equal(requests.length, 2, 'one failed attempt, one accepted');
    assert.deepEqual(requests.map((r) => r.status), [503, 200]);
    assert.equal(requests[0]!.headers['idempotency-key'], requests[1]!.headers['idempotency-key'], 'the retry carries the same idempotency key');
    const delivered = [...hook.delivered.values()].filter((r) => r.headers['x-uspa-activation'] === `${s.namespace}/cart`);
    assert.equal(delivered.length, 1, 'received exactly once');
    const body = JSON.parse(delivered[0]!.body);
    assert.deepEqual(body, { text: 'Hi Ada, your Shoes is waiting', profile: 'p-ada' });
    assert.equal(delivered[0]!.headers.authorization, AUTH_HEADER, 'the header read from the Secret at send time');
    assert.equal(delivered[0]!.headers['x-uspa-signature'], `sha256=${createHmac('sha256', SIGNING_SECRET).update(delivered[0]!.body).digest('hex')}`);
    const rows = await deliveries(s.warehouse, `${s.namespace}/cart`);
    assert.deepEqual(rows.map((r) => [r.profile_id, r.outcome, Number(r.attempt)]), [['p-ada', 'sent', 2]], 'one send recorded (attempt 2); bob cancelled, the cheap item never triggered');
  });

  test('consent, holdout and the frequency cap decide per person; every decision is recorded, and conversions give each variant\'s lift', async () => {
    hook.answer = () => 200;
    const key = `${s.namespace}/coupon`;
    // People whose arm (by hash) suits the test.
    const pick = (holdout: boolean, from: number) => {
      for (let i = from; ; i++) if (variantFor(key, `p-c${i}`, COUPON_VARIANTS, 50).holdout === holdout) return i;
    };
    const treated = pick(false, 0);
    const held = pick(true, 0);
    const capped = pick(false, treated + 1);
    const p = (i: number) => `p-c${i}`;
    await s.profile(p(treated), [`userId:u-c${treated}`], { consent: { marketing: true } });
    await s.profile(p(held), [`userId:u-c${held}`], { consent: { marketing: 'granted' } });
    await s.profile(p(capped), [`userId:u-c${capped}`], { consent_marketing: true });
    await s.profile('p-nope', ['userId:u-nope'], { consent: { marketing: false } });
    await s.warehouse.insert('activation_deliveries', [{ activation: key, message_id: 'earlier', profile_id: p(capped), variant: 'a', outcome: 'sent', reason: '', attempt: 1, at: chTime(new Date(Date.now() - 10 * 60_000).toISOString()) }]);
    for (const u of [`u-c${treated}`, `u-c${held}`, `u-c${capped}`, 'u-nope']) await s.send('web', { event: 'Coupon Viewed', userId: u });

    const outcomes = async () => Object.fromEntries((await deliveries(s.warehouse, key)).filter((r) => r.message_id !== 'earlier').map((r) => [r.profile_id, `${r.outcome}: ${r.reason}`]));
    const expected = {
      [p(treated)]: 'sent: ',
      [p(held)]: 'holdout: holdout group',
      [p(capped)]: 'suppressed: frequency cap: 1 sent within 1h (max 1)',
      'p-nope': 'suppressed: no consent for marketing',
    };
    await eventually('four decisions recorded', async () => Object.keys(await outcomes()).length === 4, 60_000);
    assert.deepEqual(await outcomes(), expected);
    const variant = variantFor(key, p(treated), COUPON_VARIANTS, 50).variant;
    assert.deepEqual(forActivation('coupon').map((r) => r.body), [`variant ${variant} for ${p(treated)}`]);

    // A second trigger for the treated person: a new campaign, capped this time.
    await s.send('web', { event: 'Coupon Viewed', userId: `u-c${treated}` });
    await eventually('the second view is capped', async () => (await deliveries(s.warehouse, key)).filter((r) => r.profile_id === p(treated)).length === 2, 60_000);
    assert.equal(forActivation('coupon').length, 1, 'nothing more sent');

    // Conversions: the treated person and the holdout both redeem; the pipeline stored the events.
    const now = chTime(new Date(Date.now() + 1000).toISOString());
    await s.warehouse.insert('events', [`u-c${treated}`, `u-c${held}`].map((u, i) => ({ message_id: `redeem-${i}`, source: 'web', type: 'track', event: 'Coupon Redeemed', timestamp: now, received_at: now, user_id: u, identity: `userId:${u}`, profile_id: '', properties: '{}', traits: '{}', context: '{}' })));
    assert.deepEqual(await worker.activities.attributeConversions({ namespace: s.namespace, database: s.database }), { attributed: 2 });
    assert.deepEqual(await worker.activities.attributeConversions({ namespace: s.namespace, database: s.database }), { attributed: 0 }, 'attributed once');
    const lift = await activationLift(s.warehouse, key);
    // Arms: the holdout (1 assigned, converted), the treated person's variant (converted) and the
    // earlier send to the capped person (variant a, not converted).
    const arms = new Map<string, [number, number]>([['(holdout)', [1, 1]]]);
    for (const [arm, converted] of [[variant, 1], ['a', 0]] as const) {
      const [n, c] = arms.get(arm) ?? [0, 0];
      arms.set(arm, [n + 1, c + converted]);
    }
    assert.deepEqual(lift.map((a) => [a.arm, a.exposed, a.converted]), [...arms].map(([arm, [n, c]]) => [arm, n, c]).sort());
    const arm = lift.find((a) => a.arm === variant)!;
    assert.equal(arm.lift, arm.rate / 1 - 1, 'lift over the holdout (which converted 1 of 1)');
  });

  test('quiet hours in the person\'s time zone: the send waits in one zone and goes out in another', async () => {
    hook.answer = () => 200;
    await s.profile('p-night', ['userId:u-night'], {});
    await s.profile('p-day', ['userId:u-day'], { timezone: 'Asia/Dhaka' });
    await s.send('web', { event: 'Wishlist Added', userId: 'u-night' });
    await s.send('web', { event: 'Wishlist Added', userId: 'u-day' });
    await eventually('the daytime person is sent to', async () => forActivation('quiet').length === 1, 60_000);
    assert.equal(forActivation('quiet')[0]!.body.includes('p-day'), true);
    const night = await worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'quiet', 'userId:u-night')).describe();
    assert.equal(night.status.name, 'RUNNING', 'the night-time send waits for quiet hours to end');
    // The delivery is recorded after the webhook answered: wait for the row, then check it is the only one.
    await eventually('the delivery recorded', async () => (await deliveries(s.warehouse, `${s.namespace}/quiet`)).length > 0, 15_000);
    assert.deepEqual((await deliveries(s.warehouse, `${s.namespace}/quiet`)).map((r) => r.profile_id), ['p-day']);
  });

  test('a segment entered → a Kafka record keyed by profile, once even when the change is delivered twice', async () => {
    await s.profile('p-vip', [], { plan: 'pro' });
    const change = { namespace: s.namespace, segment: 'vip', version: 3, profileId: 'p-vip', change: 'entered', at: new Date().toISOString() };
    const consumer = s.kafka.consumer({ groupId: unique('crm-reader') });
    const got: Array<{ key: string; value: string; headers: Record<string, string> }> = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [`${s.topicPrefix}.out.crm`], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push({ key: String(message.key), value: String(message.value), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) }) });
    try {
      await s.producer.send({ topic: `${s.topicPrefix}.segment-changes`, acks: -1, messages: [{ key: 'p-vip', value: JSON.stringify(change) }] });
      await eventually('the record on the CRM topic', async () => got.length === 1, 60_000);
      assert.deepEqual(JSON.parse(got[0]!.value), { profileId: 'p-vip', plan: 'pro', segment: 'vip', version: 3 });
      assert.equal(got[0]!.key, 'p-vip');
      assert.equal(got[0]!.headers['idempotency-key'], deliveryKey(s.namespace, 'welcome', 'segment:vip@3:p-vip:entered'));
      const campaignOf = worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'welcome', 'profile:p-vip'));
      await eventually('the first campaign completed', async () => (await campaignOf.describe()).status.name === 'COMPLETED', 30_000);
      await s.producer.send({ topic: `${s.topicPrefix}.segment-changes`, acks: -1, messages: [{ key: 'p-vip', value: JSON.stringify(change) }] });
      await eventually('the redelivered change is recognised by its key', async () => {
        const wf = await worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'welcome', 'profile:p-vip')).describe();
        return wf.status.name === 'COMPLETED' && (await worker.client.workflow.getHandle(wf.workflowId).result()).reason?.startsWith('already decided');
      }, 30_000);
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(got.length, 1, 'no second record');
    } finally {
      await consumer.disconnect();
    }
  });

  test('email over SMTP: rendered subject and body to the profile\'s address; no address is a suppression', async () => {
    await s.profile('p-mail', ['userId:u-mail'], { firstName: 'Grace', email: 'grace@example.com' });
    await s.profile('p-nomail', ['userId:u-nomail'], { firstName: 'Nobody' });
    await s.send('web', { event: 'Checkout Started', userId: 'u-mail', properties: { name: 'Lamp' } });
    await s.send('web', { event: 'Checkout Started', userId: 'u-nomail', properties: { name: 'Lamp' } });
    await eventually('the email', async () => smtp.mails.length === 1, 60_000);
    const mail = smtp.mails[0]!;
    assert.deepEqual(mail.to, ['grace@example.com']);
    assert.equal(mail.header('Subject'), 'Still there, Grace?');
    assert.match(mail.raw, /Hi Grace, finish your order of Lamp\./);
    const rows = await eventually('both decisions', async () => {
      const r = await deliveries(s.warehouse, `${s.namespace}/reset`);
      return r.length === 2 ? r : undefined;
    }, 30_000);
    assert.equal(mail.header('Message-ID'), `<${rows.find((r) => r.profile_id === 'p-mail')!.message_id}@shop.example>`);
    assert.match(rows.find((r) => r.profile_id === 'p-nomail')!.reason, /no email address/);
  });

  test('audience sync: the first run sends the full list, the next the diff (entered and exited), then nothing; consent filters', async () => {
    const key = `${s.namespace}/vip`;
    const at = chTime(new Date().toISOString());
    for (const id of ['p-s1', 'p-s2', 'p-s3', 'p-s4']) await s.profile(id, [], { consent: { ads: id !== 'p-s3' } });
    await s.warehouse.insert('segment_members', ['p-s1', 'p-s2', 'p-s3'].map((profile_id) => ({ segment: key, version: 1, profile_id })));
    await s.warehouse.insert('segment_versions', [{ segment: key, version: 1, size: 3, computed_at: at, query: '' }]);
    const input = { namespace: s.namespace, activation: 'audience', database: s.database, segment: 'vip', sync: 'diff' as const, revision: 'r1' };
    const run = () => worker.client.workflow.execute(syncAudience, { workflowId: unique(`uspa-activation-${s.namespace}-audience`), taskQueue: worker.taskQueue, args: [input] });

    const first = await run();
    assert.equal(first.mode, 'full');
    assert.deepEqual(forActivation('audience').map((r) => JSON.parse(r.body)).map((b) => [b.mode, b.change, b.profiles]), [['full', 'member', ['p-s1', 'p-s2']]]);

    await s.warehouse.insert('segment_members', ['p-s2', 'p-s3', 'p-s4'].map((profile_id) => ({ segment: key, version: 2, profile_id })));
    await s.warehouse.insert('segment_versions', [{ segment: key, version: 2, size: 3, computed_at: at, query: '' }]);
    const second = await run();
    assert.deepEqual([second.mode, second.base, second.version], ['diff', 1, 2]);
    assert.deepEqual(forActivation('audience').slice(1).map((r) => JSON.parse(r.body)).map((b) => [b.mode, b.change, b.profiles]), [['diff', 'entered', ['p-s4']], ['diff', 'exited', ['p-s1']]]);
    assert.match((await run()).skipped ?? '', /version 2 is already synced/);
    const rows = await deliveries(s.warehouse, `${s.namespace}/audience`);
    assert.equal(rows.filter((r) => r.outcome === 'suppressed').length, 1, 'p-s3 without ads consent, once (the diff does not resend it)');
  });

  test('recommendations: the template gets the profile\'s items of the newest complete recommendations version, as the models worker writes them', async () => {
    hook.answer = () => 200;
    await s.profile('p-recs', ['userId:u-recs'], { firstName: 'Rae' });
    await writeProfileRecommendations(s.warehouse, 1, [{ profile_id: 'p-recs', rank: 2, item: 'sku-7', score: 0.4 }, { profile_id: 'p-recs', rank: 1, item: 'sku-2', score: 0.9 }, { profile_id: 'p-other', rank: 1, item: 'sku-9', score: 1 }]);
    await commitVersion(s.warehouse, { model: 'recommendations', version: 1, run: 'r1', revision: '', trained_at: new Date().toISOString(), params: {}, quality: {}, artifact: {} });
    // Version 2 is still being written (no model_versions row yet): readers must not see it.
    await writeProfileRecommendations(s.warehouse, 2, [{ profile_id: 'p-recs', rank: 1, item: 'sku-half-written', score: 1 }]);
    await s.send('web', { event: 'Order Shipped', userId: 'u-recs' });
    await eventually('the message with recommendations', async () => forActivation('recs').length === 1, 60_000);
    assert.deepEqual(JSON.parse(forActivation('recs')[0]!.body), { profile: 'p-recs', recommended: ['sku-2', 'sku-7'] });
  });

  test('records the trigger consumer cannot use are skipped and counted, and what follows them on the partition still triggers', async () => {
    const skipped = worker.consumer!.recordsSkipped;
    const now = new Date().toISOString();
    const event = (userId: string, messageId: string) => JSON.stringify({ type: 'track', event: 'Newsletter Opened', userId, messageId, timestamp: now, receivedAt: now, properties: {}, traits: {}, context: {}, integrations: {}, source: 'web' });
    const one = (topic: string, values: Array<string | Buffer>) => s.producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition: 0, value })) });
    await one(`${s.topicPrefix}.segment-changes`, ['{"segment": "vip", "change": "sideways"}', 'not json at all']);
    // Not JSON, invalid UTF-8, and a userId so long Temporal refuses its campaign's workflow id.
    await one(`${s.topicPrefix}.events.web`, ['{"type": "track",', Buffer.from([0xff, 0xfe, 0x7b]), event(`u-${'x'.repeat(4_000)}`, 'm-poison-long'), event('u-after-poison', 'm-after-poison')]);
    const after = worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'later', 'userId:u-after-poison'));
    await eventually('the event after the bad ones starts its campaign', async () => (await after.describe().catch(() => undefined))?.status.name === 'RUNNING', 30_000);
    await eventually('the five bad records counted', async () => worker.consumer!.recordsSkipped - skipped === 5, 10_000);
  });

  test('the spec at send time decides: a campaign of an Activation suspended meanwhile sends nothing', async () => {
    await s.send('web', { event: 'Review Requested', userId: 'u-paused' });
    const handle = worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'paused', 'userId:u-paused'));
    await eventually('the campaign waits', async () => (await handle.describe()).status.name === 'RUNNING', 30_000);
    await kubectl(['patch', 'activation', 'paused', '-n', s.namespace, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    const result = await handle.result();
    assert.deepEqual([result.outcome, result.reason], ['stopped', 'the Activation is suspended']);
    assert.equal(forActivation('paused').length, 0);
  });

  test('deleting an Activation cancels its pending campaigns', async () => {
    await s.send('web', { event: 'Newsletter Opened', userId: 'u-late' });
    const handle = worker.client.workflow.getHandle(campaignWorkflowId(s.namespace, 'later', 'userId:u-late'));
    await eventually('the campaign waits', async () => (await handle.describe()).status.name === 'RUNNING', 30_000);
    await kubectl(['delete', 'activation', 'later', '-n', s.namespace]);
    await eventually('the campaign is cancelled', async () => (await handle.describe()).status.name === 'CANCELLED', 30_000);
    assert.deepEqual(await deliveries(s.warehouse, `${s.namespace}/later`), []);
  });
});
