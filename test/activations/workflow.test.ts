// The campaign and syncAudience workflows on Temporal's time-skipping test server, with stub
// activities: a 30-minute delay passes in milliseconds, unless signals cancel, quiet hours are
// slept through, late triggers continue as a new campaign. Every history is replayed on the
// current workflow code (determinism), and the histories recorded in histories/ are replayed too,
// so a change that breaks running campaigns fails here. Re-record them with
// USPA_RECORD_HISTORIES=1 when a change is deliberate (and guard it with patched()).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../workers/activations/activities.ts';
import { WORKFLOWS_PATH } from '../../workers/activations/main.ts';
import { type CampaignInput, type Trigger, triggerSignal, unlessSignal } from '../../api/workflows/activations.ts';
import { campaign, syncAudience } from '../../workflows/activations.ts';
import { unique } from '../support/env.ts';
import { timeSkippingEnvironment } from '../support/temporal.ts';
import { failDelivery, stubActivities } from './stubs.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

const MIN = 60_000;
// Histories are stored as protobufjs JSON objects (historyToJSON trips over two protobufjs copies in this install).
const History = proto.temporal.api.history.v1.History;
const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never;
let bundle: WorkflowBundleWithSourceMap;
let env: TestWorkflowEnvironment;

before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silent });
  env = await timeSkippingEnvironment();
});

after(async () => {
  await env?.teardown();
});

function input(overrides: Partial<CampaignInput> = {}): CampaignInput {
  return { namespace: 'shop', activation: 'cart', person: 'userId:u-1', identities: ['userId:u-1'], delayMs: 30 * MIN, unless: { event: 'Order Completed', withinMs: 30 * MIN }, ...overrides };
}

function trigger(atMs: number, messageId = 'm-1'): Trigger {
  return { key: `k-${messageId}`, messageId, at: new Date(atMs).toISOString(), kind: 'event', event: { name: 'Product Added', properties: { sku: 'A-1' } } };
}

async function withWorker<T>(activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = unique('campaigns');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  return worker.runUntil(fn(taskQueue));
}

function start(taskQueue: string, t: Trigger, overrides: Partial<CampaignInput> = {}, workflowId = unique('campaign-shop-cart')) {
  return env.client.workflow.signalWithStart(campaign, { workflowId, taskQueue, args: [input(overrides)], signal: triggerSignal, signalArgs: [t] });
}

/** Replays the workflow's history on the current code; saves it under histories/ when asked. */
async function replay(handle: WorkflowHandle, name: string): Promise<void> {
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: bundle }, history, handle.workflowId);
  if (process.env.USPA_RECORD_HISTORIES) {
    mkdirSync(HISTORIES, { recursive: true });
    writeFileSync(`${HISTORIES}${name}.json`, `${JSON.stringify(History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String }), null, 1)}\n`);
  }
}

describe('campaign workflow (time-skipping)', { timeout: 120_000 }, () => {
  test('cart abandonment: 30 minutes pass in milliseconds, then decide → render → deliver once', async () => {
    const { activities, calls } = stubActivities();
    await withWorker(activities, async (tq) => {
      const t0 = await env.currentTimeMs();
      const wallStart = Date.now();
      const handle = await start(tq, trigger(t0));
      const result = await handle.result();
      assert.deepEqual(result, { outcome: 'sent', key: 'k-m-1', variant: 'a' });
      assert.equal(calls.deliver.length, 1);
      assert.equal(calls.deliver[0]!.key, 'k-m-1', 'the idempotency key comes from the trigger');
      assert.ok(calls.decide[0]!.now - t0 >= 30 * MIN, `decided after the 30-minute delay (${(calls.decide[0]!.now - t0) / MIN} min of workflow time)`);
      assert.ok(Date.now() - wallStart < 20_000, `took ${Date.now() - wallStart} ms of real time`);
      await replay(handle, 'campaign-sent');
    });
  });

  test('an Order Completed within the window cancels the campaign: nothing is decided or sent', async () => {
    const { activities, calls } = stubActivities();
    await withWorker(activities, async (tq) => {
      const t0 = await env.currentTimeMs();
      const handle = await start(tq, trigger(t0));
      await env.sleep(10 * MIN);
      await handle.signal(unlessSignal, { messageId: 'o-1', event: 'Order Completed', at: new Date(t0 + 10 * MIN).toISOString() });
      const result = await handle.result();
      assert.equal(result.outcome, 'cancelled');
      assert.match(result.reason!, /Order Completed/);
      assert.equal(calls.decide.length + calls.deliver.length, 0);
      await replay(handle, 'campaign-cancelled');
    });
  });

  test('an unless event from before the trigger or of another name does not cancel', async () => {
    const { activities, calls } = stubActivities();
    await withWorker(activities, async (tq) => {
      const t0 = await env.currentTimeMs();
      const handle = await start(tq, trigger(t0));
      await handle.signal(unlessSignal, { messageId: 'o-0', event: 'Order Completed', at: new Date(t0 - MIN).toISOString() });
      await handle.signal(unlessSignal, { messageId: 'o-2', event: 'Order Refunded', at: new Date(t0 + MIN).toISOString() });
      assert.equal((await handle.result()).outcome, 'sent');
      assert.equal(calls.deliver.length, 1);
    });
  });

  test('a second trigger joins the running campaign (one send, both events); a re-delivered one counts once', async () => {
    const { activities, calls } = stubActivities();
    await withWorker(activities, async (tq) => {
      const t0 = await env.currentTimeMs();
      const id = unique('campaign-shop-cart');
      const handle = await start(tq, trigger(t0), {}, id);
      await env.sleep(5 * MIN);
      await start(tq, trigger(t0 + 5 * MIN, 'm-2'), {}, id);
      await start(tq, trigger(t0, 'm-1'), {}, id);
      assert.equal((await handle.result()).outcome, 'sent');
      assert.equal(calls.deliver.length, 1);
      assert.deepEqual(calls.render[0]!.triggers.map((t) => t.messageId), ['m-1', 'm-2']);
      assert.ok(calls.decide[0]!.now - t0 >= 30 * MIN && calls.decide[0]!.now - t0 < 31 * MIN, 'the window runs from the first trigger');
    });
  });

  test('a trigger that arrives once the campaign has decided becomes the next campaign (continue-as-new)', async () => {
    const { activities, calls } = stubActivities({
      deliver: (d) => {
        if (d.key === 'k-m-1') void env.client.workflow.getHandle(id).signal(triggerSignal, trigger(Date.parse(calls.render[0]!.trigger.at) + 31 * MIN, 'm-3'));
      },
    });
    const id = unique('campaign-shop-cart');
    await withWorker(activities, async (tq) => {
      const t0 = await env.currentTimeMs();
      const handle = await start(tq, trigger(t0), {}, id);
      const result = await handle.result();
      assert.equal(result.key, 'k-m-3', 'the last run is the campaign of the late trigger');
      assert.deepEqual(calls.deliver.map((d) => d.key), ['k-m-1', 'k-m-3']);
      await replay(handle, 'campaign-continued');
    });
  });

  test('quiet hours: the campaign sleeps until they end, then decides again and sends', async () => {
    const { activities, calls } = stubActivities({
      decide: (i) => (i.round === 0 ? { action: 'wait', untilMs: i.now + 8 * 60 * MIN, reason: 'quiet hours 21:00–08:00 in UTC', profileId: 'p-1', variant: 'a' } : { action: 'send', profileId: 'p-1', variant: 'a' }),
    });
    await withWorker(activities, async (tq) => {
      const t0 = await env.currentTimeMs();
      const handle = await start(tq, trigger(t0), { delayMs: 0, unless: undefined });
      assert.equal((await handle.result()).outcome, 'sent');
      assert.equal(calls.decide.length, 2);
      assert.ok(calls.decide[1]!.now - calls.decide[0]!.now >= 8 * 60 * MIN, 'slept through quiet hours');
      await replay(handle, 'campaign-quiet-hours');
    });
  });

  test('suppressions and holdouts are recorded, not sent', async () => {
    const { activities, calls } = stubActivities({ decide: () => ({ action: 'record', outcome: 'holdout', reason: 'holdout group', profileId: 'p-1', variant: '' }) });
    await withWorker(activities, async (tq) => {
      const handle = await start(tq, trigger(await env.currentTimeMs()), { delayMs: 0, unless: undefined });
      assert.equal((await handle.result()).outcome, 'holdout');
      assert.equal(calls.render.length + calls.deliver.length, 0);
      assert.deepEqual(calls.record.map((r) => [r.outcome, r.reason, r.key]), [['holdout', 'holdout group', 'k-m-1']]);
    });
  });

  test('a delivery that fails for good is recorded as failed with its reason and attempt', async () => {
    const { activities, calls } = stubActivities({ deliver: () => failDelivery('webhook http://127.0.0.1:1 answered 400: bad', true) });
    await withWorker(activities, async (tq) => {
      const handle = await start(tq, trigger(await env.currentTimeMs()), { delayMs: 0, unless: undefined });
      const result = await handle.result();
      assert.equal(result.outcome, 'failed');
      assert.equal(calls.deliver.length, 1, 'a non-retryable failure is not retried');
      assert.deepEqual(calls.record.map((r) => [r.outcome, r.reason, r.attempt]), [['failed', 'webhook http://127.0.0.1:1 answered 400: bad', 1]]);
      await replay(handle, 'campaign-failed');
    });
  });
});

describe('syncAudience workflow (time-skipping)', { timeout: 60_000 }, () => {
  test('walks the audience in chunked activities and marks the sync done with the totals', async () => {
    const { activities, calls } = stubActivities({ syncPages: 3 });
    await withWorker(activities, async (tq) => {
      const handle = await env.client.workflow.start(syncAudience, { workflowId: unique('uspa-activation-shop-sync'), taskQueue: tq, args: [{ namespace: 'shop', activation: 'sync', database: 'db', segment: 'vip', sync: 'diff', revision: 'r' }] });
      const result = await handle.result();
      assert.deepEqual(result.totals, { sent: 30, suppressed: 3, chunks: 3 });
      assert.deepEqual(calls.chunks.map((c) => c.after), ['', 'p-1', 'p-2']);
      assert.equal(calls.finished.length, 1);
      await replay(handle, 'sync-audience');
    });
  });
});

describe('recorded histories', () => {
  test('every recorded history replays on the current workflow code', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 5, `histories recorded in ${HISTORIES}`);
    for (const f of files) {
      const history = History.fromObject(JSON.parse(readFileSync(`${HISTORIES}${f}`, 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, f.replace(/\.json$/, ''));
    }
  });
});
