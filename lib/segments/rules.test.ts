import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  durationSeconds,
  findCycle,
  formatRuleError,
  isoDate,
  parseRule,
  referencedSegments,
  RuleValidationError,
  validateRule,
  type Rule,
} from './rules.ts';

const messages = (rule: unknown) => validateRule(rule).map(formatRuleError);

describe('validateRule', () => {
  test('accepts every kind of condition', () => {
    const rule = {
      all: [
        { any: [{ trait: 'plan', op: 'eq', value: 'pro' }, { trait: 'address.city', op: 'in', value: ['Lyon', 'Paris'] }] },
        { not: { event: 'Order Completed', performed: false, within: '7d' } },
        { trait: 'age', op: 'between', value: [18, 65] },
        { trait: 'signup', op: 'gte', value: '2026-01-31' },
        { trait: 'signup', op: 'between', value: ['2026-01-01T00:00:00Z', '2026-02-01T12:30:00+02:00'] },
        { trait: 'tags', op: 'contains', value: 'vip' },
        { trait: 'email', op: 'exists' },
        { trait: 'phone', op: 'exists', value: false },
        { trait: 'newsletter', op: 'neq', value: true },
        { profile: 'lifetime_revenue', op: 'gt', value: 100 },
        { profile: 'rfm_recency', op: 'in', value: [4, 5] },
        { profile: 'last_order_at', op: 'exists', value: false },
        { profile: 'first_seen', op: 'between', value: ['2026-01-01', '2026-12-31'] },
        {
          event: 'Order Completed',
          atLeast: 2,
          atMost: 10,
          within: '30d',
          where: [{ property: 'category', op: 'eq', value: 'shoes' }, { property: ['a.b', 'c'], op: 'exists' }],
          aggregate: { fn: 'sum', property: 'revenue', op: 'gt', value: 500 },
        },
        { event: 'Product Viewed', aggregate: { fn: 'count', op: 'gte', value: 3 } },
        { event: 'Signed Up', atLeast: 0, atMost: 0 },
        { segment: 'big-spenders' },
      ],
    };
    assert.deepEqual(validateRule(rule), []);
    assert.equal(parseRule(rule), rule);
  });

  test('names the path and the problem', () => {
    assert.deepEqual(messages({ all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { trait: 'plan', op: 'equals', value: 'pro' }] }), [
      'rule.all[1].op: unknown operator "equals" (expected one of eq, neq, gt, gte, lt, lte, in, contains, exists, between)',
    ]);
    assert.deepEqual(messages({ any: [{ trait: 'age', op: 'between', value: 18 }] }), ['rule.any[0].value: "between" needs [low, high] (got number 18)']);
    assert.deepEqual(messages({ any: [{ trait: 'age', op: 'between', value: [65, 18] }] }), ['rule.any[0].value: "between" needs low ≤ high (got [65,18])']);
    assert.deepEqual(messages({ trait: 'age', op: 'between', value: [1, '2026-01-01'] }), ['rule.value: "between" needs [low, high] of two numbers or two ISO dates (got [1,"2026-01-01"])']);
    assert.deepEqual(messages({ event: 42 }), ['rule.event: expected a string (got number 42)']);
    assert.deepEqual(messages({ event: '' }), ['rule.event: must not be empty']);
    assert.deepEqual(messages({ trait: 'plan' }), ['rule.op: is required (one of eq, neq, gt, gte, lt, lte, in, contains, exists, between)']);
    assert.deepEqual(messages({ trait: 'plan', op: 'eq' }), ['rule.value: "eq" needs a value']);
    assert.deepEqual(messages({ trait: 'plan', op: 'eq', value: null }), ['rule.value: "eq" needs a string, number or boolean (got null)']);
    assert.deepEqual(messages({ trait: 'plan', op: 'eq', value: { a: 1 } }), ['rule.value: "eq" needs a string, number or boolean (got an object)']);
    assert.deepEqual(messages({ trait: 'age', op: 'gt', value: 'soon' }), [
      'rule.value: "gt" needs a number or an ISO date like 2026-01-31 or 2026-01-31T12:00:00Z (got string "soon")',
    ]);
    assert.deepEqual(messages({ trait: 'age', op: 'lt', value: '2026-02-30' }), [
      'rule.value: "lt" needs a number or an ISO date like 2026-01-31 or 2026-01-31T12:00:00Z (got string "2026-02-30")',
    ]);
    assert.deepEqual(messages({ trait: 'plan', op: 'in', value: [] }), ['rule.value: "in" needs a non-empty array of strings, numbers or booleans (got an array)']);
    assert.deepEqual(messages({ trait: 'plan', op: 'in', value: ['a', null, ['b']] }), [
      'rule.value[1]: expected a string, number or boolean (got null)',
      'rule.value[2]: expected a string, number or boolean (got an array)',
    ]);
    assert.deepEqual(messages({ trait: 'tags', op: 'contains', value: 3 }), ['rule.value: "contains" needs a string (got number 3)']);
    assert.deepEqual(messages({ trait: 'tags', op: 'contains' }), ['rule.value: "contains" needs a string (got nothing)']);
    assert.deepEqual(messages({ trait: 'email', op: 'exists', value: 'yes' }), ['rule.value: "exists" takes no value (or false for "does not exist"; got string "yes")']);
  });

  test('trait paths: names joined by dots, at most 8 deep', () => {
    assert.deepEqual(messages({ trait: 'address.city', op: 'exists' }), []);
    assert.deepEqual(messages({ trait: 'a.b.c.d.e.f.g.h', op: 'exists' }), []);
    assert.deepEqual(messages({ trait: 'a.b.c.d.e.f.g.h.i', op: 'exists' }), ['rule.trait: trait path is 9 levels deep (at most 8)']);
    for (const bad of ['', '1st', 'a..b', 'a.', 'first name', "a') OR ('1'='1", 'plan-type']) {
      assert.deepEqual(messages({ trait: bad, op: 'exists' }), [
        `rule.trait: ${JSON.stringify(bad)} is not a trait path (names of letters, digits and _ not starting with a digit, joined by dots)`,
      ]);
    }
    assert.deepEqual(messages({ trait: ['plan'], op: 'exists' }), ['rule.trait: expected a string (got an array)']);
  });

  test('unknown keys, ambiguous and shapeless rules', () => {
    assert.deepEqual(messages({ trait: 'plan', op: 'eq', value: 'pro', name: 'x' }), ['rule.name: unknown key (expected trait, op, value)']);
    assert.deepEqual(messages({ all: [{ segment: 'a' }], where: [] }), ['rule.where: unknown key (expected all)']);
    assert.deepEqual(messages({ trait: 'plan', event: 'x', op: 'eq', value: 1 }), ['rule: a rule is exactly one of all, any, not, trait, profile, event, segment, interest, got trait, event: combine them with all or any']);
    assert.deepEqual(messages({ name: 'plan', op: 'eq' }), ['rule: expected one of all, any, not, trait, profile, event, segment, interest (got keys "name", "op")']);
    assert.deepEqual(messages('plan = pro'), ['rule: expected an object with one of all, any, not, trait, profile, event, segment, interest (got string "plan = pro")']);
    assert.deepEqual(messages(null), ['rule: expected an object with one of all, any, not, trait, profile, event, segment, interest (got null)']);
    assert.deepEqual(messages({ all: [[]] }), ['rule.all[0]: expected an object with one of all, any, not, trait, profile, event, segment, interest (got an array)']);
  });

  test('all/any must be non-empty arrays', () => {
    assert.deepEqual(messages({ all: [] }), ['rule.all: must not be empty']);
    assert.deepEqual(messages({ not: { any: [] } }), ['rule.not.any: must not be empty']);
    assert.deepEqual(messages({ any: { trait: 'plan', op: 'exists' } }), ['rule.any: expected an array of rules (got an object)']);
  });

  test('every problem is reported, not just the first', () => {
    assert.deepEqual(
      messages({
        all: [
          { trait: 'plan', op: 'equals', value: 'pro' },
          { event: 'Order Completed', atLeast: -1, within: '30 days', where: [{ property: '', op: 'gt', value: 'x' }] },
          { segment: 'Big_Spenders' },
          { profile: 'revenue', op: 'gt', value: 1 },
        ],
      }),
      [
        'rule.all[0].op: unknown operator "equals" (expected one of eq, neq, gt, gte, lt, lte, in, contains, exists, between)',
        'rule.all[1].atLeast: expected a whole number from 0 to 1000000000 (got number -1)',
        'rule.all[1].within: expected a duration like 30d: a whole number followed by s, m, h, d or w (got string "30 days")',
        'rule.all[1].where[0].property: must not be empty',
        'rule.all[1].where[0].value: "gt" needs a number or an ISO date like 2026-01-31 or 2026-01-31T12:00:00Z (got string "x")',
        'rule.all[2].segment: "Big_Spenders" is not a segment name (lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit, at most 253 characters)',
        'rule.all[3].profile: unknown profile field "revenue" (expected one of first_seen, last_seen, event_count, lifetime_revenue, order_count, last_order_at, rfm_recency, rfm_frequency, rfm_monetary)',
      ],
    );
  });

  test('nesting deeper than 10 levels', () => {
    let rule: unknown = { trait: 'plan', op: 'exists' };
    for (let i = 0; i < 9; i++) rule = { not: rule };
    assert.deepEqual(messages(rule), [], '10 levels');
    assert.deepEqual(messages({ not: rule }), [`rule${'.not'.repeat(9)}.not: nested deeper than 10 levels`]);
    let wide: unknown = { segment: 'a' };
    for (let i = 0; i < 12; i++) wide = { all: [wide] };
    assert.deepEqual(messages(wide), [`rule${'.all[0]'.repeat(9)}.all: nested deeper than 10 levels`]);
  });

  test('more than 200 conditions', () => {
    const conditions = (n: number) => Array.from({ length: n }, (_, i) => ({ trait: `t${i}`, op: 'exists' }));
    assert.deepEqual(messages({ any: conditions(200) }), []);
    assert.deepEqual(messages({ any: conditions(201) }), ['rule: more than 200 conditions (201)']);
    // Event property filters count too.
    const where = Array.from({ length: 200 }, () => ({ property: 'p', op: 'exists' }));
    assert.deepEqual(messages({ event: 'x', where }), ['rule: more than 200 conditions (201)']);
  });

  test('profile fields: allow-listed columns, operators and values by column type', () => {
    assert.deepEqual(messages({ profile: 'lifetime_revenue', op: 'contains', value: '1' }), [
      'rule.op: "contains" does not apply to profile field "lifetime_revenue" (expected one of eq, neq, gt, gte, lt, lte, in, between)',
    ]);
    assert.deepEqual(messages({ profile: 'first_seen', op: 'exists' }), [
      'rule.op: "exists" does not apply to profile field "first_seen" (expected one of eq, neq, gt, gte, lt, lte, between)',
    ]);
    assert.deepEqual(messages({ profile: 'lifetime_revenue', op: 'gt', value: '100' }), ['rule.value: "lifetime_revenue" is a number: "gt" needs a number (got string "100")']);
    assert.deepEqual(messages({ profile: 'last_seen', op: 'lt', value: 5 }), [
      'rule.value: "last_seen" is a date: "lt" needs an ISO date like 2026-01-31 or 2026-01-31T12:00:00Z (got number 5)',
    ]);
    assert.deepEqual(messages({ profile: 'order_count', op: 'in', value: [1, 'two'] }), ['rule.value[1]: expected a number (got string "two")']);
    assert.deepEqual(messages({ profile: 'order_count', op: 'between', value: [5, 1] }), ['rule.value: "between" needs low ≤ high (got [5,1])']);
    assert.deepEqual(messages({ profile: 'traits', op: 'exists' }).length, 1);
    assert.deepEqual(messages({ profile: 'last_order_at', op: 'exists' }), []);
  });

  test('event conditions', () => {
    assert.deepEqual(messages({ event: 'Order Completed', performed: false, within: '7d', atLeast: 2, aggregate: { fn: 'sum', property: 'revenue', op: 'gt', value: 1 } }), [
      'rule.atLeast: not allowed with performed: false',
      'rule.aggregate: not allowed with performed: false',
    ]);
    assert.deepEqual(messages({ event: 'x', performed: 'no' }), ['rule.performed: expected true or false (got string "no")']);
    assert.deepEqual(messages({ event: 'x', atLeast: 3, atMost: 2 }), ['rule.atMost: must be ≥ atLeast (3)']);
    assert.deepEqual(messages({ event: 'x', atMost: 0 }), ['rule.atMost: must be ≥ atLeast (1 by default)']);
    assert.deepEqual(messages({ event: 'x', atLeast: 1.5 }), ['rule.atLeast: expected a whole number from 0 to 1000000000 (got number 1.5)']);
    assert.deepEqual(messages({ event: 'x', within: '0d' }), ['rule.within: expected a duration like 30d: a whole number followed by s, m, h, d or w (got string "0d")']);
    assert.deepEqual(messages({ event: 'x', within: '6000w' }), ['rule.within: at most 100 years']);
    assert.deepEqual(messages({ event: 'x', where: { category: 'shoes' } }), ['rule.where: expected an array of { property, op, value } (got an object)']);
    assert.deepEqual(messages({ event: 'x', where: [{ property: 'category', op: 'eq', value: 'shoes', trait: 'x' }] }), ['rule.where[0].trait: unknown key (expected property, op, value)']);
    assert.deepEqual(messages({ event: 'x', where: [{ property: 'a..b', op: 'exists' }] }), [
      'rule.where[0].property: "a..b" has an empty key between dots (use an array of keys for keys containing dots)',
    ]);
    assert.deepEqual(messages({ event: 'x', aggregate: { fn: 'median', property: 'revenue', op: 'above', value: '5', extra: 1 } }), [
      'rule.aggregate.extra: unknown key (expected fn, property, op, value)',
      'rule.aggregate.fn: unknown function "median" (expected one of sum, avg, min, max, count)',
      'rule.aggregate.op: unknown operator "above" (expected one of gt, gte, lt, lte, eq, neq)',
      'rule.aggregate.value: expected a number (got string "5")',
    ]);
    assert.deepEqual(messages({ event: 'x', aggregate: { fn: 'sum', op: 'gt', value: 5 } }), ['rule.aggregate.property: is required for "sum"']);
    assert.deepEqual(messages({ event: 'x', atLeast: 0, aggregate: { fn: 'count', op: 'gt', value: 5 } }), ['rule.atLeast: must be at least 1 with an aggregate']);
    // Event and property names are free text: they travel as query parameters.
    assert.deepEqual(messages({ event: "' OR 1=1 --", where: [{ property: "a') OR ('1'='1", op: 'eq', value: '\0' }] }), []);
  });

  test('segment references are Kubernetes names', () => {
    assert.deepEqual(messages({ segment: 'big-spenders.v2' }), []);
    assert.deepEqual(messages({ segment: 'shop/big' }).length, 1);
    assert.deepEqual(messages({ segment: 7 }), ['rule.segment: expected a string (got number 7)']);
  });

  test('parseRule throws a RuleValidationError carrying the list', () => {
    assert.throws(
      () => parseRule({ any: [{ trait: 'plan', op: 'equals' }, { event: 1 }] }),
      (err: unknown) => {
        assert.ok(err instanceof RuleValidationError);
        assert.deepEqual(err.errors.map((e) => e.path), ['rule.any[0].op', 'rule.any[1].event']);
        assert.match(err.message, /^rule\.any\[0\]\.op: unknown operator "equals" .*; rule\.any\[1\]\.event: expected a string/);
        return true;
      },
    );
  });
});

describe('helpers', () => {
  test('durationSeconds', () => {
    assert.equal(durationSeconds('45s'), 45);
    assert.equal(durationSeconds('30m'), 1800);
    assert.equal(durationSeconds('2h'), 7200);
    assert.equal(durationSeconds('30d'), 2_592_000);
    assert.equal(durationSeconds('1w'), 604_800);
    for (const bad of ['', '30', 'd', '0d', '-1d', '1.5d', '30 d', '30D', '1y']) assert.equal(durationSeconds(bad), undefined, bad);
  });

  test('isoDate → UTC DateTime64 text', () => {
    assert.equal(isoDate('2026-01-31'), '2026-01-31 00:00:00.000');
    assert.equal(isoDate('2026-01-31T12:30'), '2026-01-31 12:30:00.000');
    assert.equal(isoDate('2026-01-31T12:30:15.5Z'), '2026-01-31 12:30:15.500');
    assert.equal(isoDate('2026-01-31T01:00:00+02:00'), '2026-01-30 23:00:00.000');
    assert.equal(isoDate('2026-01-31 01:00:00-0130'), '2026-01-31 02:30:00.000');
    for (const bad of ['2026-02-29', '2026-13-01', '2026-01-31T24:00', '31/01/2026', '2026-1-31', 'now', '1800-01-01']) assert.equal(isoDate(bad), undefined, bad);
  });

  test('referencedSegments', () => {
    const rule: Rule = { all: [{ segment: 'a' }, { not: { any: [{ segment: 'b' }, { trait: 'x', op: 'exists' }, { segment: 'a' }] } }] };
    assert.deepEqual(referencedSegments(rule), ['a', 'b']);
    assert.deepEqual(referencedSegments({ event: 'x' }), []);
  });

  test('findCycle', () => {
    assert.equal(findCycle(new Map()), undefined);
    assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), undefined);
    assert.equal(findCycle(new Map([['a', ['x']]])), undefined, 'unknown names are leaves');
    assert.deepEqual(findCycle(new Map([['a', ['a']]])), ['a', 'a']);
    assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['a']]])), ['a', 'b', 'a']);
    assert.deepEqual(findCycle(new Map([['root', ['a']], ['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
    // A diamond is not a cycle.
    assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['d']], ['c', ['d']], ['d', []]])), undefined);
  });
});

describe('interest conditions', () => {
  test('a share from 0 to 1 with gt, gte, lt, lte, between or exists', () => {
    assert.deepEqual(messages({ interest: 'shoes', op: 'gte', value: 0.6 }), []);
    assert.deepEqual(messages({ interest: 'Running Shoes', op: 'between', value: [0.2, 0.5] }), []);
    assert.deepEqual(messages({ interest: 'hats', op: 'exists' }), []);
    assert.deepEqual(messages({ interest: 'shoes', op: 'gte', value: 60 }), ['rule.value: an interest is a share from 0 to 1: "gte" needs a number from 0 to 1 (got number 60)']);
    assert.deepEqual(messages({ interest: 'shoes', op: 'eq', value: 0.5 }), ['rule.op: unknown operator "eq" (expected one of gt, gte, lt, lte, between, exists)']);
    assert.deepEqual(messages({ interest: '', op: 'exists' }), ['rule.interest: expected a non-empty string: a category word, tag or page topic (got string "")']);
    assert.deepEqual(messages({ interest: 'x', op: 'between', value: [0.9, 0.1] }), ['rule.value: "between" needs low ≤ high (got [0.9,0.1])']);
  });
});
