import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsentMemory, consentRows } from './consent.ts';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const event = (messageId: string, timestamp: string, preferences: Record<string, boolean>) => ({
  type: 'track' as const, traits: {}, context: { consent: { categoryPreferences: preferences } }, timestamp, receivedAt: timestamp, source: 'web', messageId,
});

test('a declared purpose\'s statement is recorded when it changes; repeats and undeclared purposes are not', () => {
  const memory = new ConsentMemory(new Set(['analytics', 'marketing']));
  const pending = new Map();
  const first = consentRows(event('m1', '2026-12-03T10:00:00.000Z', { analytics: true, marketing: false, ads: true }), 'userId:ada', 'p1', memory, pending, NOW);
  assert.deepEqual(first.history.map((r) => [r.purpose, r.granted, r.channel, r.message_id]), [['analytics', 1, 'context', 'm1'], ['marketing', 0, 'context', 'm1']]);
  assert.deepEqual(first.traits.map((t) => [t.trait, t.value]), [['consent_analytics', 'true'], ['consent_marketing', 'false']]);
  const same = consentRows(event('m2', '2026-12-03T10:01:00.000Z', { analytics: true, marketing: false }), 'userId:ada', 'p1', memory, pending, NOW);
  assert.deepEqual(same, { history: [], traits: [] }, 'the same state again (in this batch) is no change');
  const changed = consentRows(event('m3', '2026-12-03T10:02:00.000Z', { marketing: true }), 'userId:ada', 'p1', memory, pending, NOW);
  assert.deepEqual(changed.history.map((r) => [r.purpose, r.granted]), [['marketing', 1]]);
});

test('only stored rows are remembered: a batch that failed records its statements again on the retry', () => {
  const memory = new ConsentMemory(new Set(['marketing']));
  const e = event('m1', '2026-12-03T10:00:00.000Z', { marketing: true });
  assert.equal(consentRows(e, 'userId:bo', 'p2', memory, new Map(), NOW).history.length, 1);
  const retried = consentRows(e, 'userId:bo', 'p2', memory, new Map(), NOW);
  assert.equal(retried.history.length, 1, 'nothing remembered yet');
  memory.remember(retried.history);
  assert.equal(consentRows(event('m2', '2026-12-03T10:05:00.000Z', { marketing: true }), 'userId:bo', 'p2', memory, new Map(), NOW).history.length, 0);
});

test('a late statement older than the recorded state is history only: the trait keeps the newer state', () => {
  const memory = new ConsentMemory(new Set(['marketing']));
  memory.remember(consentRows(event('m2', '2026-12-03T11:00:00.000Z', { marketing: false }), 'userId:cy', 'p3', memory, new Map(), NOW).history);
  const late = consentRows(event('m1', '2026-12-03T09:00:00.000Z', { marketing: true }), 'userId:cy', 'p3', memory, new Map(), NOW);
  assert.deepEqual(late.history.map((r) => [r.granted, r.at]), [[1, '2026-12-03 09:00:00.000']]);
  assert.deepEqual(late.traits, []);
});

test('no declared purposes: nothing is recorded', () => {
  assert.deepEqual(consentRows(event('m1', '2026-12-03T10:00:00.000Z', { marketing: true }), 'userId:ada', 'p1', new ConsentMemory(new Set()), new Map(), NOW), { history: [], traits: [] });
});
