import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { consentGranted, matchesFilter, matchesWhere, overFrequencyCap, propertyAt, quietHoursWaitMs, requiredConsent, timeZoneOf, validTimeZone, variantFor, zoneOffsetMs } from './policy.ts';

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('variantFor', () => {
  const variants = [
    { name: 'a', weight: 50 },
    { name: 'b', weight: 50 },
  ];

  test('is deterministic per activation and profile', () => {
    for (let i = 0; i < 50; i++) assert.deepEqual(variantFor('ns/act', `p-${i}`, variants, 10), variantFor('ns/act', `p-${i}`, variants, 10));
  });

  test('splits by weight and holds out the given percent', () => {
    const counts: Record<string, number> = { a: 0, b: 0, holdout: 0 };
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const r = variantFor('ns/act', `p-${i}`, [{ name: 'a', weight: 75 }, { name: 'b', weight: 25 }], 10);
      counts[r.holdout ? 'holdout' : r.variant]!++;
    }
    assert.ok(Math.abs(counts.holdout! / n - 0.1) < 0.01, `holdout ${counts.holdout}`);
    assert.ok(Math.abs(counts.a! / (n - counts.holdout!) - 0.75) < 0.02, `a ${counts.a}`);
  });

  test('another activation assigns independently; no variants gives ""', () => {
    const same = Array.from({ length: 200 }, (_, i) => variantFor('ns/x', `p-${i}`, variants).variant === variantFor('ns/y', `p-${i}`, variants).variant).filter(Boolean).length;
    assert.ok(same > 60 && same < 140, `agreement ${same}/200 looks independent`);
    assert.deepEqual(variantFor('ns/x', 'p', undefined, 0), { variant: '', holdout: false });
    assert.deepEqual(variantFor('ns/x', 'p', [], 50).variant, '');
  });
});

describe('quiet hours', () => {
  const night = { start: '21:00', end: '08:00' };

  test('outside quiet hours nothing waits', () => {
    assert.equal(quietHoursWaitMs(at('2026-06-01T12:00:00Z'), night, 'UTC'), 0);
    assert.equal(quietHoursWaitMs(at('2026-06-01T20:59:00Z'), night, 'UTC'), 0);
    assert.equal(quietHoursWaitMs(at('2026-06-01T08:00:00Z'), night, 'UTC'), 0);
  });

  test('inside quiet hours across midnight waits until the end', () => {
    assert.equal(quietHoursWaitMs(at('2026-06-01T21:00:00Z'), night, 'UTC'), 11 * 60 * MIN);
    assert.equal(quietHoursWaitMs(at('2026-06-01T23:30:00Z'), night, 'UTC'), 8.5 * 60 * MIN);
    assert.equal(quietHoursWaitMs(at('2026-06-02T07:59:00Z'), night, 'UTC'), MIN);
  });

  test('in the person\'s time zone', () => {
    // 19:30 UTC is 21:30 in Berlin (CEST, +2): quiet until 08:00 local = 06:00 UTC.
    assert.equal(quietHoursWaitMs(at('2026-06-01T19:30:00Z'), night, 'Europe/Berlin'), at('2026-06-02T06:00:00Z') - at('2026-06-01T19:30:00Z'));
    // 03:00 UTC is 23:00 the day before in New York (EDT, -4).
    assert.equal(quietHoursWaitMs(at('2026-06-01T03:00:00Z'), night, 'America/New_York'), at('2026-06-01T12:00:00Z') - at('2026-06-01T03:00:00Z'));
    assert.equal(quietHoursWaitMs(at('2026-06-01T12:00:00Z'), night, 'Asia/Tokyo'), 11 * 60 * MIN, '21:00 in Tokyo starts quiet hours');
    assert.equal(quietHoursWaitMs(at('2026-06-01T11:59:00Z'), night, 'Asia/Tokyo'), 0);
  });

  test('a daytime window and an empty one', () => {
    assert.equal(quietHoursWaitMs(at('2026-06-01T13:00:00Z'), { start: '12:00', end: '14:00' }, 'UTC'), 60 * MIN);
    assert.equal(quietHoursWaitMs(at('2026-06-01T13:00:00Z'), { start: '12:00', end: '12:00' }, 'UTC'), 0);
  });

  test('a DST change during the night ends at the local end time', () => {
    // Europe/Berlin springs forward on 2026-03-29 at 02:00 local: 22:00 CET (21:00 UTC) → 08:00 CEST (06:00 UTC).
    const now = at('2026-03-28T21:00:00Z');
    assert.equal(now + quietHoursWaitMs(now, night, 'Europe/Berlin'), at('2026-03-29T06:00:00Z'));
    // and falls back on 2026-10-25: 22:00 CEST (20:00 UTC) → 08:00 CET (07:00 UTC).
    const fall = at('2026-10-24T20:00:00Z');
    assert.equal(fall + quietHoursWaitMs(fall, night, 'Europe/Berlin'), at('2026-10-25T07:00:00Z'));
  });

  test('offsets and zone choice', () => {
    assert.equal(zoneOffsetMs(at('2026-01-15T12:00:00Z'), 'Europe/Berlin'), 60 * MIN);
    assert.equal(zoneOffsetMs(at('2026-07-15T12:00:00Z'), 'Europe/Berlin'), 120 * MIN);
    assert.ok(validTimeZone('Asia/Kolkata'));
    assert.ok(!validTimeZone('Mars/Olympus'));
    const q = { ...night, timeZoneTrait: 'tz', defaultTimeZone: 'Europe/Paris' };
    assert.equal(timeZoneOf({ tz: 'Asia/Tokyo' }, q), 'Asia/Tokyo');
    assert.equal(timeZoneOf({ tz: 'Nowhere/Land' }, q, 'America/Chicago'), 'America/Chicago');
    assert.equal(timeZoneOf({}, q), 'Europe/Paris');
    assert.throws(() => quietHoursWaitMs(0, { start: '25:00', end: '08:00' }, 'UTC'), /spec\.quietHours\.start: "25:00" is not a time of day/);
  });
});

describe('consent', () => {
  test('the profile decides, in the shapes people store it', () => {
    assert.equal(consentGranted({ consent: { marketing: true } }, 'marketing'), true);
    assert.equal(consentGranted({ consent: { marketing: 'granted' } }, 'marketing'), true);
    assert.equal(consentGranted({ consent: { categoryPreferences: { marketing: true } } }, 'marketing'), true);
    assert.equal(consentGranted({ consent_marketing: 'yes' }, 'marketing'), true);
    assert.equal(consentGranted({ consent: { marketing: false } }, 'marketing', { categoryPreferences: { marketing: true } }), false, 'a revoked consent on the profile wins over the event');
  });

  test('silence is no consent; the event speaks only when the profile is silent', () => {
    assert.equal(consentGranted({}, 'marketing'), false);
    assert.equal(consentGranted({ consent: { analytics: true } }, 'marketing'), false);
    assert.equal(consentGranted({}, 'marketing', { categoryPreferences: { marketing: true } }), true);
    assert.equal(consentGranted({ consent: 'yes' }, 'marketing'), false);
  });

  test('frequency cap', () => {
    assert.equal(overFrequencyCap(0, { max: 1 }), false);
    assert.equal(overFrequencyCap(1, { max: 1 }), true);
    assert.equal(overFrequencyCap(5, undefined), false);
  });
});

describe('trigger filters', () => {
  const props = { price: 25, sku: 'A-1', tags: ['red', 'sale'], cart: { total: '120.5', items: 3 }, 'a.b': 'dotted', empty: null };

  test('paths', () => {
    assert.equal(propertyAt(props, 'cart.total'), '120.5');
    assert.equal(propertyAt(props, 'a.b'), 'dotted');
    assert.equal(propertyAt(props, 'cart.missing'), undefined);
  });

  test('operators', () => {
    const ok = (f: Parameters<typeof matchesFilter>[1]) => matchesFilter(props, f);
    assert.ok(ok({ property: 'price', op: 'gte', value: 20 }));
    assert.ok(!ok({ property: 'price', op: 'gt', value: 25 }));
    assert.ok(ok({ property: 'cart.total', op: 'gt', value: 100 }), 'numeric strings compare as numbers');
    assert.ok(ok({ property: 'sku', op: 'eq', value: 'A-1' }));
    assert.ok(ok({ property: 'sku', op: 'neq', value: 'B' }));
    assert.ok(ok({ property: 'sku', op: 'in', value: ['A-1', 'B-2'] }));
    assert.ok(!ok({ property: 'sku', op: 'in', value: 'A-1' }), 'in needs a list');
    assert.ok(ok({ property: 'sku', op: 'contains', value: 'A-' }));
    assert.ok(ok({ property: 'tags', op: 'contains', value: 'sale' }));
    assert.ok(ok({ property: 'sku', op: 'exists' }));
    assert.ok(!ok({ property: 'empty', op: 'exists' }));
    assert.ok(!ok({ property: 'nope', op: 'eq', value: undefined }));
    assert.ok(!ok({ property: 'price', op: 'lt', value: 'abc' }));
    assert.ok(matchesWhere(props, [{ property: 'price', op: 'gte', value: 20 }, { property: 'sku', op: 'exists' }]));
    assert.ok(!matchesWhere(props, [{ property: 'price', op: 'gte', value: 20 }, { property: 'nope', op: 'exists' }]));
    assert.ok(matchesWhere(props, undefined));
  });
});

test('requiredConsent: the Activation\'s own category, else the namespace default (marketing once declared), else none', () => {
  assert.equal(requiredConsent({ consent: { category: 'sms' } }, 'marketing'), 'sms');
  assert.equal(requiredConsent({}, 'marketing'), 'marketing');
  assert.equal(requiredConsent({}), undefined);
});
