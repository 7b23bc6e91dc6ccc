// An erasure tells the Activations' destinations, on the real engines: erasePerson on the Temporal
// dev server with the privacy worker, and the announceErasure activity on a worker of the
// namespace's activations task queue (with its real destination code): a webhook gets a signed
// Person Erased event naming every identity, a Kafka destination the same record, an email
// destination is skipped, a destination answering 500 is named as failed in the receipt while the
// others are told, and the receipt verifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import { PRIVACY_SIGNING_KEY_ENV, taskQueue, topicNames } from '../../api/names.ts';
import type { Activation } from '../../api/v1alpha1/index.ts';
import { PERSON_ERASED, privacyWorkflowId } from '../../api/workflows/privacy.ts';
import { BatchingProducer, ensureTopics } from '../../lib/kafka.ts';
import { createLogger } from '../../lib/log.ts';
import { verifyReceipt } from '../../lib/privacy/verify.ts';
import { erasePerson } from '../../workflows/privacy.ts';
import { createContext } from '../../workers/activations/context.ts';
import { erasureActivities } from '../../workers/activations/erasures.ts';
import { startPrivacyWorker, type PrivacyWorker } from '../../workers/privacy/main.ts';
import { webhookReceiver, type WebhookReceiver } from '../activations/support.ts';
import { eventually, required, unique } from '../support/env.ts';
import { startProduct, type Product } from '../support/product.ts';
import { eventsOf } from './support.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });
const KEY = 'destinations-test-signing-key-0123456789';
const SIGNING = 'hook-signing-secret-0123456789';

describe('an erasure tells the destinations', { concurrency: false, timeout: 300_000 }, () => {
  const namespace = unique('prd');
  const tag = namespace.replace(/[^a-z0-9]/g, '');
  let product: Product;
  let privacy: PrivacyWorker;
  let activations: Worker;
  let running: Promise<void>;
  let connection: Connection;
  let producer: BatchingProducer;
  let ok: WebhookReceiver;
  let down: WebhookReceiver;
  const { send } = eventsOf(() => product, tag);

  before(async () => {
    required('TEMPORAL_ADDRESS');
    product = await startProduct({ sources: [{ name: 'web', type: 'web' }] });
    ok = await webhookReceiver();
    down = await webhookReceiver(() => 500);
    const topics = topicNames(product.env.USPA_TOPIC_PREFIX!);
    const outTopic = `${topics.activationOutputs}erasures`;
    const brokers = required('KAFKA_BROKERS').split(',');
    const admin = new Kafka({ clientId: 'uspa-tests', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: outTopic, partitions: 1, retentionHours: 1, replicationFactor: 1 }]);
    await admin.disconnect();
    const activation = (name: string, destination: Activation['spec']['destination']): Activation => ({ apiVersion: 'uspa.tech/v1alpha1', kind: 'Activation', metadata: { name, namespace }, spec: { trigger: { type: 'event', event: 'x' }, destination, template: { body: '{}' } } as never });
    const all = [
      activation('hook', { type: 'webhook', webhook: { url: ok.url, signingSecretRef: { name: 'hook-secret' } } }),
      activation('broken', { type: 'webhook', webhook: { url: down.url, timeoutSeconds: 2 } }),
      activation('stream', { type: 'kafka', kafka: { topic: outTopic } }),
      activation('mail', { type: 'email', email: { from: 'shop@example.com', to: '{{ traits.email }}', smtpSecretRef: { name: 'smtp' } } } as never),
    ];
    producer = new BatchingProducer(new Kafka({ clientId: 'uspa-tests', brokers, logLevel: logLevel.NOTHING }));
    await producer.connect();
    const context = createContext({
      namespace,
      database: product.database,
      warehouse: () => product.warehouse,
      activations: { get: (n) => all.find((a) => a.metadata.name === n), list: () => all, ready: async () => undefined },
      secrets: { value: async () => SIGNING },
      producer,
      log: createLogger('activations', 'warn'),
      webhookAddresses: 'loopback',
      kafkaOutputs: topics.activationOutputs,
    });
    activations = await Worker.create({ connection: await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! }), taskQueue: taskQueue('activations', namespace), activities: erasureActivities(context) });
    running = activations.run();
    privacy = await startPrivacyWorker({ namespace, env: { ...product.env, [PRIVACY_SIGNING_KEY_ENV]: KEY } });
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  });
  after(async () => {
    activations?.shutdown();
    await running?.catch(() => undefined);
    await privacy?.close();
    await producer?.disconnect();
    await connection?.close();
    await ok?.close();
    await down?.close();
    await product?.close();
  });

  test('webhooks get a signed Person Erased naming every identity, Kafka the same record, email nothing; a failing one is named in the receipt', async () => {
    const ada = { anon: `a-ada-${tag}`, user: `u-ada-${tag}` };
    await product.waitForEvents([await send('/v1/identify', { anonymousId: ada.anon, userId: ada.user, traits: { plan: 'pro' } })]);
    await eventually("Ada's identities", async () => (await product.rows('SELECT 1 FROM {db}.identities FINAL WHERE identity = {i:String}', { i: `userId:${ada.user}` })).length > 0);
    const outTopic = `${topicNames(product.env.USPA_TOPIC_PREFIX!).activationOutputs}erasures`;
    const consumer = new Kafka({ clientId: 'uspa-tests', brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).consumer({ groupId: unique('g') });
    const records: Array<{ value: string; headers: Record<string, string> }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic: outTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void records.push({ value: String(message.value), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) }) });

    const requestId = `r-${tag}`;
    const client = new Client({ connection });
    const receipt = await client.workflow.execute(erasePerson, {
      taskQueue: taskQueue('privacy', namespace),
      workflowId: privacyWorkflowId(namespace, requestId),
      args: [{ requestId, namespace, database: product.database, identity: `userId:${ada.user}`, mode: 'delete', pipelines: [product.pipeline], destinations: ['hook', 'broken', 'stream', 'mail'] }],
    });
    assert.deepEqual(receipt.destinations?.map((d) => [d.activation, d.destination, d.outcome]), [['hook', 'webhook', 'sent'], ['broken', 'webhook', 'failed'], ['stream', 'kafka', 'sent'], ['mail', 'email', 'skipped']]);
    assert.match(receipt.destinations![1]!.detail!, /answered 500/);
    assert.equal((await verifyReceipt(product.warehouse, receipt, KEY)).ok, true, 'the receipt with its destinations verifies');

    const hook = [...ok.delivered.values()][0]!;
    assert.equal(hook.headers['x-uspa-signature'], `sha256=${createHmac('sha256', SIGNING).update(hook.body).digest('hex')}`, 'signed as every message of the Activation');
    assert.equal(hook.headers['idempotency-key'], `erasure-${requestId}`);
    const event = JSON.parse(hook.body) as { type: string; event: string; properties: { identities: string[]; requestId: string } };
    assert.deepEqual([event.type, event.event, event.properties.requestId], ['track', PERSON_ERASED, requestId]);
    assert.deepEqual(event.properties.identities, [`anonymousId:${ada.anon}`, `userId:${ada.user}`]);
    const record = await eventually('the Kafka record', async () => records[0], 90_000);
    assert.equal(record.value, hook.body, 'Kafka gets the same event');
    assert.equal(record.headers['idempotency-key'], `erasure-${requestId}`);
    await consumer.disconnect();
  });
});
