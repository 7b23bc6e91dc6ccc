import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topicNames } from '../../api/names.ts';
import { personTopics, retainedUntil } from './retention.ts';

test('the receipt lists every topic of the namespace but the suppression list, and none of another namespace', () => {
  const topics = topicNames('uspa.shop');
  assert.deepEqual(personTopics(['uspa.shop.events.web', 'uspa.shop.privacy', 'uspa.shopx.events.web', 'uspa.other.events.web', 'uspa.shop.dead-letters.web'], topics), ['uspa.shop.dead-letters.web', 'uspa.shop.events.web']);
});

test('retention.ms after the erasure is the date; compacted and unlimited topics say so', () => {
  const at = new Date('2026-12-01T00:00:00.000Z');
  assert.equal(retainedUntil(at, String(7 * 24 * 3_600_000), 'delete'), '2026-12-08T00:00:00.000Z');
  assert.match(retainedUntil(at, '604800000', 'compact,delete'), /^compacted/);
  assert.match(retainedUntil(at, '-1', 'delete'), /^never/);
});
