import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEGMENT_TABLES } from '../../api/tables/segments.ts';
import { compileSegment, quoteString } from './compile.ts';
import { RuleValidationError, type Rule } from './rules.ts';

const NS = { namespace: 'shop' };

/** Values an attacker might put in a rule. */
const HOSTILE = [
  "' OR 1=1 --",
  "\\' OR 1=1 --",
  'back\\slash\\',
  '{p0:String}',
  '{db}.profiles',
  '}); DROP TABLE profiles; --',
  'Ünïcödé 😀 ‮',
  'nul\0byte',
  "a') OR ('1'='1",
  'line\nbreak\ttab\rcr',
  '`backtick` "double"',
];

/** The only string literals the compiler itself writes. */
const COMPILER_LITERALS = new Set(["'String'", "'Int64'", "'UInt64'", "'Double'", "'Null'", "'Bool'", "'Array'", "'Array(Nullable(String))'", "'UTC'", "'^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"]);
const PLACEHOLDER = /\{p[0-9]+:(String|Float64|UInt64|UInt8|Array\(String\)|Array\(Float64\)|Array\(UInt8\)|DateTime64\(3, 'UTC'\))\}/g;

/** The SQL holds nothing but compiler text: placeholders, {db}, allow-listed literals. */
function assertOnlyCompilerText(sql: string): void {
  const bare = sql.replace(PLACEHOLDER, '').replaceAll('{db}', '');
  assert.ok(!/[{}]/.test(bare), `no braces left besides placeholders and {db}:\n${sql}`);
  for (const literal of bare.match(/'[^']*'/g) ?? []) assert.ok(COMPILER_LITERALS.has(literal), `unexpected literal ${literal}`);
  assert.ok(/^[\x20-\x7e\n]*$/.test(sql), 'plain ASCII');
  assert.ok(!/--|\/\*|;|`|"|\\/.test(sql), 'no comments, statement separators, other quotes or escapes');
}

describe('compileSegment', () => {
  test('SELECT profile_id of current profiles, {db}, query parameters', () => {
    const c = compileSegment({ trait: 'plan', op: 'eq', value: 'pro' }, NS);
    assert.equal(
      c.sql,
      [
        'SELECT profile_id',
        'FROM {db}.profiles FINAL',
        'WHERE deleted = 0',
        "  AND (JSONType(traits, {p0:String}) = 'String' AND JSONExtractString(traits, {p0:String}) = {p1:String})",
      ].join('\n'),
    );
    assert.deepEqual(c.params, { p0: 'plan', p1: 'pro' });
    assert.equal(c.display, c.sql.replaceAll('{p0:String}', "'plan'").replaceAll('{p1:String}', "'pro'"));
  });

  test('trait operators pick the typed extraction and parameter types', () => {
    const sql = (rule: Rule) => compileSegment(rule, NS);
    let c = sql({ trait: 'address.city', op: 'in', value: ['Lyon', 'Paris', 'Lyon'] });
    assert.match(c.sql, /JSONExtractString\(traits, \{p0:String\}, \{p1:String\}\) IN \{p2:Array\(String\)\}/);
    assert.deepEqual(c.params, { p0: 'address', p1: 'city', p2: ['Lyon', 'Paris'] });

    c = sql({ trait: 'age', op: 'in', value: [18, 'x', true] });
    assert.match(c.sql, /IN \{p1:Array\(String\)\}.* OR ifNull\(multiIf\(.*\) IN \{p2:Array\(Float64\)\}, 0\) OR .*JSONExtractBool\(traits, \{p0:String\}\) IN \{p3:Array\(UInt8\)\}/);
    assert.deepEqual(c.params, { p0: 'age', p1: ['x'], p2: [18], p3: [1] });

    c = sql({ trait: 'age', op: 'gte', value: 21 });
    assert.match(c.sql, /ifNull\(multiIf\(JSONType\(traits, \{p0:String\}\) IN \('Int64', 'UInt64', 'Double'\), JSONExtractFloat\(traits, \{p0:String\}\), .*toFloat64OrNull.*\) >= \{p1:Float64\}, 0\)/);

    c = sql({ trait: 'signup', op: 'lt', value: '2026-02-01T10:00:00+01:00' });
    assert.match(c.sql, /parseDateTime64BestEffortOrNull\(JSONExtractString\(traits, \{p0:String\}\), 3, 'UTC'\), NULL\) < \{p1:DateTime64\(3, 'UTC'\)\}, 0\)/);
    assert.deepEqual(c.params, { p0: 'signup', p1: '2026-02-01 09:00:00.000' });

    c = sql({ trait: 'age', op: 'between', value: [18, 65] });
    assert.match(c.sql, /BETWEEN \{p1:Float64\} AND \{p2:Float64\}, 0\)/);

    c = sql({ trait: 'tags', op: 'contains', value: 'vip' });
    assert.match(c.sql, /position\(JSONExtractString\(traits, \{p0:String\}\), \{p1:String\}\) > 0, JSONType\(traits, \{p0:String\}\) = 'Array', has\(JSONExtract\(traits, \{p0:String\}, 'Array\(Nullable\(String\)\)'\), \{p1:String\}\)/);

    assert.match(sql({ trait: 'email', op: 'exists' }).sql, /AND JSONType\(traits, \{p0:String\}\) != 'Null'$/);
    assert.match(sql({ trait: 'email', op: 'exists', value: false }).sql, /AND JSONType\(traits, \{p0:String\}\) = 'Null'$/);
    assert.match(sql({ trait: 'newsletter', op: 'eq', value: false }).sql, /JSONType\(traits, \{p0:String\}\) = 'Bool' AND JSONExtractBool\(traits, \{p0:String\}\) = \{p1:UInt8\}/);
    assert.match(sql({ trait: 'plan', op: 'neq', value: 'pro' }).sql, /\(JSONType\(traits, \{p0:String\}\) != 'Null' AND NOT \(JSONType/);
  });

  test('profile columns come from the allow-list', () => {
    let c = compileSegment({ profile: 'lifetime_revenue', op: 'gt', value: 100 }, NS);
    assert.match(c.sql, /AND lifetime_revenue > \{p0:Float64\}$/);
    c = compileSegment({ profile: 'rfm_recency', op: 'in', value: [4, 5] }, NS);
    assert.match(c.sql, /AND toFloat64\(rfm_recency\) IN \{p0:Array\(Float64\)\}$/);
    c = compileSegment({ profile: 'last_order_at', op: 'between', value: ['2026-01-01', '2026-02-01'] }, NS);
    assert.match(c.sql, /AND ifNull\(\(last_order_at BETWEEN \{p0:DateTime64\(3, 'UTC'\)\} AND \{p1:DateTime64\(3, 'UTC'\)\}\), 0\)$/);
    assert.match(compileSegment({ profile: 'last_order_at', op: 'exists', value: false }, NS).sql, /AND last_order_at IS NULL$/);
    assert.throws(() => compileSegment({ profile: 'deleted' } as unknown as Rule, NS), RuleValidationError);
  });

  test('event conditions: sets of profiles through the identity graph', () => {
    // Performed at least once: an IN set of identities, no counting.
    let c = compileSegment({ event: 'Order Completed', within: '30d' }, NS);
    assert.match(c.sql, /AND profile_id IN \(\n\s+SELECT m\.profile_id\n\s+FROM \{db\}\.identities AS m FINAL\n\s+WHERE m\.identity IN \(\n\s+SELECT identity\n\s+FROM \{db\}\.events\n\s+WHERE event = \{p0:String\}/);
    assert.match(c.sql, /timestamp >= now64\(3\) - toIntervalSecond\(\{p1:UInt64\}\)\n\s+AND timestamp <= now64\(3\)/);
    assert.deepEqual(c.params, { p0: 'Order Completed', p1: 2_592_000 });

    // Did not perform: the complement.
    c = compileSegment({ event: 'Order Completed', performed: false, within: '7d', where: [{ property: 'category', op: 'eq', value: 'shoes' }] }, NS);
    assert.match(c.sql, /AND profile_id NOT IN \(\n\s+SELECT m\.profile_id/);
    assert.match(c.sql, /AND \(JSONType\(properties, \{p2:String\}\) = 'String' AND JSONExtractString\(properties, \{p2:String\}\) = \{p3:String\}\)/);
    assert.deepEqual(c.params, { p0: 'Order Completed', p1: 604_800, p2: 'category', p3: 'shoes' });

    // Counting: events deduplicated with FINAL, grouped per identity, then per current profile.
    c = compileSegment({ event: 'Order Completed', atLeast: 2, atMost: 5, aggregate: { fn: 'sum', property: 'revenue', op: 'gt', value: 100 } }, NS);
    assert.match(c.sql, /SELECT identity, count\(\) AS n, sum\(v\) AS s\n\s+FROM \(\n\s+SELECT identity, multiIf\(JSONType\(properties, \{p3:String\}\) IN/);
    assert.match(c.sql, /FROM \{db\}\.events FINAL\n/);
    assert.match(c.sql, /INNER JOIN \{db\}\.identities AS m FINAL ON m\.identity = e\.identity\n\s+GROUP BY m\.profile_id\n\s+HAVING sum\(e\.n\) >= \{p1:UInt64\} AND sum\(e\.n\) <= \{p2:UInt64\} AND ifNull\(ifNull\(sum\(e\.s\), 0\) > \{p4:Float64\}, 0\)/);
    assert.deepEqual(c.params, { p0: 'Order Completed', p1: 2, p2: 5, p3: 'revenue', p4: 100 });

    const shape = (fn: 'avg' | 'min' | 'max' | 'count', property?: string) => {
      const sql = compileSegment({ event: 'x', aggregate: { fn, ...(property ? { property } : {}), op: 'gte', value: 1 } }, NS).sql;
      return [/SELECT identity, (count\(\) AS n.*)/.exec(sql)![1], / AS v\n/.test(sql) ? /SELECT identity, (.*) AS v\n/.exec(sql)![1] : '', /HAVING (.*)/.exec(sql)![1]];
    };
    const numeric = "multiIf(JSONType(properties, {p1:String}) IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(properties, {p1:String}), JSONType(properties, {p1:String}) = 'String', toFloat64OrNull(JSONExtractString(properties, {p1:String})), NULL)";
    assert.deepEqual(shape('avg', 'revenue'), ['count() AS n, sum(v) AS s, count(v) AS c', numeric, 'ifNull(sum(e.s) / sum(e.c) >= {p2:Float64}, 0)']);
    assert.deepEqual(shape('min', 'revenue'), ['count() AS n, min(v) AS lo', numeric, 'ifNull(min(e.lo) >= {p2:Float64}, 0)']);
    assert.deepEqual(shape('max', 'revenue'), ['count() AS n, max(v) AS hi', numeric, 'ifNull(max(e.hi) >= {p2:Float64}, 0)']);
    assert.deepEqual(shape('count', 'revenue'), ['count() AS n, countIf(v) AS c', "JSONType(properties, {p1:String}) != 'Null'", 'ifNull(sum(e.c) >= {p2:Float64}, 0)']);
    assert.deepEqual(shape('count'), ['count() AS n', '', 'ifNull(sum(e.n) >= {p1:Float64}, 0)']);

    // At most N times, including never.
    c = compileSegment({ event: 'x', atLeast: 0, atMost: 2 }, NS);
    assert.match(c.sql, /AND profile_id NOT IN \([\s\S]*HAVING sum\(e\.n\) > \{p1:UInt64\}\n/);
    assert.match(compileSegment({ event: 'x', atLeast: 0 }, NS).sql, /WHERE deleted = 0\n  AND 1$/);
  });

  test('a fixed now travels as a parameter', () => {
    const c = compileSegment({ event: 'x', within: '1h' }, { namespace: 'shop', now: new Date('2026-06-15T12:00:00Z') });
    assert.match(c.sql, /timestamp >= \{p0:DateTime64\(3, 'UTC'\)\} - toIntervalSecond\(\{p2:UInt64\}\)\n\s+AND timestamp <= \{p0:DateTime64\(3, 'UTC'\)\}/);
    assert.deepEqual(c.params, { p0: '2026-06-15 12:00:00.000', p1: 'x', p2: 3600 });
    assert.match(c.display, /timestamp >= toDateTime64\('2026-06-15 12:00:00\.000', 3, 'UTC'\) - toIntervalSecond\(3600\)/);
  });

  test('segment references: the latest computed version of <namespace>/<name>', () => {
    const c = compileSegment({ any: [{ segment: 'big-spenders' }, { not: { segment: 'churned' } }] }, { namespace: 'marketing' });
    assert.equal(
      c.sql,
      [
        'SELECT profile_id',
        'FROM {db}.profiles FINAL',
        'WHERE deleted = 0',
        '  AND (',
        '    profile_id IN (',
        '      SELECT profile_id',
        '      FROM {db}.segment_members',
        '      WHERE segment = {p0:String}',
        '        AND version = (SELECT max(version) FROM {db}.segment_versions WHERE segment = {p0:String})',
        '    )',
        '    OR NOT (',
        '      profile_id IN (',
        '        SELECT profile_id',
        '        FROM {db}.segment_members',
        '        WHERE segment = {p1:String}',
        '          AND version = (SELECT max(version) FROM {db}.segment_versions WHERE segment = {p1:String})',
        '      )',
        '    )',
        '  )',
      ].join('\n'),
    );
    assert.deepEqual(c.params, { p0: 'marketing/big-spenders', p1: 'marketing/churned' });
  });

  test('nested all/any/not keep their grouping', () => {
    const c = compileSegment(
      { all: [{ any: [{ trait: 'a', op: 'exists' }, { trait: 'b', op: 'exists' }] }, { not: { all: [{ trait: 'c', op: 'exists' }, { trait: 'd', op: 'exists' }] } }] },
      NS,
    );
    const t = (p: number) => `JSONType(traits, {p${p}:String}) != 'Null'`;
    assert.equal(c.sql.split('\n').slice(3).join('\n'), `  AND (\n    (\n      ${t(0)}\n      OR ${t(1)}\n    )\n    AND NOT (\n      (\n        ${t(2)}\n        AND ${t(3)}\n      )\n    )\n  )`);
  });

  test('hostile values appear only in params, never in the SQL', () => {
    const rulesWith = (h: string): Rule[] => [
      { trait: 'plan', op: 'eq', value: h },
      { trait: 'plan', op: 'neq', value: h },
      { trait: 'plan', op: 'in', value: [h, 'pro', 1] },
      { trait: 'tags', op: 'contains', value: h },
      { event: h },
      // A property string is a dotted path; [key] is that exact key whatever it contains.
      { event: h, atLeast: 2, within: '30d', where: [{ property: [h], op: 'eq', value: h }, { property: "a') OR ('1'='1", op: 'gt', value: 1 }], aggregate: { fn: 'sum', property: [h], op: 'gt', value: 1 } },
      { event: 'Order Completed', performed: false, where: [{ property: [h, 'x'], op: 'contains', value: h }] },
    ];
    const benign = compileSegment({ any: rulesWith('benign') }, NS);
    const c = compileSegment({ any: HOSTILE.flatMap(rulesWith) }, NS);
    assertOnlyCompilerText(c.sql);
    for (const h of HOSTILE) {
      const one = compileSegment({ any: rulesWith(h) }, NS);
      // Equal up to the numbering of parameters (equal values share one parameter).
      const shape = (sql: string) => sql.replace(/\{p[0-9]+:/g, '{p:');
      assert.equal(shape(one.sql), shape(benign.sql), `the SQL does not depend on ${JSON.stringify(h)}`);
      assert.ok(Object.values(one.params).some((v) => v === h || (Array.isArray(v) && v.includes(h))), `${JSON.stringify(h)} is a parameter`);
      if (!h.startsWith('{')) assert.ok(!c.sql.includes(h), `${JSON.stringify(h)} is not in the SQL`);
    }
    for (const fragment of ['1=1', "('1'", 'DROP', 'nul', 'back', 'Ü']) assert.ok(!c.sql.includes(fragment), fragment);

    // In display every value is one quoted literal: outside the quotes there is only compiler text.
    const outside = c.display.replace(/'(?:[^'\\]|\\.)*'/g, "'String'").replace(/toDateTime64\('String', 3, 'String'\)/g, '');
    assertOnlyCompilerText(outside.replace(/\b[0-9]+(\.[0-9]+)?\b/g, '0'));
    assert.ok(c.display.includes(quoteString("' OR 1=1 --")));
    assert.ok(!c.display.includes('{p'), 'every placeholder is inlined');
  });

  test('quoteString escapes quotes, backslashes, control characters and braces', () => {
    assert.equal(quoteString("' OR 1=1 --"), "'\\' OR 1=1 --'");
    assert.equal(quoteString('a\\b'), "'a\\\\b'");
    assert.equal(quoteString('{p0:String}'), "'\\x7Bp0:String\\x7D'");
    assert.equal(quoteString('nul\0\n\t\r\x7f'), "'nul\\x00\\n\\t\\r\\x7F'");
    assert.equal(quoteString('Ünï 😀'), "'Ünï 😀'");
  });

  test('the rule and the namespace are validated', () => {
    assert.throws(() => compileSegment({ trait: "a') OR ('1'='1", op: 'exists' }, NS), (err: unknown) => err instanceof RuleValidationError && err.errors[0]!.path === 'rule.trait');
    assert.throws(() => compileSegment({ trait: 'plan', op: 'equals' } as unknown as Rule, NS), RuleValidationError);
    assert.throws(() => compileSegment({ segment: 'a' }, { namespace: "x' OR 1=1" }), /is not a Kubernetes namespace name/);
    assert.throws(() => compileSegment({ segment: 'a' }, { namespace: 'shop', now: new Date('nope') }), /invalid Date/);
  });

  test('SEGMENT_TABLES are idempotent CREATEs in {db}', () => {
    assert.equal(SEGMENT_TABLES.length, 2);
    for (const s of SEGMENT_TABLES) assert.match(s, /^CREATE TABLE IF NOT EXISTS \{db\}\.segment_(versions|members) \(/);
  });
});

describe('interest conditions', () => {
  test('read the interests map by the normalized key, as parameters; absent is no interest', () => {
    const c = compileSegment({ interest: ' Shoes ', op: 'gte', value: 0.6 }, NS);
    assert.match(c.sql, /mapContains\(interests, \{p0:String\}\) AND interests\[\{p0:String\}\] >= \{p1:Float64\}/);
    assert.deepEqual(c.params, { p0: 'shoes', p1: 0.6 });
    assert.match(compileSegment({ interest: 'hats', op: 'exists', value: false }, NS).sql, /NOT mapContains\(interests, \{p0:String\}\)/);
    for (const h of HOSTILE) assertOnlyCompilerText(compileSegment({ interest: h, op: 'between', value: [0, 1] }, NS).sql);
  });
});
