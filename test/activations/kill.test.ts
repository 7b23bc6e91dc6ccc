// A worker process killed mid-campaign loses nothing and repeats nothing visible: killed while the
// campaign waits (its timer fires on the next worker), and killed while the webhook request is in
// flight (the receiver got it; the retry on the next worker carries the same Idempotency-Key, so
// the receiver counts one delivery, and ClickHouse records one send).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { taskQueue } from '../../api/names.ts';
import { campaignWorkflowId, triggerSignal, type CampaignInput, type Trigger } from '../../api/workflows/activations.ts';
import { deliveryKey } from '../../workers/activations/triggers.ts';
import { campaign } from '../../workflows/activations.ts';
import { eventually } from '../support/env.ts';
import { deliveries, scratch, webhookReceiver, type Scratch, type WebhookReceiver } from './support.ts';

const WORKER = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
let s: Scratch;
let hook: WebhookReceiver;
let client: Client;
const children: ChildProcess[] = [];

async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...s.env, USPA_NAMESPACE: s.namespace, USPA_TEST_CONSUMER: '0' }, stdio: ['ignore', 'pipe', process.env.USPA_TEST_LOGS ? 'inherit' : 'ignore'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  // Bundling the workflows takes a process tens of seconds of CPU; on two cores shared with the other
  // test files it took over a minute once in CI.
  await eventually('the worker process is ready', async () => out.includes('ready') || (child.exitCode !== null ? Promise.reject(new Error(`worker exited ${child.exitCode}`)) : false), 180_000);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

function start(person: string, messageId: string, delayMs: number) {
  const input: CampaignInput = { namespace: s.namespace, activation: 'rescue', person, identities: [person], delayMs };
  const trigger: Trigger = { key: deliveryKey(s.namespace, 'rescue', `event:${messageId}`), messageId, at: new Date().toISOString(), kind: 'event', event: { name: 'Cart Viewed', properties: {} } };
  return client.workflow.signalWithStart(campaign, { workflowId: campaignWorkflowId(s.namespace, 'rescue', person), taskQueue: taskQueue('activations', s.namespace), args: [input], signal: triggerSignal, signalArgs: [trigger] });
}

before(async () => {
  s = await scratch('kill');
  hook = await webhookReceiver();
  await s.apply(`apiVersion: uspa.tech/v1alpha1
kind: Activation
metadata: { name: rescue }
spec:
  trigger: { type: event, event: { name: Cart Viewed } }
  destination: { type: webhook, webhook: { url: "${hook.url}", timeoutSeconds: 60 } }
  template: { body: '{"profile": {{ profile.id | json }}}' }
`);
  client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });
});

after(async () => {
  for (const c of children) await kill(c);
  await client?.connection.close();
  await hook?.close();
  await s?.close();
});

test('a worker killed while the campaign waits: the next worker sends it once', { timeout: 420_000 }, async () => {
  hook.answer = () => 200;
  const a = await startWorker();
  const handle = await start('userId:u-wait', 'm-wait', 3_000);
  await eventually('the campaign is waiting on its timer', async () => (await handle.describe()).status.name === 'RUNNING', 10_000);
  await kill(a);
  await startWorker();
  assert.equal((await handle.result()).outcome, 'sent');
  const requests = hook.requests.filter((r) => r.body.includes('userId:u-wait'));
  assert.equal(requests.length, 1);
});

test('a worker killed during the delivery: the retry carries the same key, the receiver counts one delivery, one send is recorded', { timeout: 420_000 }, async () => {
  for (const c of children) await kill(c); // only this test's workers poll the queue
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // The first request of this campaign hangs; whatever else reaches the receiver is answered at once.
  let holding = false;
  hook.answer = async (req) => {
    if (!holding && req.body.includes('userId:u-kill')) {
      holding = true;
      await held;
    }
    return 200;
  };
  const b = await startWorker();
  const handle = await start('userId:u-kill', 'm-kill', 0);
  await eventually('the webhook request is in flight', async () => hook.requests.some((r) => r.body.includes('userId:u-kill')), 60_000);
  await kill(b);
  release(); // the receiver finishes processing the request whose sender died
  await startWorker();
  const result = await handle.result();
  const requests = hook.requests.filter((r) => r.body.includes('userId:u-kill'));
  assert.equal(result.outcome, 'sent');
  assert.equal(requests.length, 2, `sent again after the kill (all requests: ${JSON.stringify(hook.requests.map((r) => [r.status, r.body]))})`);
  assert.equal(requests[0]!.headers['idempotency-key'], requests[1]!.headers['idempotency-key']);
  const delivered = [...hook.delivered.values()].filter((r) => r.body.includes('userId:u-kill'));
  assert.equal(delivered.length, 1, 'exactly one delivery');
  const rows = (await deliveries(s.warehouse, `${s.namespace}/rescue`)).filter((r) => r.profile_id === 'userId:u-kill');
  assert.deepEqual(rows.map((r) => [r.outcome, Number(r.attempt)]), [['sent', 2]]);
});
