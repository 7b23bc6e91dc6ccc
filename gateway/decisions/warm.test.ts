import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { createLogger } from '../../lib/log.ts';
import { WarmProfiles } from './warm.ts';

const row = (id: string, identities: string[], traits: object) => ({
  profile_id: id, identities, traits: JSON.stringify(traits), event_counts: { 'Order Completed': '2' }, interests: { shoes: 0.7 },
  first_seen: '2026-01-01 00:00:00.000', last_seen: '2026-02-01 00:00:00.000', event_count: '5', lifetime_revenue: 120, order_count: '2',
  last_order_at: null, rfm_recency: 3, rfm_frequency: 2, rfm_monetary: 4,
});

/** Answers by what the SQL asks for: the count, personas, the profile chunks, memberships, a re-read. */
function warehouse(profiles: ReturnType<typeof row>[]): Warehouse {
  return {
    query: async (sql: string, params: { ids?: string[] } = {}) => {
      if (sql.includes('count() AS n')) return [{ n: String(profiles.length) }];
      if (sql.includes('toString((SELECT max(version)')) return [{ v: '0' }];
      if (sql.includes('profile_personas')) return [];
      if (sql.includes('groupUniqArray(segment)')) return params.ids?.includes('p1') ? [{ profile_id: 'p1', segments: ['shop/vip'] }] : [];
      if (sql.includes('profile_id IN {ids:Array(String)}')) return profiles.filter((p) => params.ids!.includes(p.profile_id));
      return profiles;
    },
  } as unknown as Warehouse;
}

test('every profile by each identity, with traits, columns, interests, Segments and consent; unknown identities are no profile', async () => {
  const w = new WarmProfiles(warehouse([row('p1', ['userId:u1', 'anonymousId:a1'], { plan: 'pro', consent_personalization: true }), row('p2', ['anonymousId:a2'], {})]), createLogger('test', 'silent'));
  await w.load();
  assert.equal(w.ready, true);
  const d = w.get('anonymousId:a1')!;
  assert.equal(d.profileId, 'p1');
  assert.equal(d.profile.traits.plan, 'pro');
  assert.deepEqual([d.profile.fields.order_count, d.profile.fields.last_order_at, d.profile.eventCounts['Order Completed'], d.profile.interests.shoes], [2, null, 2, 0.7]);
  assert.deepEqual([...d.profile.segments], ['vip']);
  assert.equal(d.consent.personalization, true);
  assert.equal(w.get('anonymousId:nobody'), undefined);
  w.stop();
});

test('Segment changes apply at once; a deleted profile is gone with its identities; above the limit the store is not used', async () => {
  const w = new WarmProfiles(warehouse([row('p1', ['userId:u1'], {}), row('p2', ['userId:u2'], {})]), createLogger('test', 'silent'));
  await w.load();
  w.applySegmentChange({ namespace: 'shop', segment: 'shop/churned', version: 0, profileId: 'p2', change: 'entered', at: new Date().toISOString() });
  assert.deepEqual([...w.get('userId:u2')!.profile.segments], ['churned']);
  w.applySegmentChange({ namespace: 'shop', segment: 'shop/vip', version: 3, profileId: 'p1', change: 'exited', at: new Date().toISOString() });
  assert.deepEqual([...w.get('userId:u1')!.profile.segments], []);
  w.applyProfileChange({ profileId: 'p2', identities: [], deleted: true, updatedAt: new Date().toISOString() });
  assert.equal(w.get('userId:u2'), undefined);
  w.stop();
  const small = new WarmProfiles(warehouse([row('p1', ['userId:u1'], {})]), createLogger('test', 'silent'), 0);
  await small.load();
  assert.equal(small.ready, false);
  assert.match(small.disabled!, /USPA_API_WARM_PROFILES/);
});
