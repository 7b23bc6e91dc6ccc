import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation, ActivationSpec } from '../../api/v1alpha1/activation.ts';
import type { CanonicalEvent } from '../../api/event.ts';
import { campaignWorkflowId } from '../../api/workflows/activations.ts';
import { actionsForEvent, actionsForSegmentChange, deliveryKey, personKey } from './triggers.ts';

function activation(name: string, spec: Partial<ActivationSpec> & Pick<ActivationSpec, 'trigger'>): Activation {
  return { apiVersion: 'uspa.tech/v1alpha1', kind: 'Activation', metadata: { name, namespace: 'shop' }, spec: { destination: { type: 'webhook', webhook: { url: 'https://x.invalid' } }, ...spec } };
}

function event(e: Partial<CanonicalEvent>): CanonicalEvent {
  return { type: 'track', messageId: 'm-1', timestamp: '2026-06-01T10:00:00.000Z', receivedAt: '2026-06-01T10:00:00.000Z', properties: {}, traits: {}, context: {}, integrations: {}, source: 'web', ...e };
}

const cart = activation('cart', { trigger: { type: 'event', event: { name: 'Product Added', where: [{ property: 'price', op: 'gte', value: 20 }] }, delay: '30m', unless: { event: 'Order Completed', within: '30m' } } });
const welcome = activation('welcome', { segment: 'vip', trigger: { type: 'segmentEntered' } });
const bye = activation('bye', { segment: 'vip', trigger: { type: 'segmentExited' }, suspend: true });

describe('trigger matching', () => {
  test('a matching event starts the person\'s campaign with its timing and a key from its message id', () => {
    const [a, ...rest] = actionsForEvent('shop', [cart, welcome], event({ event: 'Product Added', userId: 'u-1', anonymousId: 'a-1', properties: { price: 25 }, context: { timezone: 'Europe/Berlin', ip: '1.2.3.4' } }));
    assert.equal(rest.length, 0);
    assert.ok(a && a.kind === 'start');
    assert.equal(a.workflowId, 'campaign-shop-cart-userId:u-1');
    assert.deepEqual(a.input, { namespace: 'shop', activation: 'cart', person: 'userId:u-1', identities: ['userId:u-1', 'anonymousId:a-1'], delayMs: 1_800_000, unless: { event: 'Order Completed', withinMs: 1_800_000 } });
    assert.equal(a.trigger.key, deliveryKey('shop', 'cart', 'event:m-1'));
    assert.deepEqual(a.trigger.event, { name: 'Product Added', properties: { price: 25 }, timezone: 'Europe/Berlin' }, 'only what policies and templates use travels (no IP)');
  });

  test('where filters, event names, non-track events and people without ids start nothing', () => {
    assert.equal(actionsForEvent('shop', [cart], event({ event: 'Product Added', userId: 'u', properties: { price: 5 } })).length, 0);
    assert.equal(actionsForEvent('shop', [cart], event({ event: 'Product Viewed', userId: 'u', properties: { price: 50 } })).length, 0);
    assert.equal(actionsForEvent('shop', [cart], event({ type: 'identify', event: 'Product Added', userId: 'u', properties: { price: 50 } })).length, 0);
    assert.equal(actionsForEvent('shop', [cart], event({ event: 'Product Added', properties: { price: 50 } })).length, 0);
    assert.equal(actionsForEvent('shop', [{ ...cart, spec: { ...cart.spec, suspend: true } }], event({ event: 'Product Added', userId: 'u', properties: { price: 50 } })).length, 0);
  });

  test('the unless event signals the person\'s campaign (anonymous people by anonymousId)', () => {
    const actions = actionsForEvent('shop', [cart], event({ event: 'Order Completed', anonymousId: 'a-9', messageId: 'm-9', timestamp: '2026-06-01T10:10:00.000Z' }));
    assert.deepEqual(actions, [{ kind: 'unless', workflowId: 'campaign-shop-cart-anonymousId:a-9', signal: { messageId: 'm-9', event: 'Order Completed', at: '2026-06-01T10:10:00.000Z' } }]);
  });

  test('segment changes start entered/exited campaigns of that segment, keyed by profile and version', () => {
    const change = { namespace: 'shop', segment: 'vip', version: 7, profileId: 'p-1', change: 'entered' as const, at: '2026-06-01T10:00:00.000Z' };
    const [a, ...rest] = actionsForSegmentChange('shop', [cart, welcome, bye], change);
    assert.equal(rest.length, 0);
    assert.equal(a!.workflowId, 'campaign-shop-welcome-profile:p-1');
    assert.equal(a!.input.profileId, 'p-1');
    assert.deepEqual(a!.trigger.segment, { name: 'vip', version: 7, change: 'entered' });
    assert.notEqual(a!.trigger.key, actionsForSegmentChange('shop', [welcome], { ...change, version: 8 })[0]!.trigger.key);
    assert.equal(actionsForSegmentChange('shop', [bye], { ...change, change: 'exited' }).length, 0, 'suspended');
    assert.equal(actionsForSegmentChange('shop', [welcome], { ...change, segment: 'other' }).length, 0);
  });

  test('keys and ids', () => {
    assert.equal(personKey({ userId: 'u', anonymousId: 'a' }), 'userId:u');
    assert.equal(personKey({ anonymousId: 'a' }), 'anonymousId:a');
    assert.equal(personKey({}), undefined);
    assert.equal(campaignWorkflowId('ns', 'act', 'userId:u'), 'campaign-ns-act-userId:u');
    assert.equal(deliveryKey('ns', 'a', 'x'), deliveryKey('ns', 'a', 'x'));
    assert.notEqual(deliveryKey('ns', 'a', 'x'), deliveryKey('ns', 'b', 'x'));
  });
});
