// The API's profile cache on the real engines: a read is cached (the metrics count hits), an
// identify through the collector and pipeline reaches the cache as a profile-changes record on
// Kafka, which evicts the entry, so the next reads show the new trait; a merge moves the
// anonymousId lookup to the surviving profile. No timing is asserted here (see npm run bench:api).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';

const path = (identity: string) => `/v1/profiles/${encodeURIComponent(identity)}`;

describe('profile cache freshness', { timeout: 300_000 }, () => {
  let h: ApiHarness;
  let key = '';
  const run = randomUUID().slice(0, 8);
  const user = `userId:u-${run}`;
  const anon = `anonymousId:a-${run}`;
  let sent = 0;

  /** Sum of a counter's series whose labels include `labels` (e.g. 'cache="profile"'). */
  const metric = async (name: string, labels = ''): Promise<number> => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (labels && !line.includes(labels)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  };
  const send = async (events: Record<string, unknown>[]) => {
    const batch = events.map((e) => ({ messageId: `m-${run}-${++sent}`, timestamp: new Date(Date.now() - 60_000 + sent).toISOString(), ...e }));
    const res = await h.product.post('/v1/batch', { batch });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await h.product.waitForEvents(batch.map((e) => e.messageId));
  };
  const get = (identity: string) => h.call(key, 'get', path(identity));

  before(async () => {
    h = await startApi();
    key = await h.key('marketer');
    assert.equal(h.gateway.profiles.problem(), undefined, 'the cache consumes its change topics once started');
  });
  after(async () => {
    await h?.close();
  });

  test('a cached profile shows a new trait after an identify: evicted by its change record, not by expiry', async () => {
    await send([{ type: 'identify', userId: `u-${run}`, traits: { plan: 'free' } }]);
    const first = await eventually('the profile is served', async () => {
      const res = await get(user);
      return res.status === 200 && res.body.traits.plan?.value === 'free' ? res.body : undefined;
    });
    // The rebuild's own record may evict (and reload) the entry just read: let it arrive first.
    await eventually('the first rebuild reached the cache', async () => (await metric('uspa_api_profile_cache_changes_total', 'topic="profile-changes"')) >= 1);
    await get(user);
    const hits = await metric('uspa_api_profile_cache_hits_total', 'cache="profile"');
    const again = await get(user);
    assert.equal(again.status, 200);
    assert.equal(await metric('uspa_api_profile_cache_hits_total', 'cache="profile"'), hits + 1, 'the second read is a cache hit');
    assert.ok((await metric('uspa_api_profile_cache_hits_total', 'cache="identity"')) >= 1, 'the identity resolved from memory too');

    const changes = await metric('uspa_api_profile_cache_changes_total', 'topic="profile-changes"');
    const evicted = await metric('uspa_api_profile_cache_evictions_total', 'reason="change"');
    await send([{ type: 'identify', userId: `u-${run}`, traits: { plan: 'pro' } }]);
    const updated = await eventually('the read shows the new trait', async () => {
      const res = await get(user);
      return res.status === 200 && res.body.traits.plan?.value === 'pro' ? res.body : undefined;
    });
    assert.equal(updated.profileId, first.profileId);
    assert.ok((await metric('uspa_api_profile_cache_changes_total', 'topic="profile-changes"')) > changes, 'a profile-changes record was applied');
    assert.ok((await metric('uspa_api_profile_cache_evictions_total', 'reason="change"')) > evicted, 'the entry was evicted by the change');
    assert.equal(await metric('uspa_api_profile_cache_evictions_total', 'reason="expired"'), 0, 'nothing expired');
    assert.ok((await metric('uspa_api_profile_cache_change_lag_seconds_count', 'topic="profile-changes"')) > 0);
    // The refreshed entry is served from memory again.
    const after = await metric('uspa_api_profile_cache_hits_total', 'cache="profile"');
    assert.equal((await get(user)).body.traits.plan.value, 'pro');
    assert.equal(await metric('uspa_api_profile_cache_hits_total', 'cache="profile"'), after + 1);
  });

  test('a merge moves the cached anonymousId lookup to the surviving profile', async () => {
    const survivor = (await get(user)).body.profileId as string;
    await send([{ type: 'track', event: 'Product Viewed', anonymousId: `a-${run}`, properties: { sku: 'sku-1' } }]);
    const anonymous = await eventually('the anonymous profile is served', async () => {
      const res = await get(anon);
      return res.status === 200 ? (res.body.profileId as string) : undefined;
    });
    assert.notEqual(anonymous, survivor);
    const hits = await metric('uspa_api_profile_cache_hits_total', 'cache="identity"');
    assert.equal((await get(anon)).body.profileId, anonymous);
    assert.ok((await metric('uspa_api_profile_cache_hits_total', 'cache="identity"')) > hits, 'the anonymousId lookup is cached');

    await send([{ type: 'identify', userId: `u-${run}`, anonymousId: `a-${run}`, traits: { plan: 'team' } }]);
    const merged = await eventually('the anonymousId resolves to the surviving profile', async () => {
      const res = await get(anon);
      return res.status === 200 && res.body.profileId === survivor ? res.body : undefined;
    });
    assert.ok(merged.identities.includes(anon) && merged.identities.includes(user), JSON.stringify(merged.identities));
    assert.equal(merged.traits.plan.value, 'team');
    assert.equal((await get(user)).body.profileId, survivor);
    assert.equal(await metric('uspa_api_profile_cache_evictions_total', 'reason="expired"'), 0);
  });
});
