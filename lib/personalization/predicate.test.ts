import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../segments/rules.ts';
import { compilePredicate, decisionRuleErrors, UNKNOWN_VISITOR, type DecisionProfile } from './predicate.ts';

const ada: DecisionProfile = {
  traits: { plan: 'pro', age: '42', vip: true, address: { city: 'Paris' }, tags: ['beta'], signup: '2026-01-15T10:00:00Z', nothing: null },
  fields: { lifetime_revenue: 250, order_count: 3, last_order_at: Date.UTC(2026, 10, 1), first_seen: Date.UTC(2025, 0, 1) },
  eventCounts: { 'Order Completed': 3, 'Product Viewed': 12 },
  interests: { shoes: 0.7, hats: 0.1 },
  segments: new Set(['high-value']),
};
const is = (rule: unknown, p: DecisionProfile = ada) => compilePredicate(parseRule(rule))(p);

test('traits: strings, numeric strings, booleans, nested paths, arrays, dates; absent and null match only exists:false', () => {
  assert.equal(is({ trait: 'plan', op: 'eq', value: 'pro' }), true);
  assert.equal(is({ trait: 'age', op: 'gte', value: 40 }), true, 'numbers match numeric strings');
  assert.equal(is({ trait: 'vip', op: 'eq', value: true }), true);
  assert.equal(is({ trait: 'address.city', op: 'in', value: ['Paris', 'Rome'] }), true);
  assert.equal(is({ trait: 'tags', op: 'contains', value: 'beta' }), true);
  assert.equal(is({ trait: 'signup', op: 'gt', value: '2026-01-01' }), true);
  assert.equal(is({ trait: 'signup', op: 'between', value: ['2026-02-01', '2026-03-01'] }), false);
  assert.equal(is({ trait: 'missing', op: 'neq', value: 'x' }), false, 'neq means present and different');
  assert.equal(is({ trait: 'nothing', op: 'exists' }), false);
  assert.equal(is({ trait: 'nothing', op: 'exists', value: false }), true);
  assert.equal(is({ not: { trait: 'missing', op: 'eq', value: 'x' } }), true);
  assert.equal(is({ trait: 'plan', op: 'gt', value: 3 }), false, 'a non-numeric string never compares as a number');
});

test('profile fields, interests, segments and event counts', () => {
  assert.equal(is({ profile: 'lifetime_revenue', op: 'gt', value: 100 }), true);
  assert.equal(is({ profile: 'order_count', op: 'in', value: [1, 3] }), true);
  assert.equal(is({ profile: 'last_order_at', op: 'gte', value: '2026-10-01' }), true);
  assert.equal(is({ profile: 'last_order_at', op: 'exists' }, UNKNOWN_VISITOR), false);
  assert.equal(is({ interest: 'Shoes', op: 'gte', value: 0.6 }), true, 'the key is normalized like the pipeline writes it');
  assert.equal(is({ interest: 'hats', op: 'gte', value: 0.6 }), false);
  assert.equal(is({ interest: 'bags', op: 'lt', value: 0.5 }), false, 'absent is no interest: only exists:false matches');
  assert.equal(is({ interest: 'bags', op: 'exists', value: false }), true);
  assert.equal(is({ segment: 'high-value' }), true);
  assert.equal(is({ segment: 'churned' }), false);
  assert.equal(is({ event: 'Order Completed', atLeast: 2, atMost: 5 }), true);
  assert.equal(is({ event: 'Refund', performed: false }), true);
  assert.equal(is({ all: [{ segment: 'high-value' }, { any: [{ trait: 'plan', op: 'eq', value: 'free' }, { interest: 'shoes', op: 'exists' }] }] }), true);
});

test('an unknown visitor matches only what holds for nobody-in-particular', () => {
  assert.equal(is({ trait: 'plan', op: 'eq', value: 'pro' }, UNKNOWN_VISITOR), false);
  assert.equal(is({ event: 'Order Completed', performed: false }, UNKNOWN_VISITOR), true);
});

test('decisionRuleErrors: rule errors at the given root, and event-log conditions refused with the way out', () => {
  assert.deepEqual(decisionRuleErrors({ trait: 'plan', op: 'nope' }, 'spec.variants[0].rule').map((e) => e.path), ['spec.variants[0].rule.op']);
  const errors = decisionRuleErrors({ all: [{ event: 'Order Completed', within: '7d' }, { event: 'x', where: [{ property: 'a', op: 'eq', value: 1 }] }] }, 'spec.variants[1].rule');
  assert.deepEqual(errors.map((e) => e.path), ['spec.variants[1].rule.all[0].within', 'spec.variants[1].rule.all[1].where']);
  assert.match(errors[0]!.message, /define a Segment with this condition and use \{segment: <its name>\}/);
  assert.deepEqual(decisionRuleErrors({ interest: 'shoes', op: 'gte', value: 0.6 }), []);
});
