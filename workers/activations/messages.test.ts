import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/activity';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { topicNames } from '../../api/names.ts';
import { createLogger } from '../../lib/log.ts';
import { Mailer } from './destinations.ts';
import { createMessages } from './messages.ts';

const topics = topicNames('uspa.shop');

test('send time: a Kafka topic outside the namespace\'s output prefix is refused before anything is produced', async () => {
  const produced: string[] = [];
  const messages = createMessages({
    namespace: 'shop',
    secrets: { value: async () => assert.fail('no Secret is read') },
    producer: { send: async (records) => void produced.push(...records.map((r) => r.topic)) },
    mailer: new Mailer(),
    webhookAddresses: 'deny',
    kafkaOutputs: topics.activationOutputs,
    log: createLogger('test', 'silent'),
  });
  const to = (topic: string): Activation => ({ apiVersion: 'uspa.tech/v1alpha1', kind: 'Activation', metadata: { name: 'leak', namespace: 'shop' }, spec: { trigger: { type: 'event', event: { name: 'x' } }, destination: { type: 'kafka', kafka: { topic } } } });
  const delivery = { key: 'k-1', activation: 'shop/leak', variant: '', profileId: 'p-1', message: { body: '{}' }, attempt: 1 };
  for (const topic of [topics.control('main'), topics.source('web'), 'uspa.other.out.crm']) {
    await assert.rejects(messages.send(to(topic), [delivery], 'shop/leak'), (err: unknown) => err instanceof ApplicationFailure && err.type === 'InvalidDestination' && err.nonRetryable && err.message.startsWith(`shop/leak: spec.destination.kafka.topic: "${topic}" is not an output topic`));
  }
  assert.deepEqual(produced, []);
  await messages.send(to(`${topics.activationOutputs}crm`), [delivery], 'shop/leak');
  assert.deepEqual(produced, ['uspa.shop.out.crm']);
});
