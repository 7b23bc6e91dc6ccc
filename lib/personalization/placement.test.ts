import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Personalization } from '../../api/v1alpha1/personalization.ts';
import { UNKNOWN_VISITOR, type DecisionProfile } from './predicate.ts';
import { bucketOf, choose, compilePlacement, render } from './placement.ts';

const resource = (spec: Partial<Personalization['spec']>): Personalization => ({
  apiVersion: 'uspa.tech/v1alpha1', kind: 'Personalization', metadata: { name: 'home-hero', generation: 3 },
  spec: { variants: [{ name: 'shoes', rule: { interest: 'shoes', op: 'gte', value: 0.6 }, content: 'Shoes for {{ traits.name }}' }, { name: 'default', content: 'Welcome' }], fallback: { content: 'Hello' }, ...spec },
});
const shoeLover: DecisionProfile = { ...UNKNOWN_VISITOR, traits: { name: '<b>Ada</b>' }, interests: { shoes: 0.8 } };

test('firstMatch: the first matching variant; an unknown visitor gets the default path', () => {
  const { placement, problems } = compilePlacement(resource({}));
  assert.deepEqual(problems, []);
  assert.equal(choose(placement!, shoeLover, 'anonymousId:a', true).arm, 'shoes');
  const unknown = choose(placement!, UNKNOWN_VISITOR, 'anonymousId:b', true);
  assert.deepEqual([unknown.arm, unknown.reason], ['default', 'matched']);
  assert.equal(render(placement!.variants[0]!.template, { traits: shoeLover.traits }), 'Shoes for &lt;b&gt;Ada&lt;/b&gt;', 'values are HTML-escaped');
});

test('no consent, suspended and no match give the fallback; holdout gives the control arm, sticky per identity', () => {
  const { placement } = compilePlacement(resource({ variants: [{ name: 'shoes', rule: { interest: 'shoes', op: 'gte', value: 0.6 }, content: 'x' }], holdoutPercent: 20 }));
  assert.equal(choose(placement!, shoeLover, 'anonymousId:a', false).reason, 'no consent');
  const arms = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const c = choose(placement!, shoeLover, `anonymousId:v${i}`, true);
    arms.set(c.arm, (arms.get(c.arm) ?? 0) + 1);
    assert.equal(choose(placement!, shoeLover, `anonymousId:v${i}`, true).arm, c.arm, 'the same visitor gets the same arm');
  }
  const held = arms.get('(holdout)') ?? 0;
  assert.ok(held > 300 && held < 500, `about 20% held out (got ${held} of 2000)`);
  assert.equal(choose(placement!, UNKNOWN_VISITOR, 'anonymousId:zz-not-held', true).arm === 'shoes', false);
  const off = compilePlacement(resource({ suspend: true })).placement!;
  assert.equal(choose(off, shoeLover, 'anonymousId:a', true).reason, 'suspended');
});

test('split: weights among the matching variants, deterministic', () => {
  const { placement } = compilePlacement(resource({ strategy: 'split', variants: [{ name: 'a', content: 'A', weight: 3 }, { name: 'b', content: 'B', weight: 1 }, { name: 'vip', rule: { segment: 'vip' }, content: 'V', weight: 100 }] }));
  let a = 0;
  for (let i = 0; i < 4000; i++) if (choose(placement!, UNKNOWN_VISITOR, `userId:${i}`, true).arm === 'a') a++;
  assert.ok(a > 2800 && a < 3200, `about 3 in 4 get a (got ${a} of 4000)`);
  assert.equal(bucketOf('split', 'home-hero', 'userId:1'), bucketOf('split', 'home-hero', 'userId:1'));
  assert.notEqual(bucketOf('split', 'home-hero', 'userId:1'), bucketOf('split', 'other', 'userId:1'));
});

test('problems name the field: bad rules, event windows, unknown variables, bad liquid, duplicate names', () => {
  const { placement, problems } = compilePlacement(resource({
    variants: [
      { name: 'a', rule: { trait: 'plan', op: 'bogus' }, content: '{{ secrets.key }}' },
      { name: 'a', rule: { event: 'Order Completed', within: '7d' }, content: '{% if %}' },
    ],
    fallback: { content: '{{ traits.name | nosuchfilter }}' },
  }));
  assert.equal(placement, undefined);
  const joined = problems.join('\n');
  assert.match(joined, /spec\.variants\[0\]\.rule\.op: unknown operator "bogus"/);
  assert.match(joined, /spec\.variants\[0\]\.content: unknown variable "secrets"/);
  assert.match(joined, /spec\.variants\[1\]\.name: "a" is used by an earlier variant/);
  assert.match(joined, /spec\.variants\[1\]\.rule\.within: decisions are made in memory/);
  assert.match(joined, /spec\.variants\[1\]\.content: /);
  assert.match(joined, /spec\.fallback\.content: .*nosuchfilter/);
});

test('a template cannot read files of the API machine, nor run without limit', () => {
  const { problems } = compilePlacement(resource({ variants: [{ name: 'x', content: "{% include '/etc/hostname' %}" }] }));
  assert.match(problems.join(), /spec\.variants\[0\]\.content: .*Failed to lookup "\/etc\/hostname"/);
  const { placement } = compilePlacement(resource({ variants: [{ name: 'x', content: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }] }));
  assert.throws(() => render(placement!.variants[0]!.template, {}), /limit/i);
});
