import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicNames } from '../../lib/kafka.ts';
import { deadLetterOf } from './dead-letter-sender.ts';

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
