import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assemble, byPriority, isoTime } from './clickhouse.ts';

const profile = (deleted = '0') => ({
  kind: 'profile' as const,
  k: JSON.stringify(['anonymousId:a-1', 'email:ada@example.com', 'userId:u-1']),
  v: JSON.stringify({ Viewed: '3' }),
  at: '2026-01-02 03:04:05.678',
  n: deleted,
  x: JSON.stringify({ firstSeen: '2026-01-01 00:00:00.000', lastSeen: '2026-01-02 00:00:00.000', eventCount: '3', lifetimeRevenue: '0', orderCount: '0', lastOrderAt: '', recency: '0', frequency: '1', monetary: '0' }),
});
const row = (kind: 'member' | 'latest' | 'live' | 'trait', k: string, n: string, at = '', v = '', x = '') => ({ kind, k, v, at, n, x });

test('a batch membership counts from the oldest version of the unbroken run ending at the latest version', () => {
  const doc = assemble('p1', [
    profile(),
    row('latest', 'ns/vip', '5'),
    ...[2, 4, 5].map((v) => row('member', 'ns/vip', String(v), `2026-01-0${v} 00:00:00.000`)),
    row('latest', 'ns/lapsed', '3'),
    row('member', 'ns/lapsed', '2', '2026-01-02 00:00:00.000'),
    row('live', 'ns/live', '', '2026-01-07 00:00:00.000'),
  ])!;
  assert.deepEqual(doc.segments, [{ segment: 'live', since: '2026-01-07T00:00:00.000Z' }, { segment: 'vip', since: '2026-01-04T00:00:00.000Z' }]);
});

test('traits keep time, Source and message id; consent follows the traits; a deleted profile is none', () => {
  const doc = assemble('p1', [profile(), row('trait', 'plan', 'm-1', '2026-01-01 00:00:00.000', '"pro"', 'web'), row('trait', 'consent', 'm-2', '2026-01-01 00:00:00.000', '{"marketing":"granted"}', 'web')], ['userId', 'email', 'anonymousId'])!;
  assert.deepEqual(doc.traits.plan, { value: 'pro', setAt: '2026-01-01T00:00:00.000Z', source: 'web', messageId: 'm-1' });
  assert.deepEqual(doc.consent, { marketing: true });
  assert.deepEqual(doc.identities, ['userId:u-1', 'email:ada@example.com', 'anonymousId:a-1']);
  assert.equal(doc.computed.eventCounts.Viewed, 3);
  assert.equal(doc.updatedAt, '2026-01-02T03:04:05.678Z');
  assert.equal(assemble('p1', [profile('1')]), undefined);
  assert.equal(assemble('p1', []), undefined);
});

test('identities by key priority, unknown types last; ClickHouse times as ISO 8601', () => {
  assert.deepEqual(byPriority(['crm:9', 'email:b', 'email:a', 'userId:u'], ['userId', 'email']), ['userId:u', 'email:a', 'email:b', 'crm:9']);
  assert.equal(isoTime('2026-01-02 03:04:05.678'), '2026-01-02T03:04:05.678Z');
});
