import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicNames } from '../../api/names.ts';
import { createLogger } from '../log.ts';
import { directIdentities, identityHash, SuppressionList, suppressionRecord } from './suppressions.ts';

const topics = topicNames('uspa.shop');
const list = () => new SuppressionList({ kafka: {} as never, topics, log: createLogger('test') });

test('an event names userId, anonymousId, and previousId as either', () => {
  assert.deepEqual(directIdentities({ userId: 'u', anonymousId: 'a', previousId: 'p' }), ['userId:u', 'anonymousId:a', 'userId:p', 'anonymousId:p']);
  assert.deepEqual(directIdentities({ userId: null }), []);
});

test('records suppress by hash, a tombstone lifts, an unreadable record is skipped and changes nothing', () => {
  const l = list();
  const r = suppressionRecord(topics, 'userId:u-1', 'req-1');
  assert.equal(r.topic, 'uspa.shop.privacy');
  l.apply(r.key!, Buffer.from(r.value));
  assert.equal(l.has(['anonymousId:x', 'userId:u-1']), true);
  assert.equal(l.has(['userId:u-10']), false);
  l.apply('not-a-hash', Buffer.from(r.value));
  l.apply(identityHash('userId:u-2'), Buffer.from('{broken'));
  assert.equal(l.size, 1);
  l.apply(r.key!, null);
  assert.equal(l.has(['userId:u-1']), false);
});

test('not ready until loaded', () => {
  assert.match(list().problem() ?? '', /not been loaded/);
});
