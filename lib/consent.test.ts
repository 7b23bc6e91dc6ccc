import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONSENT_UPDATED, anonymized, consentGranted, consentStates, consentStatements, eventGrants, isAnonymized, withoutPurpose } from './consent.ts';

test('consentStates lists every category the traits decide, by the rules consentGranted applies', () => {
  const traits = { consent: { marketing: 'granted', analytics: 'maybe', categoryPreferences: { ads: false, analytics: true } }, consent_sms: 'no', consent_: true, plan: 'pro' };
  assert.deepEqual(consentStates(traits), { ads: false, analytics: true, marketing: true, sms: false });
  for (const [category, state] of Object.entries(consentStates(traits))) assert.equal(consentGranted(traits, category), state, category);
  assert.deepEqual(consentStates({ consent: 'yes' }), {});
  assert.deepEqual(consentStates({}), {});
});

const event = (over: { type?: string; traits?: Record<string, unknown>; context?: Record<string, unknown> }) => ({ type: 'track', traits: {}, context: {}, ...over }) as never;

test('consentStatements reads Segment\'s context.consent.categoryPreferences and consent traits; traits win for the same purpose', () => {
  const e = event({ type: 'identify', traits: { consent: { marketing: 'denied' } }, context: { consent: { categoryPreferences: { analytics: true, marketing: true, ads: 'maybe' } } } });
  assert.deepEqual(consentStatements(e), [
    { purpose: 'analytics', granted: true, channel: 'context' },
    { purpose: 'marketing', granted: false, channel: 'traits' },
  ]);
  assert.deepEqual(consentStatements(e, new Set(['analytics'])).map((s) => s.purpose), ['analytics'], 'only declared purposes');
  // A track's own traits are not the person's: only context.traits count there.
  assert.deepEqual(consentStatements(event({ traits: { consent_marketing: true } })), []);
  assert.deepEqual(consentStatements(event({ context: { traits: { consent_marketing: true } } })), [{ purpose: 'marketing', granted: true, channel: 'traits' }]);
  assert.deepEqual(consentStatements(event({ context: { consent: 'yes' } })), []);
});

test('eventGrants: the event must say yes; silence or a no is no consent', () => {
  assert.equal(eventGrants(event({ context: { consent: { categoryPreferences: { analytics: true } } } }), 'analytics'), true);
  assert.equal(eventGrants(event({ context: { consent: { categoryPreferences: { analytics: false } } } }), 'analytics'), false);
  assert.equal(eventGrants(event({}), 'analytics'), false);
});

test('the pipeline\'s consent_<purpose> trait (the newest statement) is read before the others', () => {
  const traits = { consent_marketing: false, consent: { marketing: true, categoryPreferences: { marketing: true } } };
  assert.equal(consentGranted(traits, 'marketing'), false);
  assert.deepEqual(consentStates(traits), { marketing: false });
});

test('withoutPurpose keeps only a consent update, stripped to who, when and the consent', () => {
  const update = { type: 'track', event: CONSENT_UPDATED, messageId: 'm1', userId: 'ada', properties: { banner: 'v2' }, traits: { email: 'ada@example.com' }, context: { ip: '203.0.113.9', page: { url: 'https://shop.example/' }, consent: { categoryPreferences: { analytics: false } } } };
  const kept = withoutPurpose(update as never) as unknown as typeof update;
  assert.deepEqual([kept.userId, kept.messageId, kept.properties, kept.traits, kept.context], ['ada', 'm1', {}, {}, { consent: { categoryPreferences: { analytics: false } } }]);
  assert.equal(withoutPurpose({ ...update, event: 'Order Completed' } as never), undefined);
  assert.equal(withoutPurpose({ ...update, type: 'identify' } as never), undefined);
});

test('anonymized removes every identifier and marks the event; the rest stays for analytics', () => {
  const e = { type: 'track', event: 'Viewed', messageId: 'm1', userId: 'ada', anonymousId: 'a1', previousId: 'old', properties: { sku: 'x1' }, traits: { email: 'ada@example.com' }, context: { ip: '203.0.113.9', traits: { email: 'ada@example.com' }, page: { path: '/shoes' }, userAgent: 'UA' } };
  const out = anonymized(e as never) as unknown as Record<string, unknown> & { context: Record<string, unknown> };
  assert.deepEqual([out.userId, out.anonymousId, out.previousId, out.traits, out.context.ip, out.context.traits], [undefined, undefined, undefined, {}, undefined, undefined]);
  assert.deepEqual([out.properties, out.context.page, out.context.userAgent], [{ sku: 'x1' }, { path: '/shoes' }, 'UA']);
  assert.equal(isAnonymized(out as never), true);
  assert.equal(isAnonymized(e as never), false);
  assert.equal(e.userId, 'ada', 'the input is not changed');
});
