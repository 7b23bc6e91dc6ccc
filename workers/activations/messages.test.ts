import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/activity';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { topicNames } from '../../api/names.ts';
import { type Shape, templateContext } from '../../api/activation-templates.ts';
import type { Trigger } from '../../api/workflows/activations.ts';
import { createLogger } from '../../lib/log.ts';
import { Mailer } from './destinations.ts';
import { createMessages } from './messages.ts';
import { renderTemplate } from './render.ts';

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

/** Every path the apply-time check accepts, down to the declared fields (open maps and lists stop at themselves or their first item). */
function paths(shape: Shape, prefix: string): string[] {
  if (shape === 'any') return [prefix];
  if (Array.isArray(shape)) return paths(shape[0], `${prefix}[0]`);
  return Object.entries(shape).flatMap(([k, v]) => paths(v, prefix ? `${prefix}.${k}` : k));
}

test('what the operator checks templates against is what the worker renders with: every declared variable is there for a stored person', async () => {
  const messages = createMessages({ namespace: 'shop', secrets: { value: async () => '' }, producer: { send: async () => undefined }, mailer: new Mailer(), webhookAddresses: 'deny', kafkaOutputs: topics.activationOutputs, log: createLogger('test', 'silent') });
  const activation = { apiVersion: 'uspa.tech/v1alpha1', kind: 'Activation', metadata: { name: 'welcome' }, spec: { trigger: { type: 'event' }, destination: { type: 'webhook' } } } as unknown as Activation;
  const person = { profileId: 'p-1', found: true, traits: { plan: 'pro' }, profile: { id: 'p-1', firstSeen: 't', lastSeen: 't', lifetimeRevenue: 0, orderCount: 0, eventCount: 1 } };
  const event: Trigger = { key: 'k', messageId: 'm-1', at: '2026-12-01T00:00:00Z', kind: 'event', event: { name: 'Order Completed', properties: { total: 1 } } };
  const entered: Trigger = { key: 'k', messageId: 'm-2', at: '2026-12-01T00:00:00Z', kind: 'segmentEntered', segment: { name: 'vip', version: 3, change: 'entered' } };
  const recommendations = [{ item: 'sku-1', score: 0.9 }];
  for (const [kind, trigger] of [['event', event], ['segmentEntered', entered]] as const) {
    const context = messages.context(activation, 'a', person, trigger, [trigger], recommendations);
    for (const path of paths(templateContext(kind, 'webhook'), '')) {
      await renderTemplate(`{{ ${path} | json }}`, `${kind}: ${path}`, context); // throws, naming the path, when missing
    }
  }
});
