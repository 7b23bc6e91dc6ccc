import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicNames } from '../../lib/kafka.ts';
import { MAX_PAYLOAD_CHARS, deadLetterOf } from './dead-letter-sender.ts';

const topics = topicNames({ USPA_TOPIC_PREFIX: 'uspa.shop' });
const now = new Date('2026-01-01T00:00:00.000Z');
const origin = { topic: 'uspa.shop.events.web-app', partition: 2, offset: '41' };

test('a rejected event names its pipeline, Source, origin and messageId', () => {
  assert.deepEqual(deadLetterOf('main', topics, { origin, reason: 'processing_failed', errors: ['no identity'], payload: { messageId: 'm-1', type: 'track' } }, now), {
    stage: 'pipeline:main',
    source: 'web-app',
    reason: 'processing_failed',
    errors: ['no identity'],
    payload: { messageId: 'm-1', type: 'track' },
    messageId: 'm-1',
    origin,
    failedAt: '2026-01-01T00:00:00.000Z',
  });
});

test('a payload without a string messageId has none', () => {
  for (const payload of ['{not json', null, [1], { messageId: 7 }]) {
    assert.equal(deadLetterOf('main', topics, { origin, reason: 'invalid_json', errors: [], payload }, now).messageId, undefined);
  }
});

test('a payload too large for a Kafka record travels as the start of its text, and says so', () => {
  const big = { messageId: 'm-1', blob: 'x'.repeat(3 * MAX_PAYLOAD_CHARS) };
  const letter = deadLetterOf('main', topics, { origin, reason: 'clickhouse_rejected', errors: ['too big'], payload: big }, now);
  assert.equal(typeof letter.payload, 'string');
  assert.equal((letter.payload as string).length, MAX_PAYLOAD_CHARS);
  assert.equal(letter.messageId, 'm-1');
  assert.match(letter.errors[1]!, /payload truncated to its first 262144 of 786461 characters/);
  assert.ok(JSON.stringify(letter).length < 1024 * 1024);
  const small = deadLetterOf('main', topics, { origin, reason: 'x', errors: ['e'], payload: { messageId: 'm-2' } }, now);
  assert.deepEqual([small.payload, small.errors], [{ messageId: 'm-2' }, ['e']]);
});
