// erasePerson on the Temporal dev server with the privacy worker, the collector and the pipeline on
// the real engines: the person's graph is suppressed and erased and the receipt verifies; their
// waiting campaigns are cancelled; a late event is answered 200 and not stored; a delete-only erasure makes the pipeline forget the graph
// it holds in memory; a worker SIGKILLed mid-erasure is replaced and the erasure completes; running
// the request again changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { PRIVACY_SIGNING_KEY_ENV, taskQueue } from '../../api/names.ts';
import { erasureProgressQuery, privacyWorkflowId, type ErasePersonInput } from '../../api/workflows/privacy.ts';
import { CAMPAIGN, campaignWorkflowId } from '../../api/workflows/activations.ts';
import { KEPT_ON_ERASURE } from '../../lib/privacy/schema.ts';
import { verifyReceipt } from '../../lib/privacy/verify.ts';
import { erasePerson } from '../../workflows/privacy.ts';
import { startPrivacyWorker, type PrivacyWorker } from '../../workers/privacy/main.ts';
import { eventually, required, unique } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventsOf } from './support.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const KEY = 'workflow-test-signing-key-0123456789abcdef';
const USPA = fileURLToPath(new URL('../../bin/uspa.js', import.meta.url));

let product: Product;
let worker: PrivacyWorker | undefined;
let connection: Connection;
let client: Client;
const namespace = unique('priv');
const tag = namespace.replace(/[^a-z0-9]/g, '');
const { send, stored } = eventsOf(() => product, tag);



async function profileOf(identity: string): Promise<string | undefined> {
  return (await product.rows<{ p: string }>('SELECT profile_id AS p FROM {db}.identities FINAL WHERE identity = {i:String}', { i: identity }))[0]?.p;
}

/** A person with an anonymous history merged into a known one; resolves once the profile holds both. */
async function person(name: string): Promise<{ anon: string; user: string; email: string }> {
  const p = { anon: `a-${name}-${tag}`, user: `u-${name}-${tag}`, email: `${name}-${tag}@example.com` };
  const ids = [await send('/v1/page', { anonymousId: p.anon, name: 'Home' }), await send('/v1/identify', { anonymousId: p.anon, userId: p.user, traits: { email: p.email } }), await send('/v1/track', { userId: p.user, event: 'Order Completed', properties: { revenue: 10 } })];
  await product.waitForEvents(ids);
  await eventually(`${name}'s profile built`, async () => Number((await product.rows<{ n: string }>('SELECT event_count AS n FROM {db}.profiles FINAL WHERE deleted = 0 AND has(identities, {i:String})', { i: `userId:${p.user}` }))[0]?.n ?? 0) === 3);
  return p;
}

const input = (requestId: string, identity: string, mode: ErasePersonInput['mode']): ErasePersonInput => ({ requestId, namespace, database: product.database, identity, mode, pipelines: [product.pipeline] });
const erase = (i: ErasePersonInput) => client.workflow.execute(erasePerson, { taskQueue: taskQueue('privacy', namespace), workflowId: privacyWorkflowId(namespace, i.requestId), args: [i] });

describe('erasePerson', { concurrency: false, timeout: 600_000 }, () => {
  before(async () => {
    required('TEMPORAL_ADDRESS');
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
    worker = await startPrivacyWorker({ namespace, env: { ...product.env, [PRIVACY_SIGNING_KEY_ENV]: KEY } });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection });
  });
  after(async () => {
    await worker?.close();
    await connection?.close();
    await product?.close();
  });

  test('suppress_with_delete: every identity of the graph erased and suppressed; the receipt verifies; a late event is not stored', async () => {
    const ada = await person('ada');
    const bob = await person('bob');
    // Campaigns waiting to send to Ada and to Bob (no worker serves their queue: they just wait).
    const waiting = async (who: string) => client.workflow.start(CAMPAIGN, { taskQueue: `nowhere-${tag}`, workflowId: campaignWorkflowId(namespace, 'welcome', `userId:${who}`), args: [] });
    const campaigns = { ada: await waiting(ada.user), bob: await waiting(bob.user) };
    const receipt = await erase(input(`r1-${tag}`, `email:${ada.email}`, 'suppress_with_delete'));
    assert.equal(receipt.campaignsCancelled, 1);
    const cancelRequested = async (h: typeof campaigns.ada) => (await h.fetchHistory()).events!.some((e) => e.workflowExecutionCancelRequestedEventAttributes);
    assert.equal(await cancelRequested(campaigns.ada), true, "Ada's campaign is cancelled");
    assert.equal(await cancelRequested(campaigns.bob), false, "Bob's is not");
    for (const h of Object.values(campaigns)) await h.terminate('test over');
    assert.deepEqual(receipt.identities, [`anonymousId:${ada.anon}`, `email:${ada.email}`, `userId:${ada.user}`].sort());
    for (const s of receipt.stores) assert.equal(s.after, KEPT_ON_ERASURE[s.table] ? s.before : 0, s.table);
    assert.ok(receipt.stores.find((s) => s.table === 'events')!.before >= 3);
    const eventsTopic = receipt.topics.find((t) => t.topic.endsWith(`.events.${product.sources.web!.name}`));
    assert.ok(eventsTopic && Date.parse(eventsTopic.retainedUntil) > Date.now(), `the Source topic's retention date: ${JSON.stringify(receipt.topics)}`);
    assert.ok(!receipt.topics.some((t) => t.topic.endsWith('.privacy')), 'the suppression list holds hashes only');
    assert.equal((await verifyReceipt(product.warehouse, receipt, KEY)).ok, true);
    assert.equal(await profileOf(`userId:${bob.user}`) !== undefined, true, "Bob's graph stays");

    const late = [await send('/v1/track', { anonymousId: ada.anon, event: 'Came Back' }), await send('/v1/identify', { anonymousId: `a-other-${tag}`, traits: { email: ada.email } })];
    const control = await send('/v1/track', { userId: bob.user, event: 'Control' });
    await product.waitForEvents([control]);
    assert.deepEqual(await stored(late), [], 'events carrying an erased identity, directly or through traits, are not stored');
    assert.equal((await verifyReceipt(product.warehouse, receipt, KEY)).ok, true, 'still nothing of Ada');
  });

  test('the same request again, and an unknown identity: a receipt with nothing found', async () => {
    const again = await erase(input(`r1b-${tag}`, `email:ada-${tag}@example.com`, 'suppress_with_delete'));
    assert.ok(again.stores.every((s) => s.before === 0 || KEPT_ON_ERASURE[s.table]), JSON.stringify(again.stores));
    const unknown = await erase(input(`r2-${tag}`, `email:nobody-${tag}@example.com`, 'delete'));
    assert.deepEqual(unknown.identities, [`email:nobody-${tag}@example.com`]);
    assert.ok(unknown.stores.every((s) => s.before === 0 && s.after === 0));
  });

  test('delete only: the pipeline forgets the graph, so the person comes back as someone new, not linked to the old identities', async () => {
    const carl = await person('carl');
    const before = await profileOf(`userId:${carl.user}`);
    await erase(input(`r3-${tag}`, `userId:${carl.user}`, 'delete'));
    const back = await send('/v1/track', { userId: carl.user, event: 'Came Back' });
    await product.waitForEvents([back]);
    const now = await eventually("Carl's new profile", () => profileOf(`userId:${carl.user}`));
    assert.notEqual(now, before, 'a new profile, not the erased one rebuilt from memory');
    assert.equal(await profileOf(`anonymousId:${carl.anon}`), undefined, 'the old anonymous id is not linked again');
  });

  test('an event of the person that lands after the first pass (accepted just before the suppression) is swept', async () => {
    const eve = await person('eve');
    const i = input(`r5-${tag}`, `userId:${eve.user}`, 'suppress_with_delete');
    const handle = await client.workflow.start(erasePerson, { taskQueue: taskQueue('privacy', namespace), workflowId: privacyWorkflowId(namespace, i.requestId), args: [i] });
    await eventually('the first pass done', async () => (await handle.query(erasureProgressQuery)).step === 'sweeping', 120_000);
    await product.warehouse.insert('events', [{ message_id: `m-late-${tag}`, source: 'web', type: 'track', event: 'Late', timestamp: '2026-11-30 00:00:00.000', received_at: '2026-11-30 00:00:00.000', identity: `userId:${eve.user}`, profile_id: 'p-late', user_id: eve.user, properties: '{}', context: '{}' }]);
    const receipt = await handle.result();
    const events = receipt.stores.find((s) => s.table === 'events')!;
    assert.equal(events.after, 0);
    assert.equal(events.before, 4, 'three events in the first pass, the straggler in the sweep');
    assert.deepEqual(await stored([`m-late-${tag}`]), []);
  });

  test('a worker SIGKILLed while the erasure waits is replaced, and the erasure completes', async () => {
    const dana = await person('dana');
    await worker!.close();
    worker = undefined;
    const start = () => spawn(process.execPath, [USPA, 'worker', 'privacy'], { env: { ...product.env, USPA_NAMESPACE: namespace, PORT: '0', HOST: '127.0.0.1', [PRIVACY_SIGNING_KEY_ENV]: KEY }, stdio: 'ignore' });
    let child: ChildProcess = start();
    try {
      const i = input(`r4-${tag}`, `userId:${dana.user}`, 'suppress_with_delete');
      const handle = await client.workflow.start(erasePerson, { taskQueue: taskQueue('privacy', namespace), workflowId: privacyWorkflowId(namespace, i.requestId), args: [i] });
      // The worker bundles its workflows first: minutes on two busy cores.
      await eventually('the erasure waiting for suppression', async () => (await handle.query(erasureProgressQuery).catch(() => undefined))?.step === 'waiting for suppression', 300_000);
      child.kill('SIGKILL');
      child = start();
      const receipt = await handle.result();
      assert.ok(receipt.stores.find((s) => s.table === 'events')!.before >= 3);
      assert.equal((await verifyReceipt(product.warehouse, receipt, KEY)).ok, true);
      const history = await handle.fetchHistory();
      const resolved = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveRequestPerson');
      assert.equal(resolved.length, 1, 'the graph was resolved once, before the kill');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
