// Consent per purpose on the real engines: a Pipeline declaring analytics and marketing, a web
// Source that collects only with analytics, a server Source that requires nothing. The collector
// stores only what the Source's purpose allows (a consent update is kept, stripped), the pipeline
// records each change in consent_history and the newest state on the profile, and the API shows both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSENT_UPDATED, consentGranted } from '../../lib/consent.ts';
import { eventually, unique } from '../support/env.ts';
import { startApi, type ApiHarness } from '../support/gateway.ts';
import { eventsOf } from './support.ts';

const PURPOSES = [
  { name: 'analytics', description: 'measuring how the shop is used' },
  { name: 'marketing', description: 'campaigns and audiences' },
  { name: 'personalization', description: 'pages tailored to you' },
];
const prefs = (categoryPreferences: Record<string, boolean>) => ({ consent: { categoryPreferences } });

describe('consent per purpose', { concurrency: false, timeout: 600_000 }, () => {
  let h: ApiHarness;
  let key: string;
  const tag = unique('c').replace(/[^a-z0-9]/g, '');
  const { send, stored } = eventsOf(() => h.product, tag);
  const ada = `u-ada-${tag}`;
  const metric = async (name: string) => (await (await fetch(`${h.product.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith(name)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  const history = async (userId: string) =>
    h.product.rows<{ purpose: string; granted: number; channel: string; source: string }>('SELECT purpose, granted, channel, source FROM {db}.consent_history FINAL WHERE identity = {i:String} ORDER BY at, purpose', { i: `userId:${userId}` });
  const traitsOf = async (userId: string) => {
    const rows = await h.product.rows<{ traits: string }>('SELECT traits FROM {db}.profiles FINAL WHERE deleted = 0 AND has(identities, {i:String})', { i: `userId:${userId}` });
    return rows[0] ? (JSON.parse(rows[0].traits) as Record<string, never>) : undefined;
  };

  before(async () => {
    h = await startApi({
      sources: [{ name: 'web', type: 'web', consent: { required: false, purpose: 'analytics' } }, { name: 'server', type: 'server' }, { name: 'kiosk', type: 'web', consent: { required: false, purpose: 'analytics', withoutConsent: 'anonymize' } }],
      pipeline: { consent: { purposes: PURPOSES } },
    });
    key = await h.key('privacy');
  });
  after(() => h?.close());

  test('a Source requiring analytics stores only events that grant it, keeps a refusal stripped, and counts the rest', async () => {
    const before = await metric('uspa_collector_events_without_consent_total');
    const granted = await send('/v1/track', { userId: ada, event: 'Viewed', context: prefs({ analytics: true }) }, 'web');
    const refused = await send('/v1/track', { userId: ada, event: 'Viewed', context: prefs({ analytics: false, marketing: true }) }, 'web');
    const silent = await send('/v1/track', { userId: ada, event: 'Viewed' }, 'web');
    const update = await send('/v1/track', { userId: ada, event: CONSENT_UPDATED, properties: { banner: 'v2' }, context: { ...prefs({ analytics: false }), ip: '203.0.113.9' } }, 'web');
    const server = await send('/v1/track', { userId: ada, event: 'Order Completed' }, 'server');
    await h.product.waitForEvents([granted, update, server]);
    await new Promise((r) => setTimeout(r, 1_500)); // room for a wrongly accepted event to arrive
    assert.deepEqual(await stored([granted, refused, silent, update, server]), [granted, update, server].sort(), 'no consent, no event: silence is no consent; the other Source requires nothing');
    assert.equal((await metric('uspa_collector_events_without_consent_total')) - before, 3);
    const [kept] = await h.product.rows<{ properties: string; context: string; ip: string }>('SELECT properties, context, ip FROM {db}.events WHERE message_id = {m:String}', { m: update });
    assert.deepEqual([JSON.parse(kept!.properties), JSON.parse(kept!.context), kept!.ip], [{}, prefs({ analytics: false }), ''], 'the refusal is kept as consent only');
  });

  test('a Source with withoutConsent: anonymize keeps an event without consent, without the person: no identity, no profile, no IP', async () => {
    const kiosk = `u-kiosk-${tag}`;
    const anon = await send('/v1/track', { userId: kiosk, anonymousId: `a-kiosk-${tag}`, event: 'Viewed Shoes', properties: { sku: 'x1' }, context: { traits: { email: `${kiosk}@example.com` } } }, 'kiosk');
    const granted = await send('/v1/track', { userId: kiosk, event: 'Viewed Shoes', context: prefs({ analytics: true }) }, 'kiosk');
    await h.product.waitForEvents([anon, granted]);
    const rows = await h.product.rows<{ message_id: string; user_id: string; anonymous_id: string; identity: string; profile_id: string; ip: string; properties: string; context: string }>(
      'SELECT message_id, user_id, anonymous_id, identity, profile_id, ip, properties, context FROM {db}.events WHERE message_id IN {ids:Array(String)} ORDER BY message_id', { ids: [anon, granted] });
    const kept = rows.find((r) => r.message_id === anon)!;
    assert.deepEqual([kept.user_id, kept.anonymous_id, kept.identity, kept.profile_id, kept.ip], ['', '', '', '', ''], 'nobody');
    assert.deepEqual(JSON.parse(kept.properties), { sku: 'x1' }, 'what happened stays, for analytics');
    assert.ok(!kept.context.includes(kiosk), 'no identifier left in the context');
    assert.equal(rows.find((r) => r.message_id === granted)!.user_id, kiosk, 'with consent, the person is kept');
    assert.equal((await h.product.rows('SELECT 1 FROM {db}.identities FINAL WHERE identity = {i:String}', { i: `anonymousId:a-kiosk-${tag}` })).length, 0, 'the anonymized event joined no identity graph');
    assert.ok((await metric('uspa_collector_events_without_consent_total')) >= 4);
  });

  test('each change is recorded once in consent_history; the profile holds the newest state; the API shows both', async () => {
    const bo = `u-bo-${tag}`;
    const ids = [
      await send('/v1/identify', { userId: bo, traits: { plan: 'pro' }, context: prefs({ analytics: true, marketing: true, ads: true }) }, 'server'),
      await send('/v1/track', { userId: bo, event: 'Viewed', context: prefs({ analytics: true, marketing: true }) }, 'server'), // no change
      await send('/v1/track', { userId: bo, event: 'Viewed', context: prefs({ marketing: false }) }, 'server'),
      await send('/v1/identify', { userId: bo, traits: { consent: { marketing: 'granted' } } }, 'server'),
    ];
    await h.product.waitForEvents(ids);
    const rows = await eventually('four statements recorded', async () => {
      const r = await history(bo);
      return r.length >= 4 && r;
    }, 90_000);
    assert.deepEqual(rows.map((r) => [r.purpose, r.granted, r.channel]), [['analytics', 1, 'context'], ['marketing', 1, 'context'], ['marketing', 0, 'context'], ['marketing', 1, 'traits']], 'changes only, in order; ads is not a declared purpose');
    const traits = await eventually("Bo's profile with the newest consent", async () => {
      const t = await traitsOf(bo);
      return t && t.consent_marketing === true && t;
    }, 90_000);
    assert.equal(consentGranted(traits, 'marketing'), true);
    assert.equal(consentGranted(traits, 'analytics'), true);

    const res = await h.call(key, 'GET', `/v1/profiles/userId:${bo}/consent`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.purposes, [
      { name: 'analytics', description: 'measuring how the shop is used', state: 'granted' },
      { name: 'marketing', description: 'campaigns and audiences', state: 'granted' },
      { name: 'personalization', description: 'pages tailored to you', state: 'unknown' },
    ]);
    const seen = res.body.history.map((e: { purpose: string; granted: boolean; channel: string }) => `${e.purpose}=${e.granted}/${e.channel}`);
    assert.deepEqual([...seen].sort(), ['analytics=true/context', 'marketing=false/context', 'marketing=true/context', 'marketing=true/traits']);
    assert.equal(res.body.history[0].purpose, 'marketing');
    assert.deepEqual([res.body.history[0].granted, res.body.history[0].channel, res.body.history[1].granted], [true, 'traits', false], 'newest first');
    assert.equal(res.body.history.length, 4);
    const profile = await h.call(key, 'GET', `/v1/profiles/userId:${bo}`);
    assert.deepEqual(profile.body.consent, { analytics: true, marketing: true });
  });

  test('the API records a consent change through the pipeline; an undeclared purpose and other roles are refused', async () => {
    const bo = `u-bo-${tag}`;
    const put = await h.call(key, 'PUT', `/v1/profiles/userId:${bo}/consent`, { body: { purposes: { marketing: false } } });
    assert.equal(put.status, 202, put.text);
    assert.equal(put.body.source, h.product.sources.web!.name, 'the first Source read by a Pipeline declaring marketing');
    const withdrawn = await eventually('the withdrawal on the profile', async () => {
      const r = await h.call(key, 'GET', `/v1/profiles/userId:${bo}/consent`);
      return r.body.purposes?.find((p: { name: string }) => p.name === 'marketing')?.state === 'denied' && r;
    }, 90_000);
    assert.deepEqual([withdrawn.body.history[0].purpose, withdrawn.body.history[0].granted, withdrawn.body.history[0].messageId], ['marketing', false, put.body.messageId], 'recorded as the newest change, from the event the API sent');
    const undeclared = await h.call(key, 'PUT', `/v1/profiles/userId:${bo}/consent`, { body: { purposes: { ads: true } } });
    assert.equal(undeclared.status, 400);
    assert.equal(undeclared.body.error.field, 'body.purposes.ads');
    assert.match(undeclared.body.error.message, /not a purpose this namespace declares \(analytics, marketing, personalization\)/);
    const marketer = await h.key('marketer');
    assert.equal((await h.call(marketer, 'PUT', `/v1/profiles/userId:${bo}/consent`, { body: { purposes: { marketing: true } } })).status, 403);
    assert.equal((await h.call(key, 'PUT', `/v1/profiles/userId:nobody-${tag}/consent`, { body: { purposes: { marketing: true } } })).status, 404);
  });

  test('personalization decisions fall back to the defaults without the personalization purpose', async () => {
    const cy = `u-cy-${tag}`;
    const marketer = await h.key('marketer');
    await h.product.waitForEvents([await send('/v1/identify', { userId: cy, traits: { plan: 'pro' }, context: prefs({ analytics: true }) }, 'server')]);
    const without = await eventually('the profile', async () => {
      const r = await h.call(marketer, 'GET', `/v1/profiles/userId:${cy}/decisions`);
      return r.status === 200 && r;
    }, 90_000);
    assert.deepEqual(without.body, { personalized: false, segments: [], persona: null, recommendations: [] });
    await h.product.waitForEvents([await send('/v1/identify', { userId: cy, context: prefs({ personalization: true }) }, 'server')]);
    const granted = await eventually('decisions once personalization is granted', async () => {
      const r = await h.call(marketer, 'GET', `/v1/profiles/userId:${cy}/decisions`);
      return r.body.personalized === true && r;
    }, 90_000);
    assert.ok(Array.isArray(granted.body.segments) && Array.isArray(granted.body.recommendations));
  });
});
